"""Fixtures for the API tests: people in each group, clients acting as them, and
incidents made through the services."""

import pytest
from rest_framework.test import APIClient

from incidents import services
from tests.factories import severity


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def anonymous():
    return APIClient()


@pytest.fixture
def as_responder(responder):
    return client_for(responder)


@pytest.fixture
def as_manager(manager):
    return client_for(manager)


@pytest.fixture
def as_bot(bot):
    return client_for(bot)


@pytest.fixture
def secret_incident(manager):
    """Restricted: the responder has no grant on it."""
    return services.incident_declare(
        actor=manager,
        title="Customer records exposed in a public bucket",
        restricted=True,
    )


@pytest.fixture
def ready(commanded, manager):
    services.incident_confirm_severity(
        incident=commanded, actor=manager, severity=severity("SEV-2"), reason="SLA"
    )
    return commanded
