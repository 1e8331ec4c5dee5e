import re
from datetime import UTC, datetime, timedelta

import pytest
from guardian.shortcuts import get_groups_with_perms, get_users_with_perms

from incidentops import groups
from incidentops.exceptions import DomainError, NotPermitted
from incidents import events, services
from incidents.models import Incident, TimelineEntry
from incidents.services import OpenIncidentExists
from tests.factories import (
    IncidentTypeFactory,
    IntegrationFactory,
    UserFactory,
    role,
    severity,
)


@pytest.fixture
def received():
    """Every domain event sent during the test, as (signal name, kwargs)."""
    seen = []
    receivers = []
    for name in (
        "incident_declared",
        "incident_changed",
        "incident_updated",
    ):
        signal = getattr(events, name)

        def receiver(sender, _name=name, **kwargs):
            kwargs.pop("signal", None)
            seen.append((_name, kwargs))

        signal.connect(receiver, weak=False)
        receivers.append((signal, receiver))
    yield seen
    for signal, receiver in receivers:
        signal.disconnect(receiver)


def test_declare_creates_a_triage_incident_with_suggestion_and_timeline(
    responder, received
):
    incident = services.incident_declare(
        actor=responder,
        title="Checkout site down for all customers",
        customer_facing=True,
        affected_services=["checkout", "checkout", " payments "],
    )

    assert re.fullmatch(r"INC-\d{4}-\d{4}", incident.reference)
    assert incident.status == "triage"
    assert incident.reporter == responder
    assert incident.severity is None
    assert incident.suggested_severity == severity("SEV-1")
    assert incident.suggestion["severity"] == "SEV-1"
    assert set(incident.suggestion) >= {
        "severity",
        "incident_type",
        "confidence",
        "rationale",
        "similar",
    }
    assert incident.affected_services == ["checkout", "payments"]
    kinds = list(incident.timeline.values_list("kind", flat=True))
    assert kinds == ["declared", "severity_suggested"]
    assert [name for name, _ in received] == ["incident_declared", "incident_changed"]
    assert received[0][1] == {"incident": incident, "actor": responder}


def test_declare_numbers_references_per_year(responder):
    first = services.incident_declare(actor=responder, title="One")
    second = services.incident_declare(actor=responder, title="Two")
    year = first.created_at.year

    assert first.reference == f"INC-{year}-0001"
    assert second.reference == f"INC-{year}-0002"


def test_declare_can_be_back_dated(responder):
    now = datetime(2025, 3, 4, 10, 0, tzinfo=UTC)
    detected = now - timedelta(minutes=20)

    incident = services.incident_declare(
        actor=responder, title="Old outage", now=now, detected_at=detected
    )

    assert incident.reference == "INC-2025-0001"
    assert incident.created_at == now
    assert incident.detected_at == detected
    assert incident.timeline.first().occurred_at == now


def test_declare_restricts_by_type_and_grants_reporter_and_type_groups(responder):
    breach = IncidentTypeFactory(restricted=True, restricted_groups=[groups.EXECUTIVES])

    incident = services.incident_declare(
        actor=responder, title="Laptop stolen", incident_type=breach
    )

    assert incident.restricted is True
    assert responder in get_users_with_perms(incident)
    assert [g.name for g in get_groups_with_perms(incident)] == [groups.EXECUTIVES]


def test_declare_restricted_type_unrestricted_is_refused_to_a_responder(responder):
    breach = IncidentTypeFactory(restricted=True)
    with pytest.raises(NotPermitted, match="restricted by default"):
        services.incident_declare(
            actor=responder, title="Test", incident_type=breach, restricted=False
        )
    assert not Incident.objects.exists()


def test_declare_restricted_type_unrestricted_by_a_manager(manager):
    breach = IncidentTypeFactory(restricted=True)
    incident = services.incident_declare(
        actor=manager, title="Test", incident_type=breach, restricted=False
    )
    assert incident.restricted is False


def test_declare_refused_without_permission(db):
    outsider = UserFactory()
    with pytest.raises(NotPermitted):
        services.incident_declare(actor=outsider, title="Nope")
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "X", "dedup_key": "k"}, "dedup_key"),
    ],
)
def test_declare_refuses_invalid_input(responder, kwargs, field):
    with pytest.raises(DomainError) as error:
        services.incident_declare(actor=responder, **kwargs)
    assert error.value.field == field


def test_declare_refuses_detection_in_the_future(responder):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(DomainError):
        services.incident_declare(
            actor=responder, title="X", now=now, detected_at=now + timedelta(hours=1)
        )


