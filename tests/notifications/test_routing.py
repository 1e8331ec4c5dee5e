"""Who is told what: routing by event, severity and type; message context."""

import pytest
from django.core import mail

from incidents import services as incident_services
from incidents.events import history_import
from notifications.models import Delivery, Notification
from tests.factories import IncidentTypeFactory, UserFactory, role
from tests.notifications.conftest import command, confirm, declare
from tests.notifications.factories import StakeholderListFactory


def recipients(notification) -> set[str]:
    return set(notification.deliveries.values_list("recipient", flat=True))


@pytest.fixture
def lists(db):
    return {
        "triage": StakeholderListFactory(triage=True, emails=["triage@example.com"]),
        "execs": StakeholderListFactory(
            severities=["SEV-1"], emails=["execs@example.com"]
        ),
        "sev2": StakeholderListFactory(
            severities=["SEV-2"], emails=["management@example.com"]
        ),
    }


def test_declaring_tells_the_triage_list_only(lists, responder):
    incident = declare(responder)
    [notification] = incident.notifications.all()
    assert notification.kind == "incident_declared"
    assert recipients(notification) == {"triage@example.com"}


def test_confirming_sev1_tells_the_executives(lists, responder, manager):
    incident = command(declare(responder), manager)
    confirm(incident, manager, "SEV-1", reason="customer-facing outage")
    notification = incident.notifications.get(kind="severity_confirmed")
    assert recipients(notification) == {"execs@example.com"}
    assert "SEV-1" in notification.subject
    assert "customer-facing outage" in notification.body_text


def test_raising_tells_the_new_level_and_lowering_tells_nobody(
    lists, responder, manager
):
    incident = command(declare(responder), manager)
    confirm(incident, manager, "SEV-2")
    confirm(incident, manager, "SEV-1")
    confirm(incident, manager, "SEV-3")
    sent = incident.notifications.filter(kind="severity_confirmed").order_by("pk")
    assert [recipients(n) for n in sent] == [
        {"management@example.com"},
        {"execs@example.com"},
    ]
    assert "raised from SEV-2 to SEV-1" in sent[1].body_text


def test_lists_limited_to_a_type_hear_only_of_that_type(db, responder, manager):
    breach = IncidentTypeFactory(slug="data-breach")
    outage = IncidentTypeFactory(slug="outage")
    StakeholderListFactory(
        severities=["SEV-2"], incident_types=[breach], emails=["dpo@example.com"]
    )
    StakeholderListFactory(severities=["SEV-2"], emails=["ops@example.com"])

    for kind, expected in (
        (breach, {"dpo@example.com", "ops@example.com"}),
        (outage, {"ops@example.com"}),
    ):
        incident = command(declare(responder, incident_type=kind), manager)
        confirm(incident, manager, "SEV-2")
        assert recipients(incident.notifications.get()) == expected


def test_sev4_tells_nobody_beyond_the_queue(lists, responder, manager):
    incident = command(declare(responder), manager)
    confirm(incident, manager, "SEV-4")
    assert not incident.notifications.filter(kind="severity_confirmed").exists()


def test_role_assignment_tells_the_assignee_but_not_a_self_assignment(
    db, responder, manager, comms
):
    incident = declare(responder)
    command(incident, manager)  # the manager takes command themselves
    incident_services.incident_assign_role(
        incident=incident, actor=manager, role=role("communications"), user=comms
    )
    [notification] = incident.notifications.all()
    assert notification.kind == "role_assigned"
    assert recipients(notification) == {"carl@example.com"}
    assert f"You are {role('communications').name.lower()}" in notification.subject


def test_stakeholder_update_goes_to_the_incidents_lists(lists, responder, manager):
    incident = command(declare(responder), manager)
    confirm(incident, manager, "SEV-2")
    incident_services.stakeholder_update_post(
        incident=incident, actor=manager, body="Rolled back; error rate falling."
    )
    notification = incident.notifications.get(kind="stakeholder_update")
    assert recipients(notification) == {"management@example.com"}
    assert "Rolled back; error rate falling." in notification.body_text
    assert "Rolled back; error rate falling." in notification.body_html


def test_resolving_tells_the_incidents_lists(lists, responder, manager):
    incident = command(declare(responder), manager)
    confirm(incident, manager, "SEV-2")
    incident_services.incident_transition(
        incident=incident, actor=manager, status="investigating"
    )
    incident_services.incident_transition(
        incident=incident,
        actor=manager,
        status="resolved",
        resolution_summary="Bad deploy rolled back.",
    )
    notification = incident.notifications.get(kind="incident_resolved")
    assert recipients(notification) == {"management@example.com"}
    assert "Bad deploy rolled back." in notification.body_text


def test_messages_carry_the_incident_context(lists, responder, manager):
    incident = command(declare(responder), manager)
    confirm(incident, manager, "SEV-2")
    notification = incident.notifications.get(kind="severity_confirmed")
    due = incident.next_update_due_at()
    for body in (notification.body_text, notification.body_html):
        assert incident.reference in body
        assert incident.title in body
        assert "SEV-2 High" in body
        assert "Triage" in body  # status
        assert "Card payments fail for 20% of customers." in body
        assert manager.display_name in body  # commander
        assert "Severity confirmed as SEV-2" in body  # what changed
        assert f"{due:%H:%M}" in body  # next update due
        assert f"/incidents/{incident.reference}/" in body


def test_group_members_are_expanded_once_each(db, responder, manager):
    UserFactory(username="eve", groups=["Executives"])
    StakeholderListFactory(triage=True, groups=["Executives"], users=[manager])
    StakeholderListFactory(
        triage=True, groups=["Executives"], emails=["MIA@example.com"]
    )
    incident = declare(responder)
    # mia is in one list as a user and in the other as an address
    assert sorted(recipients(incident.notifications.get())) == [
        "eve@example.com",
        "mia@example.com",
    ]


def test_history_import_sends_nothing(lists, responder, manager):
    with history_import():
        incident = command(declare(responder), manager)
        confirm(incident, manager, "SEV-1")
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()
    assert mail.outbox == []
    assert not incident.timeline.filter(kind="communication").exists()
