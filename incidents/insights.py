"""The figures of the insights page and of ``/api/v1/analytics/insights/``.

Every figure counts only the incidents the viewer may see
(``Incident.objects.visible_to``), filtered by ``InsightFilters``; time buckets
start at midnight in the organisation's time zone (``org_zone()``). Durations are
seconds: time to acknowledge from detection, to mitigate and to resolve from the
impact start (``impact_started_at``, else detection), with any times people
corrected. Medians and 90th percentiles interpolate linearly between the two
nearest values (PostgreSQL's ``percentile_cont``; the same formula in Python on
other databases). Each figure costs a fixed number of queries, however many
incidents there are.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.utils import timezone

from incidentops.timezones import org_localtime, org_midnight, org_zone
from incidents.models import Incident

PERIODS = {"week": TruncWeek, "month": TruncMonth}
DEFAULT_DAYS = 365
MEASURES = ("time_to_acknowledge", "time_to_mitigate", "time_to_resolve")


@dataclass
class InsightFilters:
    """What the page and the API filter on; every field optional.

    ``since``/``until`` are days in the organisation's zone, both inclusive
    (default: the last 365 days up to today); ``family``, ``incident_type``
    (slugs), ``severity`` (a code), ``service`` (an affected-service tag);
    ``period``: ``month`` or ``week`` buckets; ``include_noise``: also count
    incidents closed as duplicates or false alarms (left out by default)."""

    since: date | None = None
    until: date | None = None
    family: str = ""
    incident_type: str = ""
    severity: str = ""
    service: str = ""
    period: str = "month"
    include_noise: bool = False

    def resolved(self, today: date | None = None) -> InsightFilters:
        today = today or org_localtime(timezone.now()).date()
        # Days beyond what a datetime can hold are clamped, never a crash.
        until = min(self.until or today, date(9998, 12, 31))
        since = self.since or until - timedelta(days=DEFAULT_DAYS - 1)
        since = max(since, date(1970, 1, 1))
        return InsightFilters(**{**asdict(self), "since": since, "until": until})

    def as_dict(self) -> dict:
        return {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in asdict(self).items()
        }


def _midnight(day: date) -> datetime:
    return org_midnight(day)


def incidents_for(user, filters: InsightFilters):
    """The incidents ``user`` may see that the filters select (declared within
    the period), without duplicates and false alarms unless ``include_noise``."""
    filters = filters.resolved()
    queryset = Incident.objects.visible_to(user).filter(
        created_at__gte=_midnight(filters.since),
        created_at__lt=_midnight(filters.until + timedelta(days=1)),
    )
    if filters.family:
        queryset = queryset.filter(incident_type__family__slug=filters.family)
    if filters.incident_type:
        queryset = queryset.filter(incident_type__slug=filters.incident_type)
    if filters.severity:
        queryset = queryset.filter(severity__code=filters.severity)
    if filters.service:
        queryset = queryset.filter(service_q(filters.service))
    if not filters.include_noise:
        queryset = queryset.without_noise()
    return queryset.order_by()


def service_q(service: str) -> Q:
    """Incidents whose affected services include ``service`` (exactly)."""
    if connection.vendor == "postgresql":
        return Q(affected_services__contains=[service])
    # SQLite's JSON has no containment: match the quoted element in the text.
    return Q(affected_services__icontains=f'"{service}"')


# --- volume -------------------------------------------------------------------


def _names() -> tuple[dict, dict]:
    """Types ``{id: (name, family name)}`` and levels ``{id: code}``: two small
    queries, so the big ones group by id without joining."""
    from incidents.models import IncidentType, SeverityLevel

    types = {
        pk: (name, family)
        for pk, name, family in IncidentType.objects.values_list(
            "pk", "name", "family__name"
        )
    }
    levels = dict(SeverityLevel.objects.values_list("pk", "code"))
    return types, levels


def volume(user, filters: InsightFilters) -> dict[str, list[dict]]:
    """Incidents declared per period, by type family, type and severity:
    ``{"family": [{"period_start", "group", "count"}], "incident_type": [...],
    "severity": [...]}`` (group None: unclassified / unconfirmed). Three
    queries."""
    trunc = PERIODS.get(filters.period, TruncMonth)
    types, levels = _names()
    rows = (
        incidents_for(user, filters)
        .annotate(bucket=trunc("created_at", tzinfo=org_zone()))
        .values("bucket", "incident_type_id", "severity_id")
        .annotate(count=Count("pk"))
    )
    totals: dict[str, Counter] = {
        "family": Counter(),
        "incident_type": Counter(),
        "severity": Counter(),
    }
    for row in rows:
        start = row["bucket"].date()
        name, family = types.get(row["incident_type_id"], (None, None))
        totals["family"][(start, family)] += row["count"]
        totals["incident_type"][(start, name)] += row["count"]
        totals["severity"][(start, levels.get(row["severity_id"]))] += row["count"]
    return {
        name: [
            {"period_start": start, "group": group, "count": count}
            for (start, group), count in sorted(
                counter.items(), key=lambda item: (item[0][0], item[0][1] or "~")
            )
        ]
        for name, counter in totals.items()
    }


# --- response times -------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks, as PostgreSQL's
    ``percentile_cont``: the median of 1, 2, 3, 10 is 2.5, its p90 7.9."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


class _Seconds(Func):
    """A duration as seconds (PostgreSQL)."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


