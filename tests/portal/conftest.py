"""People and incidents for the portal's view tests, made through the services."""

import pytest

from incidentops import groups
from incidents import services
from tests.factories import IncidentTypeFactory, UserFactory, role, severity


@pytest.fixture
def responder(db):
    return UserFactory(username="rita", groups=[groups.RESPONDERS])


@pytest.fixture
def manager(db):
    return UserFactory(
        username="mia", groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS]
    )


@pytest.fixture
def outsider(db):
    """A responder with no grant on anything restricted."""
    return UserFactory(username="otto", groups=[groups.RESPONDERS])


@pytest.fixture
def incident(responder):
    return services.incident_declare(
        actor=responder,
        title="Checkout API returns 500 errors",
        description="Card payments fail for a share of customers.",
    )


@pytest.fixture
def secret_incident(manager):
    breach = IncidentTypeFactory(
        slug="data-breach", name="Data breach", restricted=True, gdpr=True
    )
    return services.incident_declare(
        actor=manager,
        title="Payroll export mailed to the wrong supplier",
        incident_type=breach,
    )


@pytest.fixture
def commanded(incident, manager):
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    return incident


@pytest.fixture
def ready(commanded, manager):
    services.incident_confirm_severity(
        incident=commanded, actor=manager, severity=severity("SEV-2"), reason="SLA"
    )
    return commanded
