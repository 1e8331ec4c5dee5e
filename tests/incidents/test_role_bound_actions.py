"""Actions that belong to a role follow whoever holds the role."""

import pytest

from incidents import services
from incidents.models import ActionItem
from tests.factories import UserFactory, role

pytestmark = pytest.mark.django_db


@pytest.fixture
def comms_action(commanded, manager):
    return services.action_create(
        incident=commanded,
        actor=manager,
        title="Post the first customer update",
        role=role("communications"),
    )


def test_an_unassigned_action_of_a_role_goes_to_whoever_takes_the_role(
    commanded, manager, comms_action
):
    carla = UserFactory(username="carla")

    services.incident_assign_role(
        incident=commanded, actor=manager, role=role("communications"), user=carla
    )

    comms_action.refresh_from_db()
    assert comms_action.owner == carla
    entry = commanded.timeline.filter(kind="role").order_by("-sequence").first()
    assert entry.data["actions"] == [comms_action.pk]
    assert "1 open action(s) of the role are now theirs" in entry.summary


def test_on_hand_over_the_actions_follow_the_role(commanded, manager, comms_action):
    carla, dan = UserFactory(username="carla"), UserFactory(username="dan")
    services.incident_assign_role(
        incident=commanded, actor=manager, role=role("communications"), user=carla
    )

    services.incident_assign_role(
        incident=commanded, actor=manager, role=role("communications"), user=dan
    )

    comms_action.refresh_from_db()
    assert comms_action.owner == dan


def test_an_action_a_person_gave_to_someone_else_stays_with_them(
    commanded, manager, comms_action
):
    carla, erin = UserFactory(username="carla"), UserFactory(username="erin")
    services.action_update(action=comms_action, actor=manager, owner=erin)

    services.incident_assign_role(
        incident=commanded, actor=manager, role=role("communications"), user=carla
    )

    comms_action.refresh_from_db()
    assert comms_action.owner == erin


def test_finished_actions_and_other_roles_actions_do_not_follow(
    commanded, manager, comms_action
):
    carla = UserFactory(username="carla")
    scribe_action = services.action_create(
        incident=commanded, actor=manager, title="Keep notes", role=role("scribe")
    )
    services.action_complete(action=comms_action, actor=manager)

    services.incident_assign_role(
        incident=commanded, actor=manager, role=role("communications"), user=carla
    )

    comms_action.refresh_from_db()
    scribe_action.refresh_from_db()
    assert comms_action.owner is None
    assert comms_action.status == ActionItem.Status.DONE
    assert scribe_action.owner is None


def test_my_work_lists_the_role_holders_actions(
    client, commanded, manager, comms_action
):
    carla = UserFactory(username="carla")
    services.incident_assign_role(
        incident=commanded, actor=manager, role=role("communications"), user=carla
    )
    client.force_login(carla)

    page = client.get("/my/").content.decode()

    assert "Post the first customer update" in page
    assert "No open actions are assigned to you" not in page
