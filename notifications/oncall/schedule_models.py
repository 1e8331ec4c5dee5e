"""On-call schedules: layers of rotations, overrides, shift swaps, calendar feeds.

The model follows PagerDuty's (and Grafana OnCall's, Opsgenie's): a schedule has
layers; each layer is a rotation of ordered participants who take turns of a
fixed length from a hand-off time in the schedule's time zone, optionally only
inside restriction windows (weekdays 09:00-17:00, nights). A higher layer covers
a lower one wherever it has someone on call; an override covers every layer.
Who is on call when is computed in ``notifications.oncall.schedules``.

Imported at the end of ``notifications.models`` so these are models of the
``notifications`` app.
"""

from __future__ import annotations

import secrets
from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

__all__ = [
    "CalendarFeed",
    "LayerParticipant",
    "Schedule",
    "ScheduleLayer",
    "ScheduleOverride",
    "ShiftSwap",
]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def validate_time_zone(value: str) -> None:
    """Refuse anything that is not an IANA time zone name (``Europe/London``)."""
    if value not in available_timezones():
        raise ValidationError(
            f"“{value}” is not a time zone name (IANA, e.g. Europe/London)."
        )


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


# --- restrictions -----------------------------------------------------------------
# A restriction is a window of local time in which a layer has someone on call,
# stored as PagerDuty names it: {"type": "daily_restriction" | "weekly_restriction",
# "start_time_of_day": "HH:MM[:SS]", "duration_seconds": int,
# "start_day_of_week": 1..7 (ISO, Monday = 1; weekly only)}. Outside every
# window the layer is empty and lower layers show through.

DAILY_RESTRICTION = "daily_restriction"
WEEKLY_RESTRICTION = "weekly_restriction"


def parse_restriction(item: object) -> dict:
    """``item`` checked and normalised (``start_time_of_day`` as HH:MM:SS).

    Raises ``ValidationError`` naming what is wrong.
    """
    if not isinstance(item, dict):
        raise ValidationError("Each restriction is an object.")
    kind = item.get("type")
    if kind not in (DAILY_RESTRICTION, WEEKLY_RESTRICTION):
        raise ValidationError(
            "A restriction's type is daily_restriction or weekly_restriction."
        )
    try:
        start = time.fromisoformat(str(item.get("start_time_of_day", "")))
    except ValueError:
        raise ValidationError(
            "A restriction's start_time_of_day is a time of day such as 09:00:00."
        ) from None
    duration = item.get("duration_seconds")
    limit = 86400 if kind == DAILY_RESTRICTION else 7 * 86400
    if (
        not isinstance(duration, int)
        or isinstance(duration, bool)
        or not 0 < duration <= limit
    ):
        raise ValidationError(
            f"A {kind}'s duration_seconds is a whole number from 1 to {limit}."
        )
    normal = {
        "type": kind,
        "start_time_of_day": start.replace(microsecond=0).isoformat(),
        "duration_seconds": duration,
    }
    if kind == WEEKLY_RESTRICTION:
        day = item.get("start_day_of_week")
        if not isinstance(day, int) or isinstance(day, bool) or not 1 <= day <= 7:
            raise ValidationError(
                "A weekly_restriction's start_day_of_week is 1 (Monday) to 7 (Sunday)."
            )
        normal["start_day_of_week"] = day
    return normal


