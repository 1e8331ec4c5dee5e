from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from guardian.shortcuts import get_users_with_perms

from incidentops import groups
from incidentops.exceptions import Conflict, DomainError, NotPermitted
from incidents import events, services
from incidents.models import ActionItem, PlaybookApplication, RoleAssignment
from tests.factories import (
    IncidentTypeFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    RoleFactory,
    UserFactory,
    role,
    severity,
)

# --- confirm severity ----------------------------------------------------------


def test_manager_confirms_severity_keeping_the_suggestion(incident, manager):
    suggested = incident.suggested_severity
    seen = []

    def receiver(sender, incident, previous_severity, actor, **kwargs):
        seen.append((incident.pk, previous_severity, actor))

    events.incident_severity_confirmed.connect(receiver, weak=False)
    try:
        services.incident_confirm_severity(
            incident=incident,
            actor=manager,
            severity=severity("SEV-1"),
            reason="All card payments fail",
        )
    finally:
        events.incident_severity_confirmed.disconnect(receiver)

    incident.refresh_from_db()
    assert incident.severity == severity("SEV-1")
    assert incident.severity_confirmed_by == manager
    assert incident.severity_confirmed_at is not None
    assert incident.severity_reason == "All card payments fail"
    assert incident.suggested_severity == suggested
    # other apps may log communications after it; the confirmation is recorded
    entry = incident.timeline.filter(kind="severity_confirmed").last()
    assert entry is not None
    assert entry.data["suggested"] == suggested.code
    assert entry.data["severity"] == "SEV-1"
    assert seen == [(incident.pk, None, manager)]


def test_service_account_may_never_confirm_severity(incident, bot):
    with pytest.raises(NotPermitted, match="person"):
        services.incident_confirm_severity(
            incident=incident, actor=bot, severity=severity("SEV-2")
        )
    incident.refresh_from_db()
    assert incident.severity is None


def test_responder_who_is_not_commander_may_not_confirm(incident, responder):
    with pytest.raises(NotPermitted):
        services.incident_confirm_severity(
            incident=incident, actor=responder, severity=severity("SEV-2")
        )


def test_commander_may_confirm(incident, responder):
    services.incident_assign_role(
        incident=incident, actor=responder, role=role("commander"), user=responder
    )
    services.incident_confirm_severity(
        incident=incident, actor=responder, severity=severity("SEV-3")
    )
    incident.refresh_from_db()
    assert incident.severity.code == "SEV-3"


@pytest.fixture
def outage_type():
    return IncidentTypeFactory(slug="outage")


@pytest.fixture
def playbooks(outage_type):
    generic = PlaybookFactory(
        incident_type=outage_type,
        name="Generic outage",
        required_roles=[role("commander"), role("communications")],
    )
    PlaybookStepFactory(playbook=generic, title="Open a bridge", order=1)
    PlaybookStepFactory(
        playbook=generic,
        title="Tell customers",
        order=2,
        owner_role=role("commander"),
        due_offset=timedelta(hours=1),
    )
    sev1 = PlaybookFactory(
        incident_type=outage_type, severity=severity("SEV-1"), name="Major outage"
    )
    PlaybookStepFactory(playbook=sev1, title="Page executives", order=1)
    return {"generic": generic, "sev1": sev1}


@pytest.fixture
def outage(responder, manager, outage_type):
    incident = services.incident_declare(
        actor=responder, title="Site down", incident_type=outage_type
    )
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    return incident


def _confirm(incident, user, code, **kwargs):
    return services.incident_confirm_severity(
        incident=incident, actor=user, severity=severity(code), **kwargs
    )


def test_confirm_applies_the_generic_playbook_once(outage, manager, playbooks):
    now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    _confirm(outage, manager, "SEV-2", now=now)
    _confirm(outage, manager, "SEV-2")  # confirming again applies nothing more

    titles = list(outage.actions.order_by("pk").values_list("title", flat=True))
    assert titles == ["Open a bridge", "Tell customers"]
    tell = outage.actions.get(title="Tell customers")
    assert tell.owner == manager  # the commander holds the step's role
    assert tell.due_at == now + timedelta(hours=1)
    assert PlaybookApplication.objects.filter(incident=outage).count() == 1
    assert set(outage.missing_roles().values_list("slug", flat=True)) == {
        "communications"
    }
    assert outage.timeline.filter(kind="playbook").count() == 1


def test_raising_applies_the_specific_playbook(outage, manager, playbooks):
    _confirm(outage, manager, "SEV-2")
    _confirm(outage, manager, "SEV-1")

    assert set(outage.actions.values_list("title", flat=True)) == {
        "Open a bridge",
        "Tell customers",
        "Page executives",
    }
    assert outage.playbook_applications.count() == 2


def test_lowering_applies_nothing_and_keeps_actions(outage, manager, playbooks):
    _confirm(outage, manager, "SEV-1")
    _confirm(outage, manager, "SEV-3")

    assert list(outage.actions.values_list("title", flat=True)) == ["Page executives"]
    assert outage.playbook_applications.count() == 1


def test_severity_specific_playbook_wins_over_generic(outage, manager, playbooks):
    _confirm(outage, manager, "SEV-1")
    application = outage.playbook_applications.get()
    assert application.playbook == playbooks["sev1"]
    assert application.severity == severity("SEV-1")


def test_playbook_apply_directly_is_idempotent(outage, manager, playbooks):
    first = services.playbook_apply(
        incident=outage, playbook=playbooks["generic"], actor=manager
    )
    again = services.playbook_apply(
        incident=outage, playbook=playbooks["generic"], actor=manager
    )
    assert first is not None
    assert again is None
    assert outage.actions.count() == 2


