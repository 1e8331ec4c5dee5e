"""Who is on call when: rotations, layers, restrictions and overrides.

The semantics are PagerDuty's. Each layer is a rotation: its participants take
turns in order, each turn ``length_count`` days, weeks or hours long, counted
in the schedule's local wall-clock time from ``start_date`` at ``handoff_time``,
so a 09:00 Europe/London hand-off is at 09:00 local in winter and in summer.
(A turn that would begin and end inside the hour skipped when clocks go forward
lasts no time and is passed over; a turn across the hour repeated when clocks go
back lasts an hour longer.) Restrictions, when a layer has them, are windows of
local time outside which the layer is empty; the rotation keeps turning
underneath. At any instant the final schedule is: the most recently created
override covering it, else the highest-priority layer with someone on call
then, else nobody.

Local times are turned into instants with ``zoneinfo`` (a local time that does
not exist, in the spring gap, is read with the offset before the change; one
that happens twice, in the autumn, as its first occurrence). Recurrences over a
range (hand-offs, restriction windows) come from ``dateutil.rrule``.

Everything here reads; writes are in ``notifications.oncall.services``.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, HOURLY, WEEKLY, rrule
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import CharField, StringAgg, Value
from django.db.models.functions import Cast

from notifications.oncall.schedule_models import (
    WEEKLY_RESTRICTION,
    LayerParticipant,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)

OVERRIDE = "Override"


@dataclass(frozen=True)
class OnCall:
    """Someone on call at an instant: ``user``, the ``layer`` that puts them
    there (its name, or ``"Override"``), and that shift's ``start`` and ``end``
    (aware, UTC) as far as the layer or override alone goes."""

    user: object
    layer: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Shift:
    """One interval of a schedule's final timeline: ``user`` is on call from
    ``start`` to ``end`` (aware, UTC; end exclusive) through ``layer`` (a
    layer's name or ``"Override"``); ``layer_id`` is ``None`` for an override."""

    user: object
    start: datetime
    end: datetime
    layer: str
    layer_id: int | None
    schedule_id: int


# --- rotation arithmetic ------------------------------------------------------------

_FREQUENCY = {
    ScheduleLayer.Length.DAILY: (DAILY, timedelta(days=1)),
    ScheduleLayer.Length.WEEKLY: (WEEKLY, timedelta(weeks=1)),
    ScheduleLayer.Length.HOURS: (HOURLY, timedelta(hours=1)),
}


def to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """A naive local time in ``zone`` as an aware UTC instant (gap: the offset
    before the change; repeated hour: the first occurrence)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def to_wall(at: datetime, zone: ZoneInfo) -> datetime:
    """An aware instant as naive local time in ``zone``."""
    return at.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True)
class Rotation:
    """The turns of one layer: turn ``k`` starts at local time
    ``first + k × step`` (``step`` = the layer's length) and belongs to
    participant ``k mod n``."""

    first: datetime  # naive, local wall-clock time of turn 0's hand-off
    frequency: int  # dateutil.rrule frequency
    interval: int
    step: timedelta  # in wall-clock time
    zone: ZoneInfo

    @classmethod
    def of(cls, *, start_date, handoff_time: time, unit: str, count: int, zone):
        frequency, unit_step = _FREQUENCY[unit]
        return cls(
            first=datetime.combine(start_date, handoff_time),
            frequency=frequency,
            interval=count,
            step=unit_step * count,
            zone=zone,
        )

    def handoff(self, k: int) -> datetime:
        """Turn ``k``'s start as an aware UTC instant."""
        return to_instant(self.first + self.step * k, self.zone)

    def turn_at(self, at: datetime) -> int | None:
        """The index of the turn covering instant ``at``, or ``None`` before the
        first turn."""
        turn = self.turn(at)
        return None if turn is None else turn[0]

    def turn(self, at: datetime) -> tuple[int, datetime, datetime] | None:
        """``(k, start, end)`` of the turn covering instant ``at`` (aware UTC
        bounds), or ``None`` before the first turn."""
        # An estimate from local time, then checked against the real instants
        # (around a clock change the two can differ by one turn).
        k = (to_wall(at, self.zone) - self.first) // self.step
        if k < 0:
            k = 0
        start = self.handoff(k)
        while start > at:
            if k == 0:
                return None
            k -= 1
            start = self.handoff(k)
        end = self.handoff(k + 1)
        while end <= at:
            k += 1
            start, end = end, self.handoff(k + 1)
        return k, start, end

    def turns(
        self, start: datetime, end: datetime
    ) -> Iterable[tuple[int, datetime, datetime]]:
        """``(k, turn start, turn end)`` for every turn overlapping
        ``[start, end)`` (aware instants), skipping turns that last no time."""
        k = self.turn_at(start)
        if k is None:
            k = 0
            if self.handoff(0) >= end:
                return
        rule = rrule(
            self.frequency,
            interval=self.interval,
            dtstart=self.first + self.step * k,
        )
        previous: datetime | None = None
        for wall in rule:
            instant = to_instant(wall, self.zone)
            if previous is not None and instant > previous:
                yield k - 1, previous, instant
            if instant >= end:
                return
            previous = instant
            k += 1


def restriction_windows(
    restrictions: Sequence[dict], zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The restriction windows overlapping ``[start, end)`` as sorted, merged
    aware UTC intervals (local-time windows turned into instants)."""
    return _window_intervals(_windows(restrictions), zone, start, end)


def _window_intervals(windows, zone: ZoneInfo, start: datetime, end: datetime):
    wall_start = to_wall(start, zone) - timedelta(days=8)
    wall_end = to_wall(end, zone) + timedelta(days=1)
    intervals = []
    for window in windows:
        first = datetime.combine(wall_start.date(), window.start)
        if window.weekly:
            rule = rrule(
                WEEKLY, byweekday=window.day - 1, dtstart=first, until=wall_end
            )
        else:
            rule = rrule(DAILY, dtstart=first, until=wall_end)
        for wall in rule:
            interval = (to_instant(wall, zone), to_instant(wall + window.length, zone))
            if interval[0] < end and interval[1] > start and interval[1] > interval[0]:
                intervals.append(interval)
    return _merge(intervals)


@dataclass(frozen=True)
class _Window:
    """A parsed restriction: from ``start`` (local time of day) on ``day``
    (ISO weekday, weekly windows only) for ``length`` of local time."""

    weekly: bool
    day: int
    start: time
    length: timedelta


def _windows(restrictions: Sequence[dict]) -> tuple[_Window, ...]:
    return tuple(
        _Window(
            weekly=item["type"] == WEEKLY_RESTRICTION,
            day=item.get("start_day_of_week", 1),
            start=time.fromisoformat(item["start_time_of_day"]),
            length=timedelta(seconds=item["duration_seconds"]),
        )
        for item in restrictions
    )


_DAYS_BACK = (timedelta(0), timedelta(days=1))
_WEEKS_BACK = (timedelta(0), timedelta(days=7))
_SLACK = timedelta(hours=3)


def _in_windows(windows: Sequence[_Window], zone: ZoneInfo, at: datetime) -> bool:
    wall = to_wall(at, zone)
    today = wall.date()
    for window in windows:
        if window.weekly:
            # The window that started this week on its day, and last week's.
            day = today - timedelta(days=(wall.isoweekday() - window.day) % 7)
            starts = [
                datetime.combine(day - back, window.start) for back in _WEEKS_BACK
            ]
        else:
            starts = [
                datetime.combine(today - back, window.start) for back in _DAYS_BACK
            ]
        for window_start in starts:
            # Local times rule most windows out cheaply (a clock change moves
            # an instant's local time by less than the slack); the instants
            # decide the rest.
            if window_start - _SLACK <= wall < window_start + window.length + _SLACK:
                if (
                    to_instant(window_start, zone)
                    <= at
                    < to_instant(window_start + window.length, zone)
                ):
                    return True
    return False


def in_restrictions(restrictions: Sequence[dict], zone: ZoneInfo, at: datetime) -> bool:
    """Whether instant ``at`` is inside one of the restriction windows."""
    return _in_windows(_windows(restrictions), zone, at)


def _merge(
    intervals: list[tuple[datetime, datetime]],
) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# --- loading a schedule's plan -------------------------------------------------------


@dataclass
class _Layer:
    id: int
    schedule_id: int
    name: str
    priority: int
    rotation: Rotation
    windows: tuple[_Window, ...]
    active_from: datetime | None
    active_until: datetime | None
    participants: list[int]  # user ids in turn order

    def active(self, at: datetime) -> bool:
        return (self.active_from is None or self.active_from <= at) and (
            self.active_until is None or at < self.active_until
        )

    def user_at(self, at: datetime) -> tuple[int, datetime, datetime] | None:
        """``(user id, turn start, turn end)`` of the turn covering ``at``."""
        if not self.participants or not self.active(at):
            return None
        if self.windows and not _in_windows(self.windows, self.rotation.zone, at):
            return None
        turn = self.rotation.turn(at)
        if turn is None:
            return None
        k, start, end = turn
        return self.participants[k % len(self.participants)], start, end

    def segments(
        self, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime, int]]:
        """``(start, end, user id)`` of this layer alone within ``[start, end)``."""
        if not self.participants:
            return []
        low = max(start, self.active_from) if self.active_from else start
        high = min(end, self.active_until) if self.active_until else end
        if low >= high:
            return []
        windows = (
            _window_intervals(self.windows, self.rotation.zone, low, high)
            if self.windows
            else [(low, high)]
        )
        segments = []
        count = len(self.participants)
        for k, turn_start, turn_end in self.rotation.turns(low, high):
            user_id = self.participants[k % count]
            for window_start, window_end in windows:
                s = max(turn_start, window_start, low)
                e = min(turn_end, window_end, high)
                if s < e:
                    segments.append((s, e, user_id))
        return segments


_LAYER_FIELDS = (
    "id",
    "schedule_id",
    "name",
    "priority",
    "start_date",
    "handoff_time",
    "length_unit",
    "length_count",
    "restrictions",
    "active_from",
    "active_until",
    "participant_ids",
)


def _layer_rows(schedule_ids) -> dict[int, list[tuple]]:
    """Every layer of the schedules as a row (``_LAYER_FIELDS``, the last being
    the participants' user ids in turn order), highest priority first: one
    query whatever the number of schedules (two where the database cannot
    order an aggregate, as SQLite before 3.44)."""
    layers = ScheduleLayer.objects.filter(schedule_id__in=schedule_ids).order_by(
        "schedule_id", "-priority", "id"
    )
    if connection.features.supports_aggregate_order_by_clause:
        rows = [
            (*row[:-1], [int(i) for i in row[-1].split(",")] if row[-1] else [])
            for row in layers.annotate(
                participant_ids=StringAgg(
                    Cast("participants__user_id", CharField()),
                    delimiter=Value(","),
                    order_by=("participants__position", "participants__id"),
                )
            ).values_list(*_LAYER_FIELDS)
        ]
    else:
        participants: dict[int, list[int]] = defaultdict(list)
        for layer_id, user_id in (
            LayerParticipant.objects.filter(layer__schedule_id__in=schedule_ids)
            .order_by("layer_id", "position", "id")
            .values_list("layer_id", "user_id")
        ):
            participants[layer_id].append(user_id)
        rows = [
            (*row, participants.get(row[0], []))
            for row in layers.values_list(*_LAYER_FIELDS[:-1])
        ]
    by_schedule: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_schedule[row[1]].append(row)
    return by_schedule


def _layer(row: tuple, zone: ZoneInfo) -> _Layer:
    (
        layer_id,
        schedule_id,
        name,
        priority,
        start_date,
        handoff_time,
        unit,
        count,
        restrictions,
        active_from,
        active_until,
        participant_ids,
    ) = row
    return _Layer(
        id=layer_id,
        schedule_id=schedule_id,
        name=name,
        priority=priority,
        rotation=Rotation.of(
            start_date=start_date,
            handoff_time=handoff_time,
            unit=unit,
            count=count,
            zone=zone,
        ),
        windows=_windows(restrictions or ()),
        active_from=active_from,
        active_until=active_until,
        participants=participant_ids,
    )


def _load_layers(schedules: Sequence[Schedule]) -> dict[int, list[_Layer]]:
    """Every layer of ``schedules``, highest priority first (one query)."""
    zones = {schedule.pk: schedule.zone for schedule in schedules}
    return {
        schedule_id: [_layer(row, zones[schedule_id]) for row in rows]
        for schedule_id, rows in _layer_rows(list(zones)).items()
    }


def _users(ids: Iterable[int]) -> dict[int, object]:
    ids = set(ids)
    return get_user_model().objects.in_bulk(ids) if ids else {}


# --- who is on call -------------------------------------------------------------------


def oncall_for(schedules: Sequence[Schedule], at: datetime) -> dict[int, list[OnCall]]:
    """Who is on call at instant ``at`` (aware) on each of ``schedules``, by
    schedule id: one ``OnCall``, or an empty list when nobody is.

    Three queries whatever the number of schedules (layers with their
    participants, overrides covering ``at``, users; four on SQLite before
    3.44). Raises ``ValueError`` for a naive ``at``.
    """
    if at.tzinfo is None:
        raise ValueError("'at' must be an aware datetime")
    schedules = list(schedules)
    if not schedules:
        return {}
    rows_by_schedule = _layer_rows([s.pk for s in schedules])
    overrides: dict[int, tuple] = {}
    for schedule_id, user_id, start, end, _created, _pk in (
        ScheduleOverride.objects.filter(
            schedule_id__in=[s.pk for s in schedules], start__lte=at, end__gt=at
        )
        .order_by("schedule_id", "created_at", "pk")
        .values_list("schedule_id", "user_id", "start", "end", "created_at", "pk")
    ):
        # The most recently created override wins.
        overrides[schedule_id] = (user_id, OVERRIDE, start, end)
    found: dict[int, tuple] = {}
    for schedule in schedules:
        if schedule.pk in overrides:
            found[schedule.pk] = overrides[schedule.pk]
            continue
        zone = schedule.zone
        for row in rows_by_schedule.get(schedule.pk, ()):
            # Layers are built one at a time, from the top, until one answers.
            layer = _layer(row, zone)
            turn = layer.user_at(at)
            if turn is not None:
                found[schedule.pk] = (turn[0], layer.name, turn[1], turn[2])
                break
    users = _users(user_id for user_id, *_ in found.values())
    answer: dict[int, list[OnCall]] = {}
    for schedule in schedules:
        hit = found.get(schedule.pk)
        if hit is None or hit[0] not in users:
            answer[schedule.pk] = []
            continue
        user_id, layer, start, end = hit
        answer[schedule.pk] = [
            OnCall(user=users[user_id], layer=layer, start=start, end=end)
        ]
    return answer


def oncall(schedule: Schedule, at: datetime) -> list[OnCall]:
    """Who is on call on ``schedule`` at instant ``at`` (aware), with the layer
    that puts them there; ``[]`` when nobody is. See ``oncall_for``."""
    return oncall_for([schedule], at)[schedule.pk]


def oncall_users(schedule: Schedule, at: datetime) -> list:
    """The person (or people) on call on ``schedule`` at instant ``at``.

    ``at`` is an aware datetime (any zone). Overrides first (the most recently
    created one covering ``at``), then the highest-priority layer whose
    rotation, restrictions and active period put someone on call at ``at``;
    ``[]`` when nobody is. Raises ``ValueError`` for a naive ``at``.
    """
    return [entry.user for entry in oncall(schedule, at)]


# --- the final timeline ----------------------------------------------------------------


def shifts_for(
    schedules: Sequence[Schedule], start: datetime, end: datetime
) -> dict[int, list[Shift]]:
    """Each schedule's final timeline between ``start`` and ``end`` (aware;
    the intervals are clipped to the range), by schedule id.

    Raises ``ValueError`` for naive times or an empty range.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("'start' and 'end' must be aware datetimes")
    if end <= start:
        raise ValueError("'end' must be after 'start'")
    schedules = list(schedules)
    if not schedules:
        return {}
    plans = _load_layers(schedules)
    overrides_by_schedule: dict[int, list[tuple]] = defaultdict(list)
    for schedule_id, user_id, o_start, o_end in (
        ScheduleOverride.objects.filter(
            schedule_id__in=[s.pk for s in schedules], start__lt=end, end__gt=start
        )
        .order_by("schedule_id", "created_at", "pk")
        .values_list("schedule_id", "user_id", "start", "end")
    ):
        overrides_by_schedule[schedule_id].append(
            (max(o_start, start), min(o_end, end), user_id)
        )
    raw: dict[int, list[tuple]] = {}
    for schedule in schedules:
        # Sources from the top: overrides (latest first), then layers by priority.
        sources: list[tuple[str, int | None, list[tuple]]] = [
            (OVERRIDE, None, [segment])
            for segment in reversed(overrides_by_schedule.get(schedule.pk, []))
        ]
        sources += [
            (layer.name, layer.id, layer.segments(start, end))
            for layer in plans.get(schedule.pk, ())
        ]
        raw[schedule.pk] = _flatten(sources, start, end)
    users = _users(user_id for items in raw.values() for *_, user_id in items)
    return {
        schedule.pk: [
            Shift(
                user=users[user_id],
                start=s,
                end=e,
                layer=name,
                layer_id=layer_id,
                schedule_id=schedule.pk,
            )
            for s, e, name, layer_id, user_id in raw[schedule.pk]
            if user_id in users
        ]
        for schedule in schedules
    }


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """``schedule``'s final on-call timeline between ``start`` and ``end``
    (aware datetimes): consecutive ``Shift`` intervals, each the person on call
    and the layer (or override) that puts them there, clipped to the range.
    Gaps are times nobody is on call. Raises ``ValueError`` for naive times or
    an empty range."""
    return shifts_for([schedule], start, end)[schedule.pk]


def _flatten(sources, start: datetime, end: datetime) -> list[tuple]:
    """The top-most source's segment at every instant, as ``(start, end, name,
    layer id, user id)`` with equal neighbours merged."""
    boundaries = {start, end}
    prepared = []
    for name, layer_id, segments in sources:
        segments = sorted(segments)
        for s, e, _user in segments:
            boundaries.add(s)
            boundaries.add(e)
        prepared.append((name, layer_id, segments, [s for s, _e, _u in segments]))
    points = sorted(b for b in boundaries if start <= b <= end)
    result: list[tuple] = []
    for low, high in zip(points, points[1:], strict=False):
        for name, layer_id, segments, starts in prepared:
            index = bisect.bisect_right(starts, low) - 1
            if index >= 0 and segments[index][1] > low:
                user_id = segments[index][2]
                if (
                    result
                    and result[-1][1] == low
                    and result[-1][2:] == (name, layer_id, user_id)
                ):
                    result[-1] = (result[-1][0], high, name, layer_id, user_id)
                else:
                    result.append((low, high, name, layer_id, user_id))
                break
    return result
