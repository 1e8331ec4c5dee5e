"""Building on-call schedules in tests: plain helpers over the models."""

from datetime import UTC, date, datetime, time

from notifications.models import (
    LayerParticipant,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)


def utc(*parts) -> datetime:
    """``datetime(*parts)`` in UTC."""
    return datetime(*parts, tzinfo=UTC)


def make_schedule(name: str = "Checkout primary", time_zone: str = "UTC", **fields):
    return Schedule.objects.create(name=name, time_zone=time_zone, **fields)


def make_layer(
    schedule,
    users,
    *,
    name: str | None = None,
    priority: int = 1,
    start_date: date = date(2026, 1, 5),
    handoff_time: time = time(9, 0),
    length_unit: str = ScheduleLayer.Length.WEEKLY,
    length_count: int = 1,
    restrictions: list | None = None,
    **fields,
):
    layer = ScheduleLayer.objects.create(
        schedule=schedule,
        name=name or f"Layer {priority}",
        priority=priority,
        start_date=start_date,
        handoff_time=handoff_time,
        length_unit=length_unit,
        length_count=length_count,
        restrictions=restrictions or [],
        **fields,
    )
    LayerParticipant.objects.bulk_create(
        LayerParticipant(layer=layer, user=user, position=position)
        for position, user in enumerate(users)
    )
    return layer


def make_override(schedule, user, start, end, **fields):
    return ScheduleOverride.objects.create(
        schedule=schedule, user=user, start=start, end=end, **fields
    )


def weekdays(start: str = "09:00:00", hours: int = 8) -> list[dict]:
    """Monday to Friday, ``hours`` from ``start`` local time."""
    return [
        {
            "type": "weekly_restriction",
            "start_day_of_week": day,
            "start_time_of_day": start,
            "duration_seconds": hours * 3600,
        }
        for day in range(1, 6)
    ]


def nights(start: str = "17:00:00", hours: int = 16) -> list[dict]:
    return [
        {
            "type": "daily_restriction",
            "start_time_of_day": start,
            "duration_seconds": hours * 3600,
        }
    ]
