"""Confirming the severity confirms the classification; the type can change later."""

import re

import pytest

from incidents import services
from incidents.models import Incident, PlaybookApplication
from tests.factories import (
    IncidentTypeFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    UserFactory,
    role,
    severity,
)


@pytest.fixture
def outage(db):
    kind = IncidentTypeFactory(
        slug="customer-facing-outage",
        name="Customer-facing service outage",
        keywords="checkout, 502",
    )
    playbook = PlaybookFactory(incident_type=kind, name="Outage playbook")
    PlaybookStepFactory(playbook=playbook, title="Open the bridge")
    return kind


@pytest.fixture
def supplier(db):
    kind = IncidentTypeFactory(slug="supplier-failure", name="Supplier failure")
    playbook = PlaybookFactory(incident_type=kind, name="Supplier playbook")
    PlaybookStepFactory(playbook=playbook, title="Call the supplier")
    return kind


@pytest.fixture
def suggested(responder, manager, outage):
    """Declared without a type; triage suggests the outage type."""
    incident = services.incident_declare(
        actor=responder, title="Checkout returns 502 for everyone"
    )
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    assert incident.incident_type is None
    assert incident.suggested_type == outage
    return incident


def selected(html: str, select_id: str) -> str | None:
    select = re.search(rf'<select[^>]*id="{select_id}".*?</select>', html, re.S)
    assert select, f"no select #{select_id}"
    option = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(0))
    return option.group(1) if option else None


def test_the_type_select_starts_at_the_suggestion_labelled_as_one(
    client, manager, suggested
):
    client.force_login(manager)

    html = client.get(suggested.get_absolute_url()).content.decode()

    assert selected(html, "id_severity_incident_type") == "customer-facing-outage"
    assert 'data-testid="type-suggested"' in html
    assert "Suggested by triage" in html
    assert "Confirm severity and type" in html


def test_the_type_select_starts_at_the_current_type_without_the_label(
    client, manager, suggested, supplier
):
    services.incident_update(incident=suggested, actor=manager, incident_type=supplier)
    client.force_login(manager)

    html = client.get(suggested.get_absolute_url()).content.decode()

    assert selected(html, "id_severity_incident_type") == "supplier-failure"
    assert 'data-testid="type-suggested"' not in html


def test_confirming_with_the_suggested_type_applies_its_playbook(
    client, manager, suggested
):
    client.force_login(manager)

    response = client.post(
        f"/incidents/{suggested.reference}/severity/",
        {"severity": "SEV-2", "incident_type": "customer-facing-outage"},
    )

    assert response.status_code == 302
    suggested.refresh_from_db()
    assert suggested.incident_type.slug == "customer-facing-outage"
    assert suggested.severity.code == "SEV-2"
    assert list(suggested.actions.values_list("title", flat=True)) == [
        "Open the bridge"
    ]
    assert PlaybookApplication.objects.filter(incident=suggested).count() == 1


def test_confirming_with_another_type_applies_only_that_types_playbook(
    client, manager, suggested, supplier
):
    client.force_login(manager)

    client.post(
        f"/incidents/{suggested.reference}/severity/",
        {"severity": "SEV-3", "incident_type": "supplier-failure"},
    )

    suggested.refresh_from_db()
    assert suggested.incident_type == supplier
    assert list(suggested.actions.values_list("title", flat=True)) == [
        "Call the supplier"
    ]


def test_confirming_without_a_type_keeps_working(client, manager, suggested):
    client.force_login(manager)

    response = client.post(
        f"/incidents/{suggested.reference}/severity/",
        {"severity": "SEV-2", "incident_type": ""},
    )

    assert response.status_code == 302
    suggested.refresh_from_db()
    assert suggested.severity.code == "SEV-2"
    assert suggested.incident_type is None
    assert not suggested.actions.exists()


def test_a_refused_confirmation_changes_the_type_neither(client, suggested, outage):
    # A responder who may edit (the reporter) but not confirm a severity.
    reporter = suggested.reporter
    client.force_login(reporter)

    response = client.post(
        f"/incidents/{suggested.reference}/severity/",
        {"severity": "SEV-1", "incident_type": "customer-facing-outage"},
    )

    assert response.status_code == 200
    assert "may confirm" in response.content.decode()
    suggested.refresh_from_db()
    assert suggested.incident_type is None
    assert suggested.severity is None


def test_changing_the_type_later_applies_the_new_playbook_once(
    client, manager, suggested, supplier
):
    client.force_login(manager)
    client.post(
        f"/incidents/{suggested.reference}/severity/",
        {"severity": "SEV-2", "incident_type": "customer-facing-outage"},
    )

    html = client.get(suggested.get_absolute_url()).content.decode()
    assert 'aria-label="Change type"' in html
    for _ in range(2):
        response = client.post(
            f"/incidents/{suggested.reference}/type/",
            {"incident_type": "supplier-failure"},
        )
        assert response.status_code == 302

    suggested.refresh_from_db()
    assert suggested.incident_type == supplier
    assert sorted(suggested.actions.values_list("title", flat=True)) == [
        "Call the supplier",
        "Open the bridge",
    ]
    assert PlaybookApplication.objects.filter(incident=suggested).count() == 2


