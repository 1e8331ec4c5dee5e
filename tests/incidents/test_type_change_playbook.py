"""A new type on a confirmed incident applies that type's playbook, once."""

import pytest

from incidents import services
from incidents.models import ActionItem, PlaybookApplication, TimelineEntry
from tests.factories import (
    IncidentTypeFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    severity,
)


@pytest.fixture
def outage(db):
    kind = IncidentTypeFactory(slug="service-outage", name="Service outage")
    playbook = PlaybookFactory(incident_type=kind, name="Outage playbook")
    PlaybookStepFactory(playbook=playbook, title="Open the bridge")
    PlaybookStepFactory(playbook=playbook, title="Post a status page notice")
    return kind


def playbook_actions(incident) -> list[str]:
    return sorted(
        incident.actions.filter(playbook_step__isnull=False).values_list(
            "title", flat=True
        )
    )


def test_typing_a_confirmed_incident_applies_the_new_types_playbook(
    ready, manager, outage
):
    # given a confirmed incident without a type: confirming applied nothing
    assert playbook_actions(ready) == []

    # when
    services.incident_update(incident=ready, actor=manager, incident_type=outage)

    # then
    assert playbook_actions(ready) == ["Open the bridge", "Post a status page notice"]
    application = PlaybookApplication.objects.get(incident=ready)
    assert application.playbook.name == "Outage playbook"
    assert application.severity.code == "SEV-2"
    assert ready.timeline.filter(kind=TimelineEntry.Kind.PLAYBOOK).count() == 1


def test_the_playbook_is_applied_once_however_often_the_type_comes_back(
    ready, manager, outage
):
    other = IncidentTypeFactory(slug="other", name="Other")

    services.incident_update(incident=ready, actor=manager, incident_type=outage)
    services.incident_update(incident=ready, actor=manager, incident_type=other)
    services.incident_update(incident=ready, actor=manager, incident_type=outage)
    services.incident_confirm_severity(
        incident=ready, actor=manager, severity=severity("SEV-2")
    )

    assert PlaybookApplication.objects.filter(incident=ready).count() == 1
    assert len(playbook_actions(ready)) == 2


def test_typing_an_unconfirmed_incident_applies_nothing_until_confirmation(
    commanded, manager, outage
):
    services.incident_update(incident=commanded, actor=manager, incident_type=outage)
    assert playbook_actions(commanded) == []

    services.incident_confirm_severity(
        incident=commanded, actor=manager, severity=severity("SEV-3")
    )

    assert len(playbook_actions(commanded)) == 2
    assert PlaybookApplication.objects.filter(incident=commanded).count() == 1


def test_the_severity_specific_playbook_wins_for_the_new_type(ready, manager, outage):
    specific = PlaybookFactory(
        incident_type=outage, severity=severity("SEV-2"), name="Outage at SEV-2"
    )
    PlaybookStepFactory(playbook=specific, title="Page the SEV-2 rota")

    services.incident_update(incident=ready, actor=manager, incident_type=outage)

    assert playbook_actions(ready) == ["Page the SEV-2 rota"]


def test_a_reporter_who_may_edit_gets_the_playbook_applied(ready, responder, outage):
    # The reporter may edit the type; the playbook is the change's consequence.
    services.incident_update(incident=ready, actor=responder, incident_type=outage)

    assert len(playbook_actions(ready)) == 2


def test_a_resolved_incident_gets_no_playbook_on_a_new_type(ready, manager, outage):
    services.incident_transition(incident=ready, actor=manager, status="investigating")
    services.incident_transition(
        incident=ready, actor=manager, status="resolved", note="Fixed"
    )

    services.incident_update(incident=ready, actor=manager, incident_type=outage)

    assert ready.incident_type == outage
    assert not ActionItem.objects.filter(incident=ready).exists()


def test_the_suggestion_entry_names_the_type_not_its_slug(responder, db):
    IncidentTypeFactory(
        slug="customer-facing-outage",
        name="Customer-facing service outage",
        keywords="checkout, 502",
    )

    incident = services.incident_declare(
        actor=responder, title="Checkout returns 502 for everyone"
    )

    entry = incident.timeline.get(kind=TimelineEntry.Kind.SEVERITY_SUGGESTED)
    assert incident.suggested_type.slug == "customer-facing-outage"
    assert "“Customer-facing service outage”" in entry.summary
    assert "customer-facing-outage" not in entry.summary


def test_confirming_applies_the_playbook_without_the_right_to_manage_actions(
    commanded, outage
):
    # given someone who may confirm severities but not manage actions
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    confirmer = UserFactory(username="conf")
    confirmer.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="incidents",
            codename__in=["view_incident", "change_incident", "confirm_severity"],
        )
    )
    confirmer = type(confirmer).objects.get(pk=confirmer.pk)
    services.incident_update(incident=commanded, actor=confirmer, incident_type=outage)
    assert not confirmer.has_perm("incidents.change_actionitem")

    # when
    services.incident_confirm_severity(
        incident=commanded, actor=confirmer, severity=severity("SEV-3")
    )

    # then
    commanded.refresh_from_db()
    assert commanded.severity.code == "SEV-3"
    assert playbook_actions(commanded) == [
        "Open the bridge",
        "Post a status page notice",
    ]


def test_classify_retypes_and_confirms_applying_one_playbook(ready, manager, outage):
    # given a confirmed SEV-2 incident without a type, and another type whose
    # SEV-1 playbook is the only one that should apply
    other = IncidentTypeFactory(slug="other-kind", name="Other kind")
    other_sev1 = PlaybookFactory(
        incident_type=other, severity=severity("SEV-1"), name="Other SEV-1"
    )
    PlaybookStepFactory(playbook=other_sev1, title="Call the board")
    outage_sev1 = PlaybookFactory(
        incident_type=outage, severity=severity("SEV-1"), name="Outage SEV-1"
    )
    PlaybookStepFactory(playbook=outage_sev1, title="Page the outage SEV-1 rota")

    # when
    services.incident_classify(
        incident=ready,
        actor=manager,
        severity=severity("SEV-1"),
        incident_type=other,
        reason="Spreading",
    )

    # then
    ready.refresh_from_db()
    assert (ready.incident_type, ready.severity.code) == (other, "SEV-1")
    assert playbook_actions(ready) == ["Call the board"]
    assert PlaybookApplication.objects.filter(incident=ready).count() == 1


def test_classify_lowering_with_a_new_type_applies_the_new_pairs_playbook(
    ready, manager, outage
):
    services.incident_classify(
        incident=ready, actor=manager, severity=severity("SEV-3"), incident_type=outage
    )

    assert playbook_actions(ready) == ["Open the bridge", "Post a status page notice"]


def test_classify_without_a_type_keeps_it_and_a_refusal_changes_nothing(
    ready, responder, manager, outage
):
    services.incident_classify(
        incident=ready, actor=manager, severity=severity("SEV-3")
    )
    ready.refresh_from_db()
    assert ready.incident_type is None and ready.severity.code == "SEV-3"

    # a responder may edit (as reporter) but not confirm: neither change stays
    with pytest.raises(services.NotPermitted):
        services.incident_classify(
            incident=ready,
            actor=responder,
            severity=severity("SEV-1"),
            incident_type=outage,
        )
    ready.refresh_from_db()
    assert ready.incident_type is None and ready.severity.code == "SEV-3"