class _PercentileCont(Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _durations() -> dict[str, ExpressionWrapper]:
    start = Coalesce("impact_started_at", "detected_at")
    return {
        "time_to_acknowledge": ExpressionWrapper(
            F("acknowledged_at") - F("detected_at"), output_field=DurationField()
        ),
        "time_to_mitigate": ExpressionWrapper(
            F("mitigated_at") - start, output_field=DurationField()
        ),
        "time_to_resolve": ExpressionWrapper(
            F("resolved_at") - start, output_field=DurationField()
        ),
    }


def response_times(user, filters: InsightFilters, *, group_by: str) -> list[dict]:
    """Per group (``incident_type`` name or ``severity`` code; None for
    unclassified / unconfirmed): ``count`` and, per measure in ``MEASURES``,
    ``{"count", "median", "p90"}`` in seconds over the incidents that reached it.
    One query."""
    field = {"incident_type": "incident_type__name", "severity": "severity__code"}[
        group_by
    ]
    queryset = incidents_for(user, filters)
    if connection.vendor == "postgresql":
        return _response_times_sql(queryset, group_by)
    return _response_times_python(queryset, field)


def _response_times_sql(queryset, group_by: str) -> list[dict]:
    # Grouped by id without joins; names come from two small queries.
    types, levels = _names()
    field = {"incident_type": "incident_type_id", "severity": "severity_id"}[group_by]

    def label(pk):
        if pk is None:
            return None
        return types[pk][0] if group_by == "incident_type" else levels[pk]

    aggregates = {"count": Count("pk")}
    for name, duration in _durations().items():
        seconds = _Seconds(duration)
        aggregates[f"{name}__count"] = Count(duration)
        aggregates[f"{name}__median"] = _PercentileCont(seconds, fraction=0.5)
        aggregates[f"{name}__p90"] = _PercentileCont(seconds, fraction=0.9)
    rows = queryset.values(field).annotate(**aggregates).order_by()
    result = [
        {
            "group": label(row[field]),
            "count": row["count"],
            **{
                name: {
                    "count": row[f"{name}__count"],
                    "median": _round(row[f"{name}__median"]),
                    "p90": _round(row[f"{name}__p90"]),
                }
                for name in MEASURES
            },
        }
        for row in rows
    ]
    return sorted(result, key=lambda r: (r["group"] is None, r["group"] or ""))


def _response_times_python(queryset, field: str) -> list[dict]:
    values: dict = defaultdict(lambda: defaultdict(list))
    counts: Counter = Counter()
    for row in queryset.values_list(
        field,
        "impact_started_at",
        "detected_at",
        "acknowledged_at",
        "mitigated_at",
        "resolved_at",
    ):
        group, impact, detected, acknowledged, mitigated, resolved = row
        start = impact or detected
        counts[group] += 1
        for name, origin, end in (
            ("time_to_acknowledge", detected, acknowledged),
            ("time_to_mitigate", start, mitigated),
            ("time_to_resolve", start, resolved),
        ):
            if end is not None and origin is not None:
                values[group][name].append((end - origin).total_seconds())
    return [
        {
            "group": group,
            "count": counts[group],
            **{
                name: {
                    "count": len(values[group][name]),
                    "median": _round(percentile(values[group][name], 0.5)),
                    "p90": _round(percentile(values[group][name], 0.9)),
                }
                for name in MEASURES
            },
        }
        for group in sorted(counts, key=lambda g: (g is None, g or ""))
    ]


def _round(value) -> float | None:
    return None if value is None else round(float(value), 1)


# --- recurrence, triage agreement, alert noise ----------------------------------


def recurring_types(user, filters: InsightFilters, *, limit: int = 10) -> list:
    """The types with the most incidents in the period (two or more):
    ``[{"group", "slug", "count"}]``. One query."""
    rows = (
        incidents_for(user, filters)
        .exclude(incident_type=None)
        .values("incident_type__name", "incident_type__slug")
        .annotate(count=Count("pk"))
        .filter(count__gte=2)
        .order_by("-count", "incident_type__name")[:limit]
    )
    return [
        {
            "group": row["incident_type__name"],
            "slug": row["incident_type__slug"],
            "count": row["count"],
        }
        for row in rows
    ]


def recurring_services(user, filters: InsightFilters, *, limit: int = 10) -> list:
    """The affected services with the most incidents in the period (two or
    more): ``[{"group", "count"}]``. One query (PostgreSQL unnests the tags in
    the database; elsewhere they are counted here)."""
    queryset = incidents_for(user, filters).exclude(affected_services=[])
    if connection.vendor == "postgresql":
        inner, params = queryset.values("pk").query.sql_with_params()
        table = connection.ops.quote_name(Incident._meta.db_table)
        sql = (
            f"SELECT tag, COUNT(*) FROM {table} AS i, "  # noqa: S608
            "jsonb_array_elements_text(i.affected_services) AS tag "
            f"WHERE i.id IN ({inner}) GROUP BY tag HAVING COUNT(*) >= 2 "
            "ORDER BY COUNT(*) DESC, tag LIMIT %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit])
            return [{"group": tag, "count": count} for tag, count in cursor.fetchall()]
    services: Counter = Counter()
    for tags in queryset.values_list("affected_services", flat=True):
        services.update(set(tags or ()))
    return [
        {"group": name, "count": count}
        for name, count in sorted(services.items(), key=lambda i: (-i[1], i[0]))
        if count >= 2
    ][:limit]


def recurrence(user, filters: InsightFilters, *, limit: int = 10) -> dict[str, list]:
    """``{"incident_type": recurring_types(...), "service":
    recurring_services(...)}``. Two queries."""
    return {
        "incident_type": recurring_types(user, filters, limit=limit),
        "service": recurring_services(user, filters, limit=limit),
    }


def triage_agreement(user, filters: InsightFilters) -> dict[str, list[dict]]:
    """How often the confirmed severity and type were the ones triage suggested,
    by confirmed level and by type: ``[{"group", "suggested", "agreed",
    "share"}]`` over the incidents with both a suggestion and a person's choice.
    Two queries."""
    queryset = incidents_for(user, filters)
    by_level = (
        queryset.exclude(severity=None)
        .exclude(suggested_severity=None)
        .values("severity__code")
        .annotate(
            suggested=Count("pk"),
            agreed=Count("pk", filter=Q(suggested_severity=F("severity"))),
        )
        .order_by("severity__code")
    )
    by_type = (
        queryset.exclude(incident_type=None)
        .exclude(suggested_type=None)
        .values("incident_type__name")
        .annotate(
            suggested=Count("pk"),
            agreed=Count("pk", filter=Q(suggested_type=F("incident_type"))),
        )
        .order_by("incident_type__name")
    )

    def rows(items, field):
        return [
            {
                "group": row[field],
                "suggested": row["suggested"],
                "agreed": row["agreed"],
                "share": round(row["agreed"] / row["suggested"], 3),
            }
            for row in items
        ]

    return {
        "severity": rows(by_level, "severity__code"),
        "incident_type": rows(by_type, "incident_type__name"),
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def alert_noise(user, filters: InsightFilters) -> list[dict]:
    """Incidents opened by integrations (alerts) and by people, duplicates and
    false alarms included whatever ``include_noise`` says (they are what this
    figure measures): ``[{"group": "integrations"|"people", "count",
    "confirmed", "share_confirmed", "duplicates", "false_alarms",
    "share_noise"}]``. ``confirmed`` counts those a person confirmed a severity
    for; ``share_noise`` is the share closed as a duplicate or a false alarm.
    One query."""
    counted = {}
    for group, opened in (
        ("integrations", Q(integration__isnull=False)),
        ("people", Q(integration__isnull=True)),
    ):
        counted[group] = Count("pk", filter=opened)
        counted[f"{group}_confirmed"] = Count(
            "pk", filter=opened & Q(severity__isnull=False)
        )
        for reason, key in (
            (Incident.ClosureReason.DUPLICATE, "duplicates"),
            (Incident.ClosureReason.FALSE_ALARM, "false_alarms"),
        ):
            counted[f"{group}_{key}"] = Count(
                "pk", filter=opened & Q(closure_reason=reason)
            )
    everything = replace(filters, include_noise=True)
    totals = incidents_for(user, everything).aggregate(**counted)
    rows = []
    for group in ("integrations", "people"):
        count = totals[group]
        noise = totals[f"{group}_duplicates"] + totals[f"{group}_false_alarms"]
        rows.append(
            {
                "group": group,
                "count": count,
                "confirmed": totals[f"{group}_confirmed"],
                "share_confirmed": _share(totals[f"{group}_confirmed"], count),
                "duplicates": totals[f"{group}_duplicates"],
                "false_alarms": totals[f"{group}_false_alarms"],
                "share_noise": _share(noise, count),
            }
        )
    return rows


def insights(user, filters: InsightFilters) -> dict:
    """Every figure of the page: ``filters`` (resolved), ``volume``,
    ``response_by_type``, ``response_by_severity``, ``recurrence``,
    ``triage_agreement``, ``alert_noise``."""
    filters = filters.resolved()
    return {
        "filters": filters.as_dict(),
        "volume": volume(user, filters),
        "response_by_type": response_times(user, filters, group_by="incident_type"),
        "response_by_severity": response_times(user, filters, group_by="severity"),
        "recurrence": recurrence(user, filters),
        "triage_agreement": triage_agreement(user, filters),
        "alert_noise": alert_noise(user, filters),
    }