def test_playbook_of_another_type_is_refused(outage, manager):
    other = PlaybookFactory()
    with pytest.raises(DomainError):
        services.playbook_apply(incident=outage, playbook=other, actor=manager)


def test_confirm_refused_on_a_closed_incident(investigating, manager):
    services.incident_transition(
        incident=investigating, actor=manager, status="resolved"
    )
    services.incident_transition(incident=investigating, actor=manager, status="closed")
    with pytest.raises(DomainError):
        _confirm(investigating, manager, "SEV-1")


# --- roles ---------------------------------------------------------------------


def test_assigning_the_commander_records_and_grants(incident, manager, responder):
    now = datetime(2026, 5, 1, 9, 5, tzinfo=UTC)
    assignment = services.incident_assign_role(
        incident=incident,
        actor=manager,
        role=role("commander"),
        user=responder,
        note="on call",
        now=now,
    )

    assert assignment.is_current
    assert assignment.assigned_by == manager
    incident.refresh_from_db()
    assert incident.commander == responder
    assert incident.acknowledged_at == now
    assert responder.has_perm("incidents.change_incident", incident)
    # the assignee is told (a communication entry follows); the role entry is there
    entry = incident.timeline.filter(kind="role").last()
    assert entry is not None
    assert entry.data == {
        "role": "commander",
        "user": "rita",
        "previous": None,
        "note": "on call",
    }


def test_commander_is_never_a_service_account(incident, manager, bot):
    with pytest.raises(DomainError, match="must be a person, not a service account"):
        services.incident_assign_role(
            incident=incident, actor=manager, role=role("commander"), user=bot
        )
    assert incident.commander is None


def test_commander_is_human_only_even_if_the_admin_unticks_it(incident, manager, bot):
    commander = role("commander")
    commander.human_only = False
    commander.save()
    with pytest.raises(DomainError):
        services.incident_assign_role(
            incident=incident, actor=manager, role=commander, user=bot
        )


def test_custom_human_only_role_refuses_service_accounts(incident, manager, bot):
    legal = RoleFactory(slug="legal", name="Legal counsel", human=True)
    with pytest.raises(DomainError, match="must be a person"):
        services.incident_assign_role(
            incident=incident, actor=manager, role=legal, user=bot
        )


def test_other_roles_may_go_to_service_accounts(incident, manager, bot):
    assignment = services.incident_assign_role(
        incident=incident, actor=manager, role=role("scribe"), user=bot
    )
    assert assignment.user == bot


def test_inactive_users_get_no_roles(incident, manager):
    gone = UserFactory(is_active=False)
    with pytest.raises(DomainError):
        services.incident_assign_role(
            incident=incident, actor=manager, role=role("scribe"), user=gone
        )


def test_handover_ends_the_previous_assignment(commanded, manager, responder):
    received = []

    def receiver(sender, assignment, previous_assignment, actor, **kwargs):
        received.append((assignment.user, previous_assignment.user))

    events.incident_role_assigned.connect(receiver, weak=False)
    try:
        services.incident_assign_role(
            incident=commanded, actor=manager, role=role("commander"), user=responder
        )
    finally:
        events.incident_role_assigned.disconnect(receiver)

    rows = RoleAssignment.objects.filter(incident=commanded).order_by("started_at")
    assert [(a.user, a.ended_at is None) for a in rows] == [
        (manager, False),
        (responder, True),
    ]
    assert commanded.commander == responder
    assert received == [(responder, manager)]
    assert "taking over from" in commanded.timeline.filter(kind="role").last().summary


def test_reassigning_the_same_holder_is_refused(commanded, manager):
    with pytest.raises(DomainError, match="already holds"):
        services.incident_assign_role(
            incident=commanded, actor=manager, role=role("commander"), user=manager
        )


def test_database_allows_one_current_holder_per_role(commanded, responder):
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            incident=commanded, role=role("commander"), user=responder
        )


def test_responder_may_take_unclaimed_command_only(incident, responder):
    other = UserFactory(groups=[groups.RESPONDERS])
    services.incident_assign_role(
        incident=incident, actor=responder, role=role("commander"), user=responder
    )
    # Command is taken: another responder cannot claim it, and is told who has
    # it (a conflict: the claim lost, it was not forbidden)...
    with pytest.raises(Conflict) as refused:
        services.incident_assign_role(
            incident=incident, actor=other, role=role("commander"), user=other
        )
    assert refused.value.holder == responder.username
    # ...and a responder who is not commander cannot hand out roles.
    with pytest.raises(NotPermitted):
        services.incident_assign_role(
            incident=incident, actor=other, role=role("scribe"), user=other
        )


def test_commander_assigns_other_roles(commanded, manager, responder):
    services.incident_assign_role(
        incident=commanded, actor=manager, role=role("communications"), user=responder
    )
    assert responder in get_users_with_perms(commanded)


def test_roles_cannot_change_on_closed_incidents(investigating, manager, responder):
    services.incident_transition(
        incident=investigating, actor=manager, status="resolved"
    )
    services.incident_transition(incident=investigating, actor=manager, status="closed")
    with pytest.raises(DomainError):
        services.incident_assign_role(
            incident=investigating, actor=manager, role=role("scribe"), user=responder
        )


def test_action_items_stay_when_severity_drops(outage, manager, playbooks):
    _confirm(outage, manager, "SEV-2")
    before = set(ActionItem.objects.filter(incident=outage).values_list("pk"))
    _confirm(outage, manager, "SEV-4")
    assert set(ActionItem.objects.filter(incident=outage).values_list("pk")) == before
