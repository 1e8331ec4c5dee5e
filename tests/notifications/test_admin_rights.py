"""Who may configure notifications in the admin (groups from the migrations)."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/admin/notifications/channel/",
        "/admin/notifications/channel/add/",
        "/admin/notifications/stakeholderlist/",
        "/admin/notifications/stakeholderlist/add/",
        "/admin/notifications/delivery/",
    ],
)
def test_configurators_manage_channels_and_lists(client, path):
    cora = UserFactory(is_staff=True, groups=["Configurators"])
    client.force_login(cora)

    assert client.get(path).status_code == 200


def test_incident_managers_watch_the_outbox_but_do_not_configure(client):
    manager = UserFactory(is_staff=True, groups=["Incident managers"])
    client.force_login(manager)

    assert client.get("/admin/notifications/delivery/").status_code == 200
    assert client.get("/admin/notifications/channel/add/").status_code == 403


def test_responders_have_no_notification_admin(client):
    rita = UserFactory(is_staff=True, groups=["Responders"])
    client.force_login(rita)

    assert client.get("/admin/notifications/channel/").status_code == 403
