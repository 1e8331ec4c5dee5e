"""Fixtures for the incident core: people in each group and incidents at each
stage, all made through the services."""

import pytest

from incidents import services
from tests.factories import severity


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