def validate_restrictions(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("Restrictions are a list of windows.")
    for item in value:
        parse_restriction(item)


def describe_restriction(item: dict) -> str:
    """One window in words: "Mon 09:00 for 8 h" or "daily 17:00 for 16 h"."""
    start = item["start_time_of_day"][:5]
    hours = timedelta(seconds=item["duration_seconds"]) / timedelta(hours=1)
    length = f"{hours:g} h"
    if item["type"] == WEEKLY_RESTRICTION:
        return f"{WEEKDAYS[item['start_day_of_week'] - 1]} {start} for {length}"
    return f"daily {start} for {length}"


# --- schedules ----------------------------------------------------------------------


class Schedule(models.Model):
    """Who is on call when, for a team: layers of rotations plus overrides."""

    name = models.CharField(max_length=120, unique=True)
    time_zone = models.CharField(
        max_length=63,
        default="UTC",
        validators=[validate_time_zone],
        help_text="IANA name, e.g. Europe/London. Hand-offs and restrictions are "
        "in this zone's local time, across daylight-saving changes.",
    )
    description = models.TextField(blank=True)
    team = models.ForeignKey(
        "incidents.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="schedules",
        help_text="The team it covers: its on-call is suggested for incidents "
        "of the team's services.",
    )
    external_id = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where it was imported from (e.g. a PagerDuty schedule id).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


class ScheduleLayer(models.Model):
    """One rotation of a schedule.

    Participants take turns in ``position`` order, each for ``length_count``
    days, weeks or hours, the first turn starting on ``start_date`` at
    ``handoff_time``, local time in the schedule's zone: a 09:00 hand-off stays
    09:00 local across daylight-saving changes. A layer with a higher
    ``priority`` covers lower ones wherever it has someone on call.
    """

    class Length(models.TextChoices):
        DAILY = "daily", "days"
        WEEKLY = "weekly", "weeks"
        HOURS = "hours", "hours"

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="layers"
    )
    name = models.CharField(max_length=120)
    priority = models.PositiveSmallIntegerField(
        default=1,
        help_text="Higher layers cover lower ones (PagerDuty's layer 2 "
        "is above layer 1).",
    )
    start_date = models.DateField(help_text="The first turn's day (local).")
    handoff_time = models.TimeField(
        default=time(9, 0), help_text="Local time of day turns change."
    )
    length_unit = models.CharField(
        max_length=10, choices=Length.choices, default=Length.WEEKLY
    )
    length_count = models.PositiveIntegerField(
        default=1, help_text="How many days, weeks or hours one turn lasts."
    )
    restrictions = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_restrictions],
        help_text='Windows of local time the layer covers, e.g. [{"type": '
        '"weekly_restriction", "start_day_of_week": 1, "start_time_of_day": '
        '"09:00:00", "duration_seconds": 28800}] for Monday 09-17, or '
        '[{"type": "daily_restriction", "start_time_of_day": "17:00:00", '
        '"duration_seconds": 57600}] for nights. Empty: all the time.',
    )
    active_from = models.DateTimeField(
        null=True, blank=True, help_text="Empty: from the first turn."
    )
    active_until = models.DateTimeField(null=True, blank=True, help_text="Empty: open.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["schedule", "-priority"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "priority"], name="schedule_layer_priority_unique"
            ),
            models.CheckConstraint(
                condition=Q(length_count__gte=1), name="schedule_layer_length_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule.name}: {self.name}"

    def clean(self) -> None:
        super().clean()
        if self.restrictions:
            self.restrictions = [parse_restriction(r) for r in self.restrictions]
        if (
            self.active_from
            and self.active_until
            and self.active_until <= self.active_from
        ):
            raise ValidationError({"active_until": "Ends before it starts."})

    @property
    def turn_description(self) -> str:
        unit = self.get_length_unit_display()
        if self.length_count == 1:
            unit = {"days": "day", "weeks": "week", "hours": "hour"}[unit]
            return f"one {unit}"
        return f"{self.length_count} {unit}"

    @property
    def restriction_descriptions(self) -> list[str]:
        return [describe_restriction(r) for r in self.restrictions or []]


class LayerParticipant(models.Model):
    """A person's place in a layer's rotation (the same person may appear twice)."""

    layer = models.ForeignKey(
        ScheduleLayer, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["layer", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.layer} #{self.position}: {self.user}"


class ScheduleOverride(models.Model):
    """``user`` is on call for the whole schedule from ``start`` to ``end`` (UTC),
    above every layer. Made by a person, or by an accepted shift swap."""

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="overrides"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    swap = models.ForeignKey(
        "ShiftSwap",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="overrides",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["schedule", "start"]
        indexes = [models.Index(fields=["schedule", "end", "start"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="schedule_override_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.schedule} {self.start:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        super().clean()
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "Ends before it starts."})


class ShiftSwap(models.Model):
    """A participant asks another to take their shift (``start``–``end``),
    optionally taking one of the other's shifts in return (``return_start``–
    ``return_end``). Accepted, it becomes overrides: the counterpart on the
    requester's shift, and the requester on the one taken in return."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    schedule = models.ForeignKey(
        Schedule, on_delete=models.CASCADE, related_name="swaps"
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    counterpart = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    return_start = models.DateTimeField(null=True, blank=True)
    return_end = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.REQUESTED
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="shift_swap_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.requester} → {self.counterpart} ({self.status})"


class CalendarFeed(models.Model):
    """A secret iCal URL: one schedule's final timeline, or one person's shifts
    on every schedule. Revoked feeds answer 404."""

    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    schedule = models.ForeignKey(
        Schedule,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="feeds",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="A person's feed: their shifts on every schedule.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(schedule__isnull=False, user__isnull=True)
                | Q(schedule__isnull=True, user__isnull=False),
                name="calendar_feed_schedule_or_user",
            )
        ]

    def __str__(self) -> str:
        return f"feed of {self.schedule or self.user}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
