"""Acknowledging: the page's signed link (wrong person, expired, tampered), the
portal's button and the API (first one wins)."""

import time
from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client

from incidentops import groups
from incidents.models import Incident, TimelineEntry
from notifications.models import Escalation
from notifications.oncall import escalation
from tests.api.conftest import client_for
from tests.factories import IntegrationFactory, UserFactory
from tests.notifications.escalation_factories import alert_incident, make_policy


@pytest.fixture
def incident(ann, bob):
    integration = IntegrationFactory(name="checkout-alerts")
    make_policy(integration, [(ann, 5), (bob, 5)])
    return alert_incident(integration)


def link_path(incident, user) -> str:
    return f"/pages/acknowledge/{escalation.acknowledge_token(incident, user)}/"


def test_the_link_asks_then_acknowledges_for_its_person(incident, ann):
    client = Client()
    page = client.get(link_path(incident, ann))
    assert page.status_code == 200
    assert b"Acknowledge " + incident.reference.encode() in page.content
    incident.refresh_from_db()
    assert incident.acknowledged_at is None, "a GET never acknowledges"

    done = client.post(link_path(incident, ann))

    assert done.status_code == 200
    assert b"Paging for" in done.content
    incident.refresh_from_db()
    assert incident.acknowledged_by == ann
    assert Escalation.objects.get(incident=incident).status == "acknowledged"
    entry = TimelineEntry.objects.get(incident=incident, kind="acknowledged")
    assert entry.summary.endswith("acknowledged it (the page's link)")


def test_the_link_refuses_someone_else_signed_in(incident, ann, bob):
    client = Client()
    client.force_login(bob)
    for method in (client.get, client.post):
        response = method(link_path(incident, ann))
        assert response.status_code == 403
        assert b"This link is for someone else" in response.content
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_an_expired_link_is_refused(incident, ann, settings, monkeypatch):
    path = link_path(incident, ann)
    later = time.time() + settings.PAGE_ACK_LINK_MAX_AGE.total_seconds() + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = Client().post(path)
    assert response.status_code == 410
    assert b"This link has expired" in response.content
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_a_tampered_link_is_refused(incident, ann, bob):
    token = escalation.acknowledge_token(incident, ann)
    # the same payload for another person, with Ann's signature
    forged = signing.dumps({"i": incident.pk, "u": bob.pk}, salt="other-salt")
    swapped = forged.split(":")[0] + ":" + ":".join(token.split(":")[1:])
    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), swapped):
        response = Client().post(f"/pages/acknowledge/{bad}/")
        assert response.status_code == 400
        assert b"This link is not valid" in response.content
    incident.refresh_from_db()
    assert incident.acknowledged_at is None


def test_a_link_signed_for_another_purpose_is_refused(incident, ann):
    token = signing.dumps({"i": incident.pk, "u": ann.pk})  # no salt
    response = Client().post(f"/pages/acknowledge/{token}/")
    assert response.status_code == 400


def test_a_second_acknowledgement_through_a_link_names_the_first(incident, ann, bob):
    Client().post(link_path(incident, ann))
    response = Client().post(link_path(incident, bob))
    assert response.status_code == 409
    assert b"already acknowledged" in response.content
    assert ann.display_name.encode() in response.content


def test_api_acknowledge_first_one_wins(incident, ann, bob):
    first = client_for(ann).post(f"/api/v1/incidents/{incident.pk}/acknowledge/")
    assert first.status_code == 200
    assert first.json()["acknowledged_at"] is not None
    second = client_for(bob).post(f"/api/v1/incidents/{incident.pk}/acknowledge/")
    assert second.status_code == 409
    assert second.json()["code"] == "conflict"
    assert second.json()["holder"] == "ann"


def test_api_acknowledge_refuses_a_service_account(incident):
    bot = UserFactory(
        username="bot", service_account=True, groups=[groups.INCIDENT_MANAGERS]
    )
    response = client_for(bot).post(f"/api/v1/incidents/{incident.pk}/acknowledge/")
    assert response.status_code == 403
    assert Incident.objects.get(pk=incident.pk).acknowledged_at is None


def test_api_acknowledge_of_an_incident_one_may_not_see_is_404(incident, db):
    outsider = UserFactory(username="olga")
    response = client_for(outsider).post(
        f"/api/v1/incidents/{incident.pk}/acknowledge/"
    )
    assert response.status_code == 404


def test_portal_button_acknowledges(incident, ann):
    client = Client()
    client.force_login(ann)
    page = client.get(incident.get_absolute_url())
    assert b'data-testid="acknowledge"' in page.content
    response = client.post(f"/incidents/{incident.reference}/acknowledge/")
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.acknowledged_by == ann
    page = client.get(incident.get_absolute_url())
    assert b'data-testid="acknowledge"' not in page.content


def test_the_link_lasts_as_configured(incident, ann, settings, monkeypatch):
    settings.PAGE_ACK_LINK_MAX_AGE = timedelta(hours=1)
    path = link_path(incident, ann)
    almost = time.time() + 3500
    monkeypatch.setattr(signing.time, "time", lambda: almost)
    assert Client().get(path).status_code == 200


def test_the_profile_page_adds_and_removes_my_contact_methods(ann, bob):
    from notifications.models import ContactMethod, NotificationRule

    client = Client()
    client.force_login(ann)
    assert b"account's e-mail" in client.get("/profile/contact-methods/").content
    response = client.post(
        "/profile/contact-methods/",
        {
            "action": "add",
            "kind": "apprise",
            "label": "Phone",
            "address": "ntfy://ann-pages",
            "delay_minutes": "3",
        },
    )
    assert response.status_code == 302
    method = ContactMethod.objects.get(user=ann)
    assert [r.delay_minutes for r in method.rules.all()] == [3]
    page = client.get("/profile/contact-methods/").content
    assert b"after 3 min: Phone" in page
    assert b"ann-pages" not in page, "a URL is never shown back"

    # a bad address is refused with its reason, nothing stored
    refused = client.post(
        "/profile/contact-methods/",
        {"action": "add", "kind": "email", "address": "nope", "delay_minutes": "0"},
    )
    assert refused.status_code == 400
    assert b"Not an e-mail address." in refused.content
    assert ContactMethod.objects.filter(user=ann).count() == 1

    # someone else's method cannot be touched
    other = Client()
    other.force_login(bob)
    assert (
        other.post(
            "/profile/contact-methods/", {"action": "remove", "method": method.pk}
        ).status_code
        == 404
    )
    client.post(
        "/profile/contact-methods/",
        {"action": "add_rule", "method": method.pk, "delay_minutes": "0"},
    )
    assert sorted(r.delay_minutes for r in method.rules.all()) == [0, 3]
    rule = NotificationRule.objects.get(contact_method=method, delay_minutes=3)
    client.post("/profile/contact-methods/", {"action": "remove_rule", "rule": rule.pk})
    client.post("/profile/contact-methods/", {"action": "remove", "method": method.pk})
    assert not ContactMethod.objects.filter(user=ann).exists()
