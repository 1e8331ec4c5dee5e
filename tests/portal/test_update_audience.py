"""Before a stakeholder update is sent, the page says who will receive it."""

import pytest

from incidents import providers, services
from tests.factories import IncidentTypeFactory, UserFactory, role, severity
from tests.notifications.factories import StakeholderListFactory

pytestmark = pytest.mark.django_db


def test_the_update_form_names_the_lists_and_recipients(client, manager, ready):
    StakeholderListFactory(
        name="SEV-2 management",
        severities=["SEV-2"],
        users=[UserFactory(username="erin", first_name="Erin", last_name="Exec")],
        emails=["status@example.com"],
    )
    client.force_login(manager)

    page = client.get(ready.get_absolute_url()).content.decode()

    assert 'data-testid="update-audience"' in page
    assert "Goes to 2 recipients" in page
    assert "SEV-2 management" in page
    assert "Erin Exec" in page


def test_nobody_to_tell_is_said_before_sending(client, manager, ready):
    client.force_login(manager)

    page = client.get(ready.get_absolute_url()).content.decode()

    assert "Nobody would receive it" in page


def test_a_restricted_incidents_outsiders_are_counted_not_named(manager):
    breach = IncidentTypeFactory(slug="breach", name="Breach", restricted=True)
    incident = services.incident_declare(
        actor=manager, title="Records exposed", incident_type=breach
    )
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    services.incident_confirm_severity(
        incident=incident, actor=manager, severity=severity("SEV-1"), reason="x"
    )
    StakeholderListFactory(
        name="Everyone", severities=["SEV-1"], emails=["all@example.com"]
    )

    audience = providers.update_audience(incident)

    assert audience.total == 0
    assert audience.withheld == 1
    assert audience.people == []
