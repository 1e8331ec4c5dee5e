"""People the browser journeys sign in as (a module may define its own)."""

import pytest

from incidentops import groups
from tests.factories import UserFactory


@pytest.fixture
def people(transactional_db):
    return {
        "rita": UserFactory(
            username="rita",
            first_name="Rita",
            last_name="Responder",
            groups=[groups.RESPONDERS],
        ),
        "mia": UserFactory(
            username="mia",
            first_name="Mia",
            last_name="Manager",
            groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
        ),
    }
