"""The hot filters have indexes the database actually uses: the latest incident
per alert key, the similar-incident and training corpora (latest resolved), the
list by severity, and an incident's timeline in time order."""

import pytest
from django.db import connection

from incidents.models import Incident, TimelineEntry
from incidents.triage import SIMILAR_CORPUS_LIMIT
from tests.factories import IncidentFactory, IntegrationFactory, severity


def plan(queryset) -> str:
    if connection.vendor == "postgresql":
        # A test table holds a handful of rows, for which a sequential scan, or
        # any index followed by a sort, is as cheap as anything; forbid both so
        # the plan shows which index can serve the filter and the order.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
    return queryset.explain()


@pytest.fixture
def incidents(db):
    integration = IntegrationFactory()
    for n in range(3):
        IncidentFactory(integration=integration, dedup_key=f"key-{n}")
        IncidentFactory(resolved=True)
    return integration


def test_latest_incident_per_alert_key_uses_its_index(incidents):
    queryset = Incident.objects.filter(
        integration=incidents, dedup_key="key-1"
    ).order_by("-created_at")[:1]

    assert "incident_alert_key_latest_idx" in plan(queryset)


def test_latest_resolved_corpus_uses_its_index(incidents):
    queryset = Incident.objects.filter(status=Incident.Status.RESOLVED).order_by(
        "-resolved_at"
    )[:SIMILAR_CORPUS_LIMIT]

    assert "incident_status_resolved_idx" in plan(queryset)


def test_list_by_severity_newest_first_uses_its_index(incidents):
    queryset = Incident.objects.filter(severity=severity("SEV-2")).order_by(
        "-created_at"
    )[:50]

    assert "incident_severity_created_idx" in plan(queryset)


def test_timeline_in_time_order_uses_its_index(incidents):
    incident = Incident.objects.first()
    queryset = TimelineEntry.objects.filter(incident=incident).order_by(
        "occurred_at", "sequence"
    )

    assert "timeline_incident_time_idx" in plan(queryset)
