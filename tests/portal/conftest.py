"""People and incidents for the portal's view tests, made through the services."""

import pytest

from incidentops import groups
from incidents import services
from tests.factories import IncidentTypeFactory, UserFactory, severity


@pytest.fixture
def outsider(db):
    """A responder with no grant on anything restricted."""
    return UserFactory(username="otto", groups=[groups.RESPONDERS])


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
def ready(commanded, manager):
    services.incident_confirm_severity(
        incident=commanded, actor=manager, severity=severity("SEV-2"), reason="SLA"
    )
    return commanded
