"""The organisation's time zone: the one place that says in which zone dates,
periods, due days and shown times are read (``settings.INCIDENTOPS_TIME_ZONE``,
an IANA name such as "Europe/London"; default "UTC").

Asked by the list filters and search (a date means local midnight), insights
and analytics (periods start at local midnight), the review policy (due at the
end of a local business day), the portal's forms and pages and the messages
(times shown in that zone, whatever zone a worker runs in). zoneinfo handles
each date's daylight-saving offset.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def org_zone_name() -> str:
    """The zone's IANA name, as settings give it."""
    return settings.INCIDENTOPS_TIME_ZONE


def org_zone() -> ZoneInfo:
    """The organisation's zone."""
    return ZoneInfo(org_zone_name())


def local_instant(day: date, at: time) -> datetime:
    """``day`` at local time ``at`` in the organisation's zone, as an aware
    datetime."""
    return datetime.combine(day, at, tzinfo=org_zone())


def org_midnight(day: date) -> datetime:
    """The aware instant ``day`` starts in the organisation's zone."""
    return local_instant(day, time.min)


def org_localtime(value: datetime) -> datetime:
    """An aware ``value`` in the organisation's zone."""
    return timezone.localtime(value, org_zone())
