"""Searching past incidents (``/incidents/``): every incident the viewer may
see, by words and filters, in a fixed number of queries.

On PostgreSQL the words go through its full-text search (``websearch`` syntax:
``"exact phrase"``, ``-not``, ``or``; English stemming) over the title,
description and resolution, served by the GIN index ``incident_search_idx``
(migration 0011), plus the text other apps register (the review's summary, root
cause and lessons; ``providers.register_search_text``). Elsewhere (SQLite) every
word must appear somewhere in those fields, ignoring case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Q

from incidentops.timezones import org_midnight
from incidents import providers
from incidents.insights import service_q
from incidents.models import Incident

OWN_TEXT = ("title", "description", "resolution_summary")
SORTS = {
    "newest": ("-created_at", "-pk"),
    "oldest": ("created_at", "pk"),
    "severity": ("severity__rank", "-created_at", "-pk"),
    "resolved": ("-resolved_at", "-pk"),
}


@dataclass
class SearchFilters:
    q: str = ""
    status: list[str] = field(default_factory=list)
    severity: str = ""
    incident_type: str = ""
    service: str = ""
    since: date | None = None
    until: date | None = None
    flags: list[str] = field(default_factory=list)  # registered list filters
    sort: str = "newest"


def own_vector() -> SearchVector:
    """The incident's own text as PostgreSQL indexes it (``incident_search_idx``)."""
    return SearchVector(*OWN_TEXT, config="english")


def _text_q(words: str) -> Q:
    extra = providers.search_fields()
    if connection.vendor == "postgresql":
        query = SearchQuery(words, search_type="websearch", config="english")
        matches = Q(
            pk__in=Incident.objects.annotate(document=own_vector())
            .filter(document=query)
            .values("pk")
        )
        if extra:
            matches |= Q(
                pk__in=Incident.objects.annotate(
                    document=SearchVector(*extra, config="english")
                )
                .filter(document=query)
                .values("pk")
            )
        return matches
    q = Q()
    for word in words.split():
        any_field = Q()
        for name in (*OWN_TEXT, *extra):
            any_field |= Q(**{f"{name}__icontains": word})
        q &= any_field
    return q


def search_incidents(user, filters: SearchFilters):
    """The incidents ``user`` may see that ``filters`` select, sorted, with
    what the list shows (severity, type, commander) loaded."""
    incidents = Incident.objects.visible_to(user)
    if filters.q.strip():
        incidents = incidents.filter(_text_q(filters.q.strip()))
    if filters.status:
        incidents = incidents.filter(status__in=filters.status)
    if filters.severity:
        incidents = incidents.filter(severity__code=filters.severity)
    if filters.incident_type:
        incidents = incidents.filter(incident_type__slug=filters.incident_type)
    if filters.service:
        incidents = incidents.filter(service_q(filters.service))
    if filters.until and filters.until > date(9998, 12, 31):
        filters.until = None
    if filters.since:
        start = org_midnight(filters.since)
        incidents = incidents.filter(created_at__gte=start)
    if filters.until:
        end = org_midnight(filters.until + timedelta(days=1))
        incidents = incidents.filter(created_at__lt=end)
    registered = {f.key: f for f in providers.list_filters()}
    for flag in filters.flags:
        if flag in registered:
            incidents = incidents.filter(registered[flag].q())
    return incidents.for_list().order_by(*SORTS.get(filters.sort, SORTS["newest"]))
