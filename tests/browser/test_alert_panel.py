"""The incident page's alert panel in real Chromium, on a laptop and a phone."""

import json

import pytest
from django.core.cache import cache
from django.test import Client
from playwright.sync_api import expect

from incidentops import groups
from incidents.ingestion.parsers import alertmanager
from incidents.ingestion.severity import default_label_map
from incidents.models import Incident
from tests.factories import INTEGRATION_SECRET, IntegrationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _deliver_a_mixed_group() -> Incident:
    cache.clear()
    integration = IntegrationFactory(
        kind="alertmanager", name="prometheus", severity_label_map=default_label_map()
    )
    body = json.loads(json.dumps(alertmanager.SAMPLE_ALERTMANAGER))
    body["alerts"].append(
        {
            "status": "resolved",
            "labels": {
                "alertname": "HighErrorRate",
                "job": "checkout",
                "instance": "web-3.eu-west-1.compute.internal:9100",
                "severity": "info",
            },
            "annotations": {"description": "Recovered after the deploy rollback."},
            "startsAt": "2026-03-01T09:40:00Z",
            "endsAt": "2026-03-01T09:55:00Z",
            "fingerprint": "9f8e7d6c5b4a3921",
        }
    )
    response = Client().post(
        f"/api/v1/integrations/{integration.pk}/alerts/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {INTEGRATION_SECRET}",
    )
    assert response.status_code == 202
    return Incident.objects.get(reference=response.json()["incident"])


def test_the_alert_panel_reads_on_a_laptop_and_a_phone(
    transactional_db, open_session, live_server, screenshot
):
    incident = _deliver_a_mixed_group()
    rita = UserFactory(username="rita", groups=[groups.RESPONDERS])
    url = f"{live_server.url}{incident.get_absolute_url()}"

    page = open_session(rita)
    page.goto(url)
    panel = page.locator("#alerts")
    expect(panel.get_by_role("heading", name="Alerts")).to_be_visible()
    rows = panel.locator('[data-testid="alert-row"]')
    expect(rows).to_have_count(3)
    # firing first, the worst first; the resolved one last
    expect(rows.nth(0)).to_contain_text("5xx at 31% on web-2")
    expect(rows.nth(2)).to_contain_text("Resolved")
    expect(panel.get_by_role("link", name="Runbook").first).to_have_attribute(
        "href", "https://runbooks.example/errors"
    )
    expect(panel).to_contain_text("and 2 more not sent by Alertmanager")
    screenshot(page, "incident-alerts")

    phone = open_session(rita, width=360, height=780)
    phone.goto(url)
    expect(phone.locator("#alerts")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.locator("#alerts").scroll_into_view_if_needed()
    screenshot(phone, "incident-alerts-phone")
