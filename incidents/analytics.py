"""Incident trends: counts, MTTA and MTTR per period, computed in the database."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek

from incidentops.timezones import org_zone
from incidents.models import Incident

GROUPS = {"incident_type": "incident_type__slug", "severity": "severity__code"}
PERIODS = {"week": TruncWeek, "month": TruncMonth}


def _seconds(value) -> float | None:
    return None if value is None else round(value.total_seconds(), 1)


def incident_trends(
    *,
    user,
    group_by: str,
    period: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict]:
    """Per period (weeks start on Monday, months on the 1st, at midnight in the
    organisation's time zone, ``settings.INCIDENTOPS_TIME_ZONE``) and group: how
    many incidents were declared, how many were acknowledged and resolved, and the mean time to acknowledge
    (``acknowledged_at`` − ``detected_at``) and to resolve (``resolved_at`` −
    the impact start, ``impact_started_at`` or else ``detected_at``) in seconds,
    over the incidents ``user`` may see (without those closed as duplicates or
    false alarms), with any times people corrected. Reads only.

    Raises ``ValueError`` for an unknown ``group_by`` or ``period``.
    """
    if group_by not in GROUPS or period not in PERIODS:
        raise ValueError("group_by must be incident_type|severity, period week|month")
    incidents = Incident.objects.visible_to(user).without_noise()
    if since is not None:
        incidents = incidents.filter(created_at__gte=since)
    if until is not None:
        incidents = incidents.filter(created_at__lt=until)
    rows = (
        incidents.order_by()
        .annotate(
            # Buckets start at midnight in the organisation's zone: an incident
            # at 23:30 UTC on 31 July belongs to August in London (BST).
            bucket=PERIODS[period]("created_at", tzinfo=org_zone()),
            group=F(GROUPS[group_by]),
        )
        .values("bucket", "group")
        .annotate(
            count=Count("pk"),
            acknowledged=Count("acknowledged_at"),
            resolved=Count("resolved_at"),
            mtta=Avg(
                ExpressionWrapper(
                    F("acknowledged_at") - F("detected_at"),
                    output_field=DurationField(),
                )
            ),
            mttr=Avg(
                ExpressionWrapper(
                    F("resolved_at") - Coalesce("impact_started_at", "detected_at"),
                    output_field=DurationField(),
                )
            ),
        )
        .order_by("bucket", "group")
    )
    return [
        {
            "period_start": row["bucket"].date(),
            "group": row["group"],
            "count": row["count"],
            "acknowledged": row["acknowledged"],
            "resolved": row["resolved"],
            "mtta_seconds": _seconds(row["mtta"]),
            "mttr_seconds": _seconds(row["mttr"]),
        }
        for row in rows
    ]
