"""The insights page and the incidents search in real Chromium, on a laptop and
a phone: the charts are drawn, the tables beside them, nothing wider than the
screen."""

import pytest
from playwright.sync_api import expect

from incidentops import groups
from incidents.importing import import_incidents
from tests.factories import IncidentTypeFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = (
    "external_id,title,type,severity,detected_at,acknowledged_at,resolved_at,"
    "services,resolution\n"
)


def _history(manager):
    IncidentTypeFactory(slug="outage", name="Outage")
    IncidentTypeFactory(slug="supplier", name="Supplier failure")
    rows = []
    for n in range(24):
        month = 1 + n % 10
        kind = "outage" if n % 3 else "supplier"
        level = f"SEV-{1 + n % 4}"
        rows.append(
            f"H{n},Incident {n},{kind},{level},2025-{month:02d}-0{1 + n % 8}T10:00Z,"
            f"2025-{month:02d}-0{1 + n % 8}T10:{5 + n:02d}Z,"
            f"2025-{month:02d}-0{1 + n % 8}T{11 + n % 9}:00Z,checkout,"
            f"Restarted the pool {n}"
        )
    report = import_incidents(
        (HEADER + "\n".join(rows) + "\n").encode(), format="native", actor=manager
    )
    assert not report.refused


def test_insights_charts_on_a_laptop_and_a_phone(
    transactional_db, open_session, live_server, screenshot
):
    manager = UserFactory(username="mia", groups=[groups.INCIDENT_MANAGERS])
    _history(manager)
    url = f"{live_server.url}/insights/?since=2025-01-01&until=2025-12-31"

    page = open_session(manager)
    page.goto(url)
    expect(page.get_by_role("heading", name="Insights", exact=True)).to_be_visible()
    charts = page.locator("svg.chart")
    assert charts.count() >= 4
    expect(charts.first).to_be_visible()
    assert charts.first.bounding_box()["height"] > 50
    expect(page.locator("#response-heading")).to_be_visible()
    expect(page.get_by_role("link", name="Download CSV")).to_be_visible()
    screenshot(page, "insights")

    phone = open_session(manager, width=360, height=780)
    phone.goto(url)
    expect(phone.locator("svg.chart").first).to_be_visible()
    screenshot(phone, "insights-phone")

    search = open_session(manager)
    search.goto(f"{live_server.url}/incidents/?q=restarted")
    expect(search.get_by_test_id("result-count")).to_contain_text("24 incidents")
    screenshot(search, "incidents-search")