def test_integration_account_declares_with_dedup_key_once_while_open(db):
    integration = IntegrationFactory()
    bot = integration.service_account
    incident = services.incident_declare(
        actor=bot, title="Disk full", integration=integration, dedup_key="g1"
    )

    with pytest.raises(OpenIncidentExists) as error:
        services.incident_declare(
            actor=bot, title="Disk full", integration=integration, dedup_key="g1"
        )

    assert error.value.incident == incident
    assert Incident.objects.count() == 1


def test_database_enforces_one_open_incident_per_dedup_key(db):
    from django.db import IntegrityError, transaction

    integration = IntegrationFactory()
    services.incident_declare(
        actor=integration.service_account,
        title="A",
        integration=integration,
        dedup_key="k",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Incident.objects.create(
            reference="INC-2000-0001", title="B", integration=integration, dedup_key="k"
        )


def test_dedup_key_is_free_again_once_resolved(db):
    integration = IntegrationFactory()
    closed = Incident.objects.create(
        reference="INC-2000-0001",
        title="A",
        integration=integration,
        dedup_key="k",
        status="resolved",
    )
    again = services.incident_declare(
        actor=integration.service_account,
        title="A again",
        integration=integration,
        dedup_key="k",
    )
    assert again.pk != closed.pk


def test_inactive_integration_cannot_declare(db):
    integration = IntegrationFactory(is_active=False)
    with pytest.raises(NotPermitted):
        services.incident_declare(
            actor=integration.service_account, title="X", integration=integration
        )


# --- update -----------------------------------------------------------------


def test_update_changes_plain_fields_and_logs_them(incident, responder, received):
    network = IncidentTypeFactory(slug="network")

    services.incident_update(
        incident=incident,
        actor=responder,
        title="Checkout API down",
        customer_facing=True,
        incident_type=network,
        affected_sites=["London", "London"],
    )

    incident.refresh_from_db()
    assert incident.title == "Checkout API down"
    assert incident.customer_facing is True
    assert incident.incident_type == network
    assert incident.affected_sites == ["London"]
    entry = incident.timeline.last()
    assert entry.kind == "field_change"
    assert entry.data["changes"]["incident_type"] == {"from": None, "to": "network"}
    assert entry.data["changes"]["title"]["from"] == "Checkout API returns 500 errors"
    assert "incident_updated" in [name for name, _ in received]


def test_update_without_changes_writes_nothing(incident, responder):
    before = incident.timeline.count()
    services.incident_update(incident=incident, actor=responder, title=incident.title)
    assert incident.timeline.count() == before


@pytest.mark.parametrize("field", ["severity", "commander", "status", "reference"])
def test_update_refuses_fields_with_their_own_services(incident, manager, field):
    before = TimelineEntry.objects.count()
    with pytest.raises(DomainError) as error:
        services.incident_update(
            incident=incident, actor=manager, **{field: severity("SEV-1")}
        )
    assert error.value.field == field
    incident.refresh_from_db()
    assert incident.severity is None
    assert incident.commander is None
    assert TimelineEntry.objects.count() == before


def test_update_refused_for_someone_without_rights(incident):
    reviewer = UserFactory(groups=[groups.REVIEWERS])
    with pytest.raises(NotPermitted):
        services.incident_update(incident=incident, actor=reviewer, title="Mine")


def test_update_lifting_a_restriction_needs_a_manager(responder, manager):
    incident = services.incident_declare(
        actor=responder, title="HR matter", restricted=True
    )
    with pytest.raises(NotPermitted):
        services.incident_update(incident=incident, actor=responder, restricted=False)

    # The reporter takes command and brings the manager in, which grants access.
    services.incident_assign_role(
        incident=incident, actor=responder, role=role("commander"), user=responder
    )
    services.incident_assign_role(
        incident=incident, actor=responder, role=role("operations"), user=manager
    )
    services.incident_update(incident=incident, actor=manager, restricted=False)
    incident.refresh_from_db()
    assert incident.restricted is False


def test_making_an_incident_restricted_grants_its_people(incident, responder):
    hr = IncidentTypeFactory(restricted_groups=[groups.EXECUTIVES])
    services.incident_update(
        incident=incident, actor=responder, restricted=True, incident_type=hr
    )
    assert responder in get_users_with_perms(incident)
    assert [g.name for g in get_groups_with_perms(incident)] == [groups.EXECUTIVES]
