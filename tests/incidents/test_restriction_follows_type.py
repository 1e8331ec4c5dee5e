"""Restriction follows the type, fail-closed, on every path that sets a type;
what was queued before is re-checked when it is sent."""

import pytest
from django.core import mail
from guardian.shortcuts import get_groups_with_perms, get_users_with_perms

from incidentops import groups
from incidentops.exceptions import DomainError, NotPermitted
from incidents import services
from incidents.models import Incident, TimelineEntry
from notifications import services as notify
from notifications.models import Delivery
from tests.api.conftest import client_for
from tests.factories import (
    IncidentFamilyFactory,
    IncidentTypeFactory,
    IntegrationFactory,
    UserFactory,
    role,
    severity,
)
from tests.notifications.factories import StakeholderListFactory

pytestmark = pytest.mark.django_db

BREACH_TITLE = "Customer personal data exposed via public S3 bucket"


@pytest.fixture
def breach(db):
    return IncidentTypeFactory(
        family=IncidentFamilyFactory(slug="security-data-breach"),
        slug="personal-data-breach",
        name="Personal-data breach",
        keywords="personal data, data breach, exposed, leaked, s3 bucket",
        restricted_by_default=True,
        restricted_groups=[groups.EXECUTIVES],
    )


@pytest.fixture
def outage(db):
    return IncidentTypeFactory(
        slug="web-outage", keywords="checkout, website, outage, 500 errors"
    )


@pytest.fixture
def ola(db):
    """A responder with no grant on anything restricted."""
    return UserFactory(username="ola", email="ola@example.com", groups=["Responders"])


def assert_restricted(incident, *, reporter):
    incident.refresh_from_db()
    assert incident.restricted is True
    assert reporter in get_users_with_perms(incident)
    assert groups.EXECUTIVES in [g.name for g in get_groups_with_perms(incident)]


# --- declaring -------------------------------------------------------------------


def test_declared_with_the_type_is_restricted(breach, responder):
    incident = services.incident_declare(
        actor=responder, title="Laptop stolen", incident_type=breach
    )
    assert_restricted(incident, reporter=responder)


def test_left_to_triage_a_suggested_restricted_type_restricts_it(
    breach, responder, ola
):
    StakeholderListFactory(triage=True, users=[responder, ola])

    incident = services.incident_declare(
        actor=responder, title=BREACH_TITLE, data_exposed=True
    )

    assert incident.incident_type is None
    assert incident.suggested_type == breach
    assert_restricted(incident, reporter=responder)
    assert (
        "Restricted because triage suggests “Personal-data breach”"
        in (incident.suggestion["rationale"])
    )
    entry = TimelineEntry.objects.get(
        incident=incident, kind=TimelineEntry.Kind.SEVERITY_SUGGESTED
    )
    assert "Restricted because triage suggests" in entry.summary
    # before anything is sent: the declaration reaches only the reporter
    assert set(
        Delivery.objects.filter(notification__incident=incident).values_list(
            "recipient", flat=True
        )
    ) == {responder.email}


def test_a_responders_unrestricted_is_overruled_by_the_suggestion(breach, responder):
    incident = services.incident_declare(
        actor=responder, title=BREACH_TITLE, data_exposed=True, restricted=False
    )
    assert incident.restricted is True


def test_a_manager_may_declare_it_unrestricted_despite_the_suggestion(breach, manager):
    incident = services.incident_declare(
        actor=manager, title=BREACH_TITLE, data_exposed=True, restricted=False
    )
    assert incident.restricted is False


def test_an_unrelated_suggestion_leaves_it_unrestricted(breach, outage, responder):
    incident = services.incident_declare(
        actor=responder, title="Checkout website outage, 500 errors"
    )
    assert incident.restricted is False


# --- confirming and changing the type ----------------------------------------


def test_confirming_a_restricted_type_restricts_it(breach, responder, manager):
    incident = services.incident_declare(actor=manager, title="Something odd")
    assert incident.restricted is False

    services.incident_classify(
        incident=incident,
        actor=manager,
        severity=severity("SEV-1"),
        incident_type=breach,
    )

    assert_restricted(incident, reporter=manager)


def test_changing_to_a_restricted_type_restricts_it(breach, responder, ola):
    incident = services.incident_declare(actor=responder, title="Something odd")

    services.incident_update(incident=incident, actor=responder, incident_type=breach)

    assert_restricted(incident, reporter=responder)
    assert not Incident.objects.visible_to(ola).filter(pk=incident.pk).exists()


