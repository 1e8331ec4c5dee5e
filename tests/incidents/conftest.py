"""Fixtures for the incident core: people in each group and incidents at each
stage, all made through the services."""

import pytest

from incidentops import groups
from incidents import services
from tests.factories import UserFactory, role, severity


@pytest.fixture
def responder(db):
    return UserFactory(username="rita", groups=[groups.RESPONDERS])


@pytest.fixture
def manager(db):
    return UserFactory(
        username="mia", groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS]
    )


@pytest.fixture
def bot(db):
    """A service account with every incident right a group can give."""
    return UserFactory(
        username="bot",
        service_account=True,
        groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
    )


@pytest.fixture
def incident(responder):
    return services.incident_declare(
        actor=responder,
        title="Checkout API returns 500 errors",
        description="Card payments fail for a share of customers.",
    )


@pytest.fixture
def commanded(incident, manager):
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    return incident


@pytest.fixture
def ready(commanded, manager):
    """Commanded and with a confirmed severity: may leave triage."""
    services.incident_confirm_severity(
        incident=commanded, actor=manager, severity=severity("SEV-2"), reason="SLA"
    )
    return commanded


@pytest.fixture
def investigating(ready, manager):
    return services.incident_transition(
        incident=ready, actor=manager, status="investigating"
    )
