"""Insights leave out incidents closed as duplicates or false alarms unless
asked (``include_noise``); the alert-noise figure counts them by who opened
the incident."""

from incidents import insights, services
from incidents.insights import InsightFilters
from tests.factories import IncidentFactory, IntegrationFactory


def _volume_total(user, **filters) -> int:
    rows = insights.volume(user, InsightFilters(**filters).resolved())["severity"]
    return sum(row["count"] for row in rows)


def test_duplicates_and_false_alarms_are_left_out_unless_asked(db, manager):
    worked = services.incident_declare(actor=manager, title="Checkout 502s")
    duplicate = services.incident_declare(actor=manager, title="Checkout 502s again")
    services.incident_mark_duplicate(incident=duplicate, primary=worked, actor=manager)
    IncidentFactory(closure_reason="false_alarm", status="resolved")

    assert _volume_total(manager) == 1
    assert _volume_total(manager, include_noise=True) == 3
    figures = insights.insights(manager, InsightFilters())
    assert figures["filters"]["include_noise"] is False


def test_alert_noise_counts_duplicates_and_false_alarms_by_opener(db, manager):
    integration = IntegrationFactory()
    IncidentFactory(integration=integration)
    IncidentFactory(integration=integration, closure_reason="duplicate")
    IncidentFactory(integration=integration, closure_reason="false_alarm")
    IncidentFactory(integration=integration, closure_reason="false_alarm")
    IncidentFactory()

    rows = {
        row["group"]: row
        for row in insights.alert_noise(manager, InsightFilters().resolved())
    }

    assert rows["integrations"]["count"] == 4
    assert rows["integrations"]["duplicates"] == 1
    assert rows["integrations"]["false_alarms"] == 2
    assert rows["integrations"]["share_noise"] == 0.75
    assert rows["people"]["count"] == 1
    assert rows["people"]["share_noise"] == 0.0


def test_the_page_and_the_api_take_include_noise(client, db, manager):
    IncidentFactory(closure_reason="duplicate", title="Duplicate one")
    client.force_login(manager)

    page = client.get("/insights/")
    with_noise = client.get("/insights/?include_noise=on")
    api = client.get("/api/v1/analytics/insights/?include_noise=true")

    assert "leaving out duplicates and false alarms" in page.text
    assert "leaving out duplicates and false alarms" not in with_noise.text
    assert api.json()["filters"]["include_noise"] is True
    assert api.json()["alert_noise"][1]["duplicates"] == 1