def test_changing_the_type_when_confirmed_at_a_lower_severity_skips_the_old_level(
    client, manager, suggested, outage, supplier
):
    # Confirmed SEV-2 outage, then lowered to SEV-3 and re-typed in one go: the
    # supplier playbook for SEV-3 applies, not the one for SEV-2.
    sev2 = PlaybookFactory(
        incident_type=supplier, severity=severity("SEV-2"), name="Supplier SEV-2"
    )
    PlaybookStepFactory(playbook=sev2, title="Escalate to the supplier's CEO")
    client.force_login(manager)
    client.post(
        f"/incidents/{suggested.reference}/severity/",
        {"severity": "SEV-2", "incident_type": "customer-facing-outage"},
    )

    client.post(
        f"/incidents/{suggested.reference}/severity/",
        {"severity": "SEV-3", "incident_type": "supplier-failure", "reason": "less"},
    )

    titles = set(suggested.actions.values_list("title", flat=True))
    assert titles == {"Open the bridge", "Call the supplier"}


def test_who_may_not_edit_sees_no_type_control(client, suggested, db):
    from incidentops import groups

    # A responder who neither reported it nor holds a role on it.
    bystander = UserFactory(username="bea", groups=[groups.RESPONDERS])
    client.force_login(bystander)

    html = client.get(suggested.get_absolute_url()).content.decode()

    assert 'aria-label="Change type"' not in html
    assert "id_severity_incident_type" not in html
    response = client.post(
        f"/incidents/{suggested.reference}/type/",
        {"incident_type": "customer-facing-outage"},
    )
    assert response.status_code == 200
    assert "You may not edit this incident." in response.content.decode()
    assert Incident.objects.get(pk=suggested.pk).incident_type is None


def test_declaring_without_a_type_still_works(client, responder, outage):
    client.force_login(responder)

    response = client.post("/incidents/new/", {"title": "Something odd happened"})

    assert response.status_code == 302
    assert Incident.objects.get(title="Something odd happened").incident_type is None


def test_retyping_and_raising_together_applies_only_the_final_pairs_playbook(
    client, manager, suggested, outage, supplier
):
    # given a confirmed SEV-3 outage whose type has its own SEV-2 playbook
    outage_sev2 = PlaybookFactory(
        incident_type=outage, severity=severity("SEV-2"), name="Outage SEV-2"
    )
    PlaybookStepFactory(playbook=outage_sev2, title="Page the outage SEV-2 rota")
    client.force_login(manager)
    client.post(
        f"/incidents/{suggested.reference}/severity/",
        {"severity": "SEV-3", "incident_type": "customer-facing-outage"},
    )

    # when it is re-typed as a supplier failure and raised to SEV-2 in one go
    client.post(
        f"/incidents/{suggested.reference}/severity/",
        {"severity": "SEV-2", "incident_type": "supplier-failure", "reason": "wider"},
    )

    # then the old type's SEV-2 playbook was never passed through
    suggested.refresh_from_db()
    assert (suggested.incident_type, suggested.severity.code) == (supplier, "SEV-2")
    titles = set(suggested.actions.values_list("title", flat=True))
    assert titles == {"Open the bridge", "Call the supplier"}
    assert not PlaybookApplication.objects.filter(playbook=outage_sev2).exists()


def test_confirming_can_name_the_commander_and_start_in_one_step(
    client, manager, responder, incident
):
    client.force_login(manager)

    response = client.post(
        f"/incidents/{incident.reference}/severity/",
        {
            "severity": "SEV-1",
            "reason": "All checkout down",
            "commander": "rita",
            "start": "on",
        },
    )

    incident.refresh_from_db()
    assert response.status_code == 302
    assert incident.severity.code == "SEV-1"
    assert incident.commander == responder
    assert incident.status == "investigating"


def test_a_refused_start_changes_nothing_and_says_why(client, manager, incident):
    client.force_login(manager)

    # Starting without a commander is refused: the severity is not confirmed
    # either, and the reason is at the top of the page.
    response = client.post(
        f"/incidents/{incident.reference}/severity/",
        {"severity": "SEV-1", "reason": "x", "start": "on"},
    )

    incident.refresh_from_db()
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="refusal"' in page
    assert "It cannot leave triage: it has no incident commander" in page
    assert incident.severity is None
    assert incident.status == "triage"


def test_the_start_fields_are_offered_only_in_triage(client, manager, ready):
    client.force_login(manager)

    page = client.get(ready.get_absolute_url()).content.decode()
    assert "Start the response" in page
    client.post(f"/incidents/{ready.reference}/status/", {"status": "investigating"})

    assert (
        "Start the response"
        not in client.get(ready.get_absolute_url()).content.decode()
    )
