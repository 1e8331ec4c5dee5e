"""Resolving asks first when it would leave open actions or unfilled required
roles behind, and the resolved page drops the response-time warnings."""

import pytest

from incidents import services
from incidents.models import ActionItem
from tests.factories import IncidentTypeFactory, PlaybookFactory, role, severity

pytestmark = pytest.mark.django_db


@pytest.fixture
def investigating(ready, manager):
    services.incident_transition(incident=ready, actor=manager, status="investigating")
    return ready


@pytest.fixture
def open_action(investigating, manager):
    return services.action_create(
        incident=investigating,
        actor=manager,
        title="Rotate the leaked key",
        priority="high",
    )


def _resolve(client, incident, **extra):
    return client.post(
        f"{incident.get_absolute_url()}status/",
        {"status": "resolved", "note": "Fixed by the rollback", **extra},
    )


def test_resolving_with_open_actions_asks_first_and_changes_nothing(
    client, manager, investigating, open_action
):
    client.force_login(manager)

    response = _resolve(client, investigating)

    investigating.refresh_from_db()
    page = response.content.decode()
    assert response.status_code == 200
    assert investigating.status == "investigating"
    assert 'id="resolve-confirm"' in page
    assert "Rotate the leaked key" in page
    assert "High priority" in page
    assert 'value="Fixed by the rollback"' in page  # the note is carried over


def test_keeping_the_actions_resolves_and_leaves_them_open(
    client, manager, investigating, open_action
):
    client.force_login(manager)

    response = _resolve(client, investigating, open_actions="keep")

    investigating.refresh_from_db()
    open_action.refresh_from_db()
    assert response.status_code == 302
    assert investigating.status == "resolved"
    assert investigating.resolution_summary == "Fixed by the rollback"
    assert open_action.status == ActionItem.Status.OPEN


def test_cancelling_the_actions_resolves_and_logs_them(
    client, manager, investigating, open_action
):
    client.force_login(manager)

    _resolve(client, investigating, open_actions="cancel")

    open_action.refresh_from_db()
    assert open_action.status == ActionItem.Status.CANCELLED
    entry = investigating.timeline.filter(
        kind="action", data__change="cancelled_on_resolve"
    ).get()
    assert entry.data["actions"] == [open_action.pk]
    assert "Rotate the leaked key" in entry.summary


def test_resolving_with_nothing_left_behind_asks_nothing(
    client, manager, investigating
):
    client.force_login(manager)

    response = _resolve(client, investigating)

    investigating.refresh_from_db()
    assert response.status_code == 302
    assert investigating.status == "resolved"


def test_unfilled_required_roles_are_asked_about(client, manager, responder):
    outage = IncidentTypeFactory(slug="outage", name="Outage")
    playbook = PlaybookFactory(incident_type=outage, name="Outage playbook")
    playbook.required_roles.add(role("communications"))
    incident = services.incident_declare(
        actor=responder, title="Checkout down", incident_type=outage
    )
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    services.incident_confirm_severity(
        incident=incident, actor=manager, severity=severity("SEV-2"), reason="x"
    )
    services.incident_transition(
        incident=incident, actor=manager, status="investigating"
    )
    client.force_login(manager)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "1 required role unfilled" in page

    asked = _resolve(client, incident).content.decode()
    assert "Required roles nobody holds" in asked
    assert "Communications" in asked

    _resolve(client, incident, open_actions="keep")
    resolved = client.get(incident.get_absolute_url()).content.decode()
    assert "Required by the playbook — unassigned" not in resolved
    assert "Nobody has taken command" not in resolved
    assert "Next update due" not in resolved


def test_the_service_cancels_open_actions_only_when_asked(
    investigating, manager, open_action
):
    services.incident_transition(
        incident=investigating, actor=manager, status="resolved"
    )

    open_action.refresh_from_db()
    assert open_action.status == ActionItem.Status.OPEN