def test_changing_type_and_keeping_it_unrestricted_needs_a_manager(
    breach, responder, manager
):
    incident = services.incident_declare(actor=responder, title="Something odd")
    with pytest.raises(NotPermitted, match="restricted by default"):
        services.incident_update(
            incident=incident, actor=responder, incident_type=breach, restricted=False
        )
    incident.refresh_from_db()
    assert (incident.incident_type, incident.restricted) == (None, False)

    services.incident_update(
        incident=incident, actor=manager, incident_type=breach, restricted=False
    )
    incident.refresh_from_db()
    assert (incident.incident_type, incident.restricted) == (breach, False)


# --- API and alert intake -------------------------------------------------------


def test_api_create_and_patch_follow_the_type(breach, responder):
    client = client_for(responder)
    created = client.post(
        "/api/v1/incidents/",
        {"title": "Laptop", "incident_type": breach.slug},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["restricted"] is True

    refused = client.post(
        "/api/v1/incidents/",
        {"title": "Laptop", "incident_type": breach.slug, "restricted": False},
        format="json",
    )
    assert refused.status_code == 403

    plain = client.post(
        "/api/v1/incidents/", {"title": "Something odd"}, format="json"
    ).json()
    patched = client.patch(
        f"/api/v1/incidents/{plain['id']}/",
        {"incident_type": breach.slug},
        format="json",
    )
    assert patched.status_code == 200, patched.json()
    assert patched.json()["restricted"] is True


def test_alert_intake_with_a_restricted_default_type(breach, db):
    integration = IntegrationFactory(default_incident_type=breach)
    incident = services.incident_declare(
        actor=integration.service_account,
        title="db-prod exfiltration alarm",
        incident_type=integration.default_incident_type,
        integration=integration,
        dedup_key="k1",
        deferred=True,
    )
    assert incident.restricted is True


def test_alert_intake_left_to_triage_is_restricted_before_the_declaration_is_sent(
    breach, ola
):
    StakeholderListFactory(triage=True, users=[ola])
    integration = IntegrationFactory()
    incident = services.incident_declare(
        actor=integration.service_account,
        title=BREACH_TITLE,
        integration=integration,
        dedup_key="k2",
        deferred=True,
    )
    services.incident_number(incident=incident)
    assert incident.restricted is False

    services.incident_complete_declaration(incident=incident)

    incident.refresh_from_db()
    assert incident.restricted is True
    assert "Restricted because triage suggests" in incident.suggestion["rationale"]
    assert not Delivery.objects.filter(recipient=ola.email).exists()


# --- restricting and lifting by hand ---------------------------------------------


def test_restrict_and_lift_with_a_reason_on_the_timeline(responder, manager, ola):
    incident = services.incident_declare(actor=responder, title="Something odd")
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )

    services.incident_set_restriction(
        incident=incident, actor=responder, restricted=True, reason="HR matter"
    )
    assert incident.restricted is True
    assert not Incident.objects.visible_to(ola).filter(pk=incident.pk).exists()
    entry = TimelineEntry.objects.filter(incident=incident).latest("sequence")
    assert entry.data["reason"] == "HR matter"
    assert "restricted the incident: HR matter" in entry.summary

    with pytest.raises(NotPermitted):
        services.incident_set_restriction(
            incident=incident, actor=responder, restricted=False, reason="oops"
        )
    with pytest.raises(DomainError):
        services.incident_set_restriction(
            incident=incident, actor=manager, restricted=False, reason=" "
        )
    services.incident_set_restriction(
        incident=incident, actor=manager, restricted=False, reason="Not HR after all"
    )
    assert incident.restricted is False
    entry = TimelineEntry.objects.filter(incident=incident).latest("sequence")
    assert "lifted the restriction: Not HR after all" in entry.summary


