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


def test_the_outbox_shows_configurators_only_incidents_they_may_see(client):
    # given: a notification about a restricted incident, and one about an open one
    from incidents import services as incident_services
    from tests.notifications.factories import StakeholderListFactory

    StakeholderListFactory(
        triage=True, may_receive_restricted=True, emails=["csirt@example.com"]
    )
    reporter = UserFactory(groups=["Responders"])
    secret = incident_services.incident_declare(
        actor=reporter, title="Payroll data copied off-site", restricted=True
    )
    plain = incident_services.incident_declare(actor=reporter, title="Checkout is slow")
    secret_notification = secret.notifications.get()
    secret_delivery = secret_notification.deliveries.get()
    # a configurator who is also a responder (sees unrestricted incidents)
    cora = UserFactory(is_staff=True, groups=["Configurators", "Responders"])
    client.force_login(cora)

    # when / then: lists leave it out, its pages are not found
    for path in (
        "/admin/notifications/notification/",
        "/admin/notifications/delivery/",
    ):
        page = client.get(path).content.decode()
        assert "Checkout is slow" in page
        assert "Payroll data" not in page
    for path in (
        f"/admin/notifications/notification/{secret_notification.pk}/change/",
        f"/admin/notifications/delivery/{secret_delivery.pk}/change/",
    ):
        response = client.get(path, follow=True)
        assert "Payroll data" not in response.content.decode()
    assert plain.notifications.exists()


def test_superusers_see_every_outbox_row(admin_client):
    from incidents import services as incident_services
    from tests.notifications.factories import StakeholderListFactory

    StakeholderListFactory(
        triage=True, may_receive_restricted=True, emails=["csirt@example.com"]
    )
    reporter = UserFactory(groups=["Responders"])
    incident_services.incident_declare(
        actor=reporter, title="Payroll data copied off-site", restricted=True
    )

    page = admin_client.get("/admin/notifications/delivery/").content.decode()
    assert "Payroll data" in page


def test_a_configurator_without_incident_access_sees_no_messages(client):
    from incidents import services as incident_services
    from tests.notifications.factories import StakeholderListFactory

    StakeholderListFactory(triage=True, emails=["triage@example.com"])
    reporter = UserFactory(groups=["Responders"])
    incident_services.incident_declare(actor=reporter, title="Checkout is slow")
    client.force_login(UserFactory(is_staff=True, groups=["Configurators"]))

    for path in (
        "/admin/notifications/notification/",
        "/admin/notifications/delivery/",
    ):
        response = client.get(path)
        assert response.status_code == 200
        assert "Checkout is slow" not in response.content.decode()
