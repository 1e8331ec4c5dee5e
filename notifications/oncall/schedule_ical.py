"""Schedules as iCalendar (RFC 5545): the feeds calendar apps subscribe to.

A schedule's feed holds its final timeline; a person's feed holds their own
shifts on every schedule. Each shift is a VEVENT in UTC with the person as
ATTENDEE (their e-mail and name) and their username in SUMMARY, the form
Grafana OnCall's exports take, so a feed can be imported again
(``schedule_import.import_ical``). Built with ``icalendar``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from icalendar import Calendar, Event, vCalAddress, vText

from notifications.oncall.schedule_models import (
    LayerParticipant,
    Schedule,
    ScheduleOverride,
)
from notifications.oncall.schedules import Shift, shifts_for

# What a feed covers, around the time it is read.
FEED_PAST = timedelta(days=7)
FEED_AHEAD = timedelta(days=90)
PRODID = "-//IncidentOps//On-call schedules//EN"


def _calendar(name: str, time_zone: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", time_zone)
    return calendar


def _event(shift: Shift, schedule_name: str, now: datetime) -> Event:
    user = shift.user
    event = Event()
    event.add(
        "uid",
        f"{shift.schedule_id}-{int(shift.start.timestamp())}-"
        f"{int(shift.end.timestamp())}-{user.pk}@incidentops",
    )
    event.add("dtstamp", now)
    event.add("dtstart", shift.start)
    event.add("dtend", shift.end)
    event.add("summary", user.username)
    event.add(
        "description",
        f"{user.display_name} on call for {schedule_name} ({shift.layer}).",
    )
    event.add("categories", [schedule_name])
    if user.email:
        attendee = vCalAddress(f"mailto:{user.email}")
        attendee.params["cn"] = vText(user.display_name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=0)
    event.add("transp", "OPAQUE")
    return event


def schedule_ical(
    schedule: Schedule, *, start: datetime, end: datetime, now: datetime
) -> bytes:
    """``schedule``'s final timeline from ``start`` to ``end`` (aware) as an
    iCalendar document (bytes, UTF-8, CRLF lines)."""
    calendar = _calendar(schedule.name, schedule.time_zone)
    for shift in shifts_for([schedule], start, end)[schedule.pk]:
        calendar.add_component(_event(shift, schedule.name, now))
    return calendar.to_ical()


def schedules_of(user):
    """The schedules ``user`` takes part in or has overrides on."""
    return Schedule.objects.filter(
        Q(pk__in=LayerParticipant.objects.filter(user=user).values("layer__schedule"))
        | Q(pk__in=ScheduleOverride.objects.filter(user=user).values("schedule"))
    ).distinct()


def person_shifts(user, *, start: datetime, end: datetime) -> list[Shift]:
    """``user``'s own shifts on every schedule between ``start`` and ``end``,
    in time order (a constant number of queries)."""
    schedules = list(schedules_of(user))
    found = [
        shift
        for timeline in shifts_for(schedules, start, end).values()
        for shift in timeline
        if shift.user.pk == user.pk
    ]
    return sorted(found, key=lambda shift: (shift.start, shift.schedule_id))


def person_ical(user, *, start: datetime, end: datetime, now: datetime) -> bytes:
    """``user``'s shifts on every schedule as one iCalendar document."""
    names = dict(schedules_of(user).values_list("pk", "name"))
    calendar = _calendar(
        f"On call: {user.display_name}", getattr(settings, "TIME_ZONE", "UTC")
    )
    for shift in person_shifts(user, start=start, end=end):
        calendar.add_component(_event(shift, names.get(shift.schedule_id, ""), now))
    return calendar.to_ical()