def test_the_api_restricts_and_lifts_with_a_reason_like_the_portal(
    responder, manager, ola
):
    from tests.api.openapi import assert_conforms

    incident = services.incident_declare(actor=responder, title="Something odd")
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    path = f"/api/v1/incidents/{incident.pk}/restriction/"
    as_responder, as_manager = client_for(responder), client_for(manager)

    blank = as_responder.post(path, {"restricted": True, "reason": ""}, format="json")
    assert blank.status_code == 400
    unknown = as_responder.post(
        path, {"restricted": True, "reason": "x", "grants": "me"}, format="json"
    )
    assert unknown.status_code == 400
    assert client_for(ola).post(
        path, {"restricted": True, "reason": "x"}, format="json"
    ).status_code in (403, 404)
    incident.refresh_from_db()
    assert incident.restricted is False

    restricted = as_responder.post(
        path, {"restricted": True, "reason": "HR matter"}, format="json"
    )
    assert restricted.status_code == 200, restricted.json()
    assert restricted.json()["restricted"] is True
    assert_conforms(restricted, "/api/v1/incidents/{id}/restriction/", "post")
    entry = TimelineEntry.objects.filter(incident=incident).latest("sequence")
    assert entry.data["reason"] == "HR matter"
    assert client_for(ola).get(f"/api/v1/incidents/{incident.pk}/").status_code == 404

    # lifting: incident managers only, as in the portal
    refused = as_responder.post(
        path, {"restricted": False, "reason": "oops"}, format="json"
    )
    assert refused.status_code == 403
    lifted = as_manager.post(
        path, {"restricted": False, "reason": "Not HR after all"}, format="json"
    )
    assert lifted.status_code == 200
    assert lifted.json()["restricted"] is False
    entry = TimelineEntry.objects.filter(incident=incident).latest("sequence")
    assert "lifted the restriction: Not HR after all" in entry.summary


def test_the_api_answers_204_when_restricting_hides_it_from_the_caller(manager):
    # an incident manager who holds no role on it and is in none of the type's
    # groups restricts it: it is done, and the reply shows nothing of it
    editor = UserFactory(username="eve", groups=["Incident managers"])
    incident = services.incident_declare(actor=manager, title="Payroll question")

    reply = client_for(editor).post(
        f"/api/v1/incidents/{incident.pk}/restriction/",
        {"restricted": True, "reason": "HR matter"},
        format="json",
    )

    incident.refresh_from_db()
    assert incident.restricted is True
    assert reply.status_code == 204
    assert not reply.content
    assert not Incident.objects.visible_to(editor).filter(pk=incident.pk).exists()


# --- re-checked at send time -----------------------------------------------------


def test_queued_deliveries_are_rechecked_when_sent(breach, responder, ola):
    StakeholderListFactory(
        triage=True, users=[responder, ola], emails=["partner@example.com"]
    )
    incident = services.incident_declare(actor=responder, title="Something odd")
    queued = {d.recipient: d for d in Delivery.objects.all()}
    assert set(queued) == {responder.email, ola.email, "partner@example.com"}

    # the type is confirmed as a breach before the worker gets to them
    services.incident_update(incident=incident, actor=responder, incident_type=breach)
    results = {
        recipient: notify.delivery_send(delivery_id=d.pk)
        for recipient, d in queued.items()
    }

    assert results == {
        responder.email: "sent",
        ola.email: "withheld",
        "partner@example.com": "withheld",
    }
    assert [m.to for m in mail.outbox] == [[responder.email]]
    withheld = Delivery.objects.get(recipient=ola.email)
    assert "restricted" in withheld.last_error
    outcome = TimelineEntry.objects.filter(
        incident=incident, data__withheld=2, data__sent=1
    ).get()
    assert "2 withheld" in outcome.summary


def test_an_opted_in_list_still_gets_it_after_restriction(breach, responder):
    StakeholderListFactory(
        triage=True, may_receive_restricted=True, emails=["csirt@example.com"]
    )
    incident = services.incident_declare(actor=responder, title="Something odd")
    services.incident_update(incident=incident, actor=responder, incident_type=breach)

    delivery = Delivery.objects.get()
    assert notify.delivery_send(delivery_id=delivery.pk) == "sent"


# --- the portal's controls ---------------------------------------------------------


def test_portal_restrict_and_lift_controls(client, responder, manager, ola):
    incident = services.incident_declare(actor=responder, title="Something odd")
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    url = incident.get_absolute_url()

    client.force_login(responder)
    page = client.get(url).content.decode()
    assert 'aria-label="Restrict"' in page
    response = client.post(
        f"{url}restriction/", {"restricted": "true", "reason": "HR matter"}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.restricted is True
    # the responder may not lift it: no control, and a refusal if forced
    page = client.get(url).content.decode()
    assert "Lift the restriction" not in page
    refused = client.post(f"{url}restriction/", {"restricted": "false", "reason": "x"})
    assert "Only an incident manager may lift" in refused.content.decode()

    client.force_login(ola)
    assert client.get(url).status_code == 404

    client.force_login(manager)
    assert "Lift the restriction" in client.get(url).content.decode()
    client.post(f"{url}restriction/", {"restricted": "false", "reason": "Not HR"})
    incident.refresh_from_db()
    assert incident.restricted is False
    assert "lifted the restriction: Not HR" in client.get(url).content.decode()
