"""Acknowledging a page from its link in real Chromium, on a phone."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from incidentops import groups
from incidents.models import Incident
from notifications.models import Delivery, Escalation
from notifications.oncall import escalation
from tests.factories import IntegrationFactory, UserFactory
from tests.notifications.escalation_factories import (
    T0,
    alert_incident,
    make_policy,
    minutes,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_secondary_acknowledges_from_the_link_in_the_page(
    browser, live_server, screenshot
):
    # given: Ann paged, then Bob (the secondary) after 5 minutes of silence
    ann = UserFactory(username="ann", groups=[groups.RESPONDERS])
    bob = UserFactory(username="bob", groups=[groups.RESPONDERS])
    integration = IntegrationFactory(name="checkout-alerts")
    make_policy(integration, [(ann, 5), (bob, 5)])
    incident = alert_incident(integration)
    escalation.escalate_sweep(now=T0)
    escalation.escalate_sweep(now=minutes(5))
    message = Delivery.objects.get(recipient="bob@example.com").notification
    link = re.search(r"https?://\S+/pages/acknowledge/\S+/", message.body_text)
    assert link, message.body_text

    # when: Bob opens it on his phone (not signed in) and acknowledges
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(live_server.url + urlsplit(link.group(0)).path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(
            f"Acknowledge {incident.reference}?"
        )
        screenshot(page, "acknowledge-link-phone")
        page.get_by_role("button", name=f"Acknowledge {incident.reference}").click()
        expect(page.get_by_test_id("ack-done")).to_contain_text("Paging for")
        screenshot(page, "acknowledge-link-done-phone")

        # then: the escalation stopped, under Bob's name
        incident = Incident.objects.get(pk=incident.pk)
        assert incident.acknowledged_by == bob
        assert Escalation.objects.get(incident=incident).status == "acknowledged"

        # and the link, opened again, says who acknowledged
        page.goto(live_server.url + urlsplit(link.group(0)).path)
        expect(page.get_by_test_id("ack-refused")).to_contain_text(
            "already acknowledged"
        )
    finally:
        context.close()
