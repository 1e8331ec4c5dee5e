"""Importing schedules from the tools people move from.

PagerDuty: the REST API v2 schedule object (``GET /schedules/{id}``, body
``{"schedule": {...}}``; https://developer.pagerduty.com/api-reference/ ,
"Schedules"). Each of ``schedule_layers[]`` becomes a layer: ``users[].user``
the participants in order, ``rotation_virtual_start`` the first hand-off (read
in the schedule's ``time_zone``), ``rotation_turn_length_seconds`` the turn
length (whole weeks, days or hours), ``start``/``end`` the layer's active
period, ``restrictions[]`` (``daily_restriction``/``weekly_restriction``) kept
as they are. PagerDuty lists the top layer first, so the first layer gets the
highest priority. Users are matched by e-mail: a user reference's ``email``,
or the ``email`` of the same ``id`` in a top-level ``users`` list (as
``include[]=users`` gives).

iCal: what Grafana OnCall (and any calendar) exports: each VEVENT is a shift;
its person is the ATTENDEE's e-mail, else a SUMMARY naming an e-mail or a
username. Recurring events are expanded with ``recurring-ical-events`` over the
imported period. The shifts become overrides of the schedule (a calendar has
no rotation to rebuild), replacing those of an earlier import of the same
calendar in that period.

Nothing is stored when anything is refused: an unmatched person, a turn length
that is not whole hours, a time zone that does not exist. Re-importing the
same source updates the schedule in place (by ``external_id``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import recurring_ical_events
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from icalendar import Calendar

from incidentops.exceptions import DomainError
from notifications.oncall.schedule_models import (
    LayerParticipant,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    parse_restriction,
    validate_time_zone,
)

ICAL_NOTE = "iCal "
EMAIL = re.compile(r"[^\s<>@:;,]+@[^\s<>@:;,]+\.[^\s<>@:;,]+")


@dataclass
class ImportReport:
    """What an import did (or would do, in a dry run)."""

    schedule: str
    created: bool = False
    layers: int = 0
    shifts: int = 0
    unmatched: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        action = "created" if self.created else "updated"
        summary = f"schedule {self.schedule!r} {action}: {self.layers} layers"
        if self.shifts:
            summary += f", {self.shifts} shifts as overrides"
        return [summary, *self.notes]


class UnmatchedPeople(DomainError):
    """People of the source with no user here (by e-mail or username)."""

    def __init__(self, unmatched: list[str]):
        super().__init__(
            "No user matches: " + "; ".join(unmatched) + ". Create them (with "
            "these e-mails) or correct the file, then import again.",
            code="unmatched",
        )
        self.unmatched = unmatched


def _users_by_email(emails) -> dict[str, object]:
    wanted = {e.lower() for e in emails if e}
    found = {}
    for user in get_user_model().objects.filter(is_active=True).exclude(email=""):
        if user.email.lower() in wanted:
            found[user.email.lower()] = user
    return found


def _instant(text: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise DomainError(f"{what}: {text!r} is not an ISO 8601 time.") from None
    if moment.tzinfo is None:
        raise DomainError(f"{what}: {text!r} has no UTC offset.")
    return moment


def _length(seconds: object, what: str) -> tuple[str, int]:
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        raise DomainError(f"{what}: rotation_turn_length_seconds must be positive.")
    if seconds % (7 * 86400) == 0:
        return ScheduleLayer.Length.WEEKLY, seconds // (7 * 86400)
    if seconds % 86400 == 0:
        return ScheduleLayer.Length.DAILY, seconds // 86400
    if seconds % 3600 == 0:
        return ScheduleLayer.Length.HOURS, seconds // 3600
    raise DomainError(
        f"{what}: a turn of {seconds} seconds is not whole hours; only turns of "
        "whole hours, days or weeks are supported."
    )


def _schedule_for(external_id: str, name: str) -> tuple[Schedule | None, bool]:
    schedule = Schedule.objects.filter(external_id=external_id).first()
    if schedule is not None:
        return schedule, False
    if Schedule.objects.filter(name=name).exists():
        raise DomainError(
            f"A schedule named {name!r} exists and was not imported from this "
            "source; rename one of them first."
        )
    return None, True


@transaction.atomic
def import_pagerduty(document: object, *, dry_run: bool = False) -> ImportReport:
    """Create or update a schedule from a PagerDuty schedule object (module
    docstring). Raises ``UnmatchedPeople`` listing every person with no user,
    or ``DomainError`` naming what in the document is wrong; stores nothing
    then, and nothing in a dry run."""
    if not isinstance(document, dict):
        raise DomainError("Expected a JSON object.")
    data = document.get("schedule", document)
    if not isinstance(data, dict) or not isinstance(data.get("schedule_layers"), list):
        raise DomainError("Expected a PagerDuty schedule with schedule_layers.")
    name = str(data.get("name") or data.get("summary") or "").strip()[:120]
    if not name:
        raise DomainError("The schedule has no name.")
    time_zone = str(data.get("time_zone") or "UTC")
    try:
        validate_time_zone(time_zone)
    except ValidationError:
        raise DomainError(f"{time_zone!r} is not a time zone name.") from None
    zone = ZoneInfo(time_zone)
    directory = {
        str(u.get("id")): u
        for u in document.get("users", data.get("users", [])) or []
        if isinstance(u, dict)
    }

    layers = []
    emails: dict[str, str] = {}
    unmatched: list[str] = []
    for number, layer in enumerate(data["schedule_layers"], start=1):
        if not isinstance(layer, dict):
            raise DomainError(f"Layer {number} is not an object.")
        what = f"Layer {number} ({layer.get('name') or 'unnamed'})"
        virtual_start = _instant(
            layer.get("rotation_virtual_start") or layer.get("start"), what
        ).astimezone(zone)
        unit, count = _length(layer.get("rotation_turn_length_seconds"), what)
        try:
            restrictions = [
                parse_restriction(r) for r in layer.get("restrictions") or []
            ]
        except ValidationError as error:
            raise DomainError(f"{what}: {error.messages[0]}") from None
        people = []
        for entry in layer.get("users") or []:
            reference = (entry or {}).get("user") or {}
            person_id = str(reference.get("id", ""))
            email = reference.get("email") or directory.get(person_id, {}).get("email")
            label = f"{person_id} ({reference.get('summary') or 'no name'})"
            if not email:
                unmatched.append(f"{label}: no e-mail in the file")
                continue
            emails[email.lower()] = label
            people.append(email.lower())
        layers.append(
            {
                "name": str(layer.get("name") or f"Layer {number}")[:120],
                "start_date": virtual_start.date(),
                "handoff_time": virtual_start.time().replace(tzinfo=None),
                "length_unit": unit,
                "length_count": count,
                "restrictions": restrictions,
                "active_from": _instant(layer["start"], what)
                if layer.get("start")
                else None,
                "active_until": _instant(layer["end"], what)
                if layer.get("end")
                else None,
                "people": people,
            }
        )
    users = _users_by_email(emails)
    unmatched += [
        f"{label} <{email}>" for email, label in emails.items() if email not in users
    ]
    if unmatched:
        raise UnmatchedPeople(unmatched)

    external_id = f"pagerduty:{data.get('id') or name}"
    schedule, created = _schedule_for(external_id, name)
    report = ImportReport(schedule=name, created=created, layers=len(layers))
    if dry_run:
        return report
    if schedule is None:
        schedule = Schedule(external_id=external_id)
    schedule.name = name
    schedule.time_zone = time_zone
    schedule.description = str(data.get("description") or "")
    schedule.save()
    schedule.layers.all().delete()
    count = len(layers)
    for index, layer in enumerate(layers):
        people = layer.pop("people")
        made = ScheduleLayer.objects.create(
            schedule=schedule, priority=count - index, **layer
        )
        LayerParticipant.objects.bulk_create(
            LayerParticipant(layer=made, user=users[email], position=position)
            for position, email in enumerate(people)
        )
    return report


def _person_of(event, users_by_email, users_by_name) -> tuple[object | None, str]:
    attendees = event.get("attendee") or []
    if not isinstance(attendees, list):
        attendees = [attendees]
    for attendee in attendees:
        address = str(attendee).removeprefix("mailto:").removeprefix("MAILTO:")
        if address.lower() in users_by_email:
            return users_by_email[address.lower()], address
    summary = str(event.get("summary") or "").strip()
    for token in EMAIL.findall(summary):
        if token.lower() in users_by_email:
            return users_by_email[token.lower()], token
    for token in re.split(r"[\s,;\[\]()]+", summary):
        if token and token.lower() in users_by_name:
            return users_by_name[token.lower()], token
    label = ", ".join(str(a) for a in attendees) or summary or "(no person named)"
    return None, label


def _utc(value) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time(), tzinfo=UTC)
    raise DomainError(f"{value!r} is not a time.")


@transaction.atomic
def import_ical(
    text: bytes | str,
    *,
    start: datetime,
    end: datetime,
    name: str = "",
    time_zone: str = "",
    dry_run: bool = False,
) -> ImportReport:
    """Create or update a schedule from an iCalendar document: its events
    between ``start`` and ``end`` (aware) become overrides (module docstring).
    ``name`` and ``time_zone`` default to the calendar's X-WR-CALNAME and
    X-WR-TIMEZONE. Raises ``UnmatchedPeople`` or ``DomainError``; stores
    nothing then, and nothing in a dry run."""
    try:
        calendar = Calendar.from_ical(text)
    except ValueError as error:
        raise DomainError(f"Not an iCalendar file: {error}") from None
    name = (name or str(calendar.get("x-wr-calname") or "")).strip()[:120]
    if not name:
        raise DomainError("The calendar has no name (X-WR-CALNAME); give one.")
    time_zone = time_zone or str(calendar.get("x-wr-timezone") or "UTC")
    try:
        validate_time_zone(time_zone)
    except ValidationError:
        raise DomainError(f"{time_zone!r} is not a time zone name.") from None

    people = get_user_model().objects.filter(is_active=True, is_service_account=False)
    users_by_email = {u.email.lower(): u for u in people if u.email}
    users_by_name = {u.username.lower(): u for u in people}
    shifts = []
    unmatched: list[str] = []
    for event in recurring_ical_events.of(calendar).between(start, end):
        user, label = _person_of(event, users_by_email, users_by_name)
        if user is None:
            if label not in unmatched:
                unmatched.append(label)
            continue
        event_start = _utc(event.get("dtstart").dt)
        event_end = (
            _utc(event.get("dtend").dt)
            if event.get("dtend")
            else event_start + timedelta(days=1)
        )
        event_start, event_end = max(event_start, start), min(event_end, end)
        if event_end > event_start:
            shifts.append((event_start, event_end, user, str(event.get("uid") or "")))
    if unmatched:
        raise UnmatchedPeople(unmatched)

    external_id = f"ical:{name}"
    schedule, created = _schedule_for(external_id, name)
    report = ImportReport(schedule=name, created=created, shifts=len(shifts))
    report.notes.append(f"period {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    if dry_run:
        return report
    if schedule is None:
        schedule = Schedule(external_id=external_id, name=name)
    schedule.time_zone = time_zone
    schedule.save()
    ScheduleOverride.objects.filter(
        schedule=schedule,
        note__startswith=ICAL_NOTE,
        start__lt=end,
        end__gt=start,
    ).delete()
    ScheduleOverride.objects.bulk_create(
        ScheduleOverride(
            schedule=schedule,
            user=user,
            start=shift_start,
            end=shift_end,
            note=(ICAL_NOTE + uid)[:200],
        )
        for shift_start, shift_end, user, uid in shifts
    )
    return report
