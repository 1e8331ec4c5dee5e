"""``/incidents/``: search by a word of the resolution or the review, filters,
visibility, pagination and the CSV export."""

import csv
import io

import pytest

from incidentops import groups
from incidents.importing import import_incidents
from incidents.search import SearchFilters, search_incidents
from tests.factories import IncidentTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = (
    "external_id,title,type,severity,status,detected_at,resolved_at,services,"
    "resolution,root_cause,follow_ups,restricted\n"
)
ROWS = [
    "A1,Checkout returns errors,outage,SEV-1,resolved,2025-01-02T10:00Z,"
    "2025-01-02T11:00Z,checkout,Rolled back the connection pool change,,,",
    "A2,Search is slow,outage,SEV-3,resolved,2025-02-02T10:00Z,2025-02-02T12:00Z,"
    "search,Added an index,Missing index after the migration,Watch slow queries [open],",
    "A3,Payroll file sent to the wrong supplier,breach,SEV-2,resolved,"
    "2025-03-02T10:00Z,2025-03-03T10:00Z,payroll,Recipient deleted the pool file,,,yes",
]


@pytest.fixture
def people(db):
    manager = UserFactory(username="mia", groups=[groups.INCIDENT_MANAGERS])
    responder = UserFactory(username="rita", groups=[groups.RESPONDERS])
    IncidentTypeFactory(slug="outage", name="Outage")
    IncidentTypeFactory(slug="breach", name="Breach", restricted=True)
    report = import_incidents(
        (HEADER + "\n".join(ROWS) + "\n").encode(), format="native", actor=manager
    )
    assert not report.refused, report.refused
    return manager, responder


def _refs(queryset):
    return sorted(i.external_id for i in queryset)


def test_a_word_of_the_resolution_finds_the_incident(people):
    manager, _ = people
    assert _refs(search_incidents(manager, SearchFilters(q="rolled"))) == ["A1"]
    # a word of the review's root cause
    assert _refs(search_incidents(manager, SearchFilters(q="migration"))) == ["A2"]


def test_search_respects_visibility(people):
    manager, responder = people
    # "pool" is in A1's resolution and in the restricted A3's
    assert _refs(search_incidents(responder, SearchFilters(q="pool"))) == ["A1"]
    superuser = UserFactory(username="root", is_superuser=True)
    assert _refs(search_incidents(superuser, SearchFilters(q="pool"))) == ["A1", "A3"]


def test_filters(people):
    manager, _ = people
    assert _refs(search_incidents(manager, SearchFilters(severity="SEV-3"))) == ["A2"]
    assert _refs(search_incidents(manager, SearchFilters(service="checkout"))) == ["A1"]
    assert _refs(
        search_incidents(manager, SearchFilters(flags=["open_follow_ups"]))
    ) == ["A2"]
    newest = search_incidents(manager, SearchFilters(sort="oldest"))
    assert [i.external_id for i in newest] == ["A1", "A2"]


def test_the_page_and_its_csv(client, people):
    manager, responder = people
    client.force_login(responder)
    page = client.get("/incidents/", {"q": "pool"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Checkout returns errors" in html
    assert "Payroll" not in html
    response = client.get("/incidents/", {"q": "pool", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["reference", "title", "status"]
    assert [row[1] for row in rows[1:]] == ["Checkout returns errors"]


def test_the_list_is_paginated(client, people, settings):
    manager, _ = people
    client.force_login(manager)
    from incidents.views import past

    past_size = past.PAGE_SIZE
    past.PAGE_SIZE = 1
    try:
        first = client.get("/incidents/")
        second = client.get("/incidents/", {"page": 2})
    finally:
        past.PAGE_SIZE = past_size
    assert "Page 1 of 2" in first.content.decode()
    assert "Search is slow" in first.content.decode()
    assert "Checkout returns errors" in second.content.decode()
