"""The admin console (secrets never shown back, outbox filters, resend) and the
demo seed."""

from io import StringIO

import pytest
from django.apps import apps
from django.urls import reverse

from incidentops.seed import seed_accounts
from notifications.models import Channel, Delivery, StakeholderList
from tests.factories import UserFactory
from tests.notifications.conftest import declare
from tests.notifications.factories import ChannelFactory, StakeholderListFactory

SECRET_URL = "slack://T0SECRET1/B0SECRET2/X0SECRET3/#incidents"


@pytest.fixture
def admin_client(client, db):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_channel_secrets_are_never_rendered_back(admin_client):
    channel = ChannelFactory(
        webhook=True, target="https://hooks.example.com/s3cr3t-path"
    )
    chat = ChannelFactory(apprise=True, target=SECRET_URL)
    for obj in (channel, chat):
        page = admin_client.get(
            reverse("admin:notifications_channel_change", args=[obj.pk])
        ).content.decode()
        assert "s3cr3t-path" not in page
        assert "test-signing-secret" not in page
        assert "SECRET2" not in page
    listing = admin_client.get(
        reverse("admin:notifications_channel_changelist")
    ).content.decode()
    assert "https://hooks.example.com/••••" in listing
    assert "SECRET2" not in listing


def test_saving_with_blank_secrets_keeps_them(admin_client):
    channel = ChannelFactory(
        webhook=True, target="https://hooks.example.com/s3cr3t-path"
    )
    response = admin_client.post(
        reverse("admin:notifications_channel_change", args=[channel.pk]),
        {
            "name": "Renamed hook",
            "kind": "webhook",
            "is_enabled": "on",
            "mailer": "default",
            "target": "",
            "secret": "",
            "events": ["incident_changed"],  # ticked; no change ticked: all
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    channel.refresh_from_db()
    assert channel.name == "Renamed hook"
    assert channel.target == "https://hooks.example.com/s3cr3t-path"
    assert channel.secret == "test-signing-secret"


def test_delivery_admin_filters_and_resends_through_the_service(
    admin_client, responder
):
    StakeholderListFactory(triage=True, emails=["a@example.com"])
    incident = declare(responder)
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status="failed", last_error="SMTP 550 unknown user"
    )
    changelist = reverse("admin:notifications_delivery_changelist")

    page = admin_client.get(changelist, {"status": "failed"}).content.decode()
    assert "SMTP 550 unknown user" in page
    assert (
        "a@example.com"
        not in admin_client.get(changelist, {"status": "sent"})
        .content.decode()
        .split("result_list")[-1]
    )

    response = admin_client.post(
        changelist,
        {"action": "resend", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert incident.timeline.last().data["status"] == "resent"


def test_seed_demo_is_idempotent_and_follows_the_framework(db):
    seed_accounts(stdout=StringIO())
    config = apps.get_app_config("notifications")
    config.seed_demo(stdout=StringIO())
    counts = (StakeholderList.objects.count(), Channel.objects.count())
    config.seed_demo(stdout=StringIO())
    assert (StakeholderList.objects.count(), Channel.objects.count()) == counts

    by_code = {
        code: set(
            StakeholderList.objects.filter(severities__code=code).values_list(
                "name", flat=True
            )
        )
        for code in ("SEV-1", "SEV-2", "SEV-3", "SEV-4")
    }
    assert by_code["SEV-1"] == {"SEV-1 executives", "SEV-1 all-hands responders"}
    assert by_code["SEV-2"] == {"SEV-2 management", "SEV-2 cross-team responders"}
    assert by_code["SEV-3"] == {"SEV-3 owning team"}
    assert by_code["SEV-4"] == set()
    assert StakeholderList.objects.filter(notify_on_declare=True).count() == 1
    assert Channel.objects.get(name="E-mail").is_enabled
    assert not Channel.objects.get(name="Demo webhook").is_enabled


def test_an_incident_manager_resends_failed_deliveries_of_incidents_they_see(
    client, responder
):
    StakeholderListFactory(triage=True, emails=["a@example.com"])
    incident = declare(responder)
    delivery = Delivery.objects.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="failed")
    mia = UserFactory(
        username="mia-admin",
        is_staff=True,
        groups=["Incident managers", "Responders"],
    )
    client.force_login(mia)

    response = client.post(
        reverse("admin:notifications_delivery_changelist"),
        {"action": "resend", "_selected_action": [delivery.pk]},
    )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert incident.timeline.last().actor == mia
