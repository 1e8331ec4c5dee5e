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
