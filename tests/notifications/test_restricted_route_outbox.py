"""A restricted route's change is announced through the outbox like every other
message: logged as a notification with one delivery per person, retried when
the channel fails, never sent twice, re-checked at send time, and shown in the
delivery log only to those who may route restricted content of its types."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidentops import groups
from notifications import services
from notifications.channels import TransientDeliveryError
from notifications.models import Delivery, Notification
from notifications.restricted_routes import restricted_route_announce
from tests.factories import IncidentTypeFactory, UserFactory
from tests.notifications.factories import StakeholderListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def breach(db):
    return IncidentTypeFactory(
        slug="personal-data-breach",
        name="Personal-data breach",
        restricted_by_default=True,
        restricted_groups=[groups.EXECUTIVES],
    )


@pytest.fixture
def csirt(breach):
    return StakeholderListFactory(
        slug="csirt",
        name="CSIRT",
        may_receive_restricted=True,
        incident_types=[breach],
        emails=["csirt@example.com"],
    )


@pytest.fixture
def eve(db):
    """A configurator who is also an executive (the breach's restricted group)."""
    return UserFactory(
        username="eve",
        email="eve@example.com",
        is_staff=True,
        groups=[groups.CONFIGURATORS, groups.EXECUTIVES],
    )


def announce(csirt, eve, breach, **kwargs):
    return restricted_route_announce(
        actor=eve,
        source=csirt,
        what="stakeholder list CSIRT",
        changes=["added dpo@example.com"],
        incident_types=[breach],
        url=f"/admin/notifications/stakeholderlist/{csirt.pk}/change/",
        **kwargs,
    )


def test_a_failing_mail_server_is_retried_and_the_announcement_sent_once(
    smtp_mailer, csirt, eve, breach
):
    with smtp_mailer(rcpt_replies=["451 4.3.0 Mailbox busy, try later"]) as smtp:
        delivery = announce(csirt, eve, breach).deliveries.get()
        now = timezone.now()

        # when the first attempt meets a 4xx: pending, backing off, error kept
        with pytest.raises(TransientDeliveryError):
            services.delivery_send(delivery_id=delivery.pk, now=now)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 1)
        assert "451" in delivery.last_error
        # a second task before the backoff is over sends nothing
        assert services.delivery_send(delivery_id=delivery.pk, now=now) is None

        # the retry goes through; later tasks and sweeps send nothing more
        later = delivery.next_attempt_at
        assert services.delivery_send(delivery_id=delivery.pk, now=later) == "sent"
        assert services.delivery_send(delivery_id=delivery.pk, now=later) is None
        assert services.outbox_sweep(now=later + timedelta(hours=1)) == 0

    assert [m["to"] for m in smtp.messages] == [[eve.email]]
    message = smtp.messages[0]["message"]
    assert message["Message-ID"].strip() == f"<{delivery.idempotency_key}@incidentops>"
    assert "Restricted route changed: stakeholder list CSIRT" in message["Subject"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert delivery.notification.outcome_logged_at is not None


def test_the_same_change_is_announced_once(csirt, eve, breach):
    first = announce(csirt, eve, breach)
    again = announce(csirt, eve, breach)

    assert again == first
    assert Delivery.objects.count() == 1


def test_a_person_who_left_the_restricted_group_is_not_sent_it(
    csirt, eve, breach, mailoutbox
):
    rhea = UserFactory(email="rhea@example.com", groups=[groups.EXECUTIVES])
    notification = announce(csirt, eve, breach)
    rhea.groups.clear()

    outcomes = {
        d.recipient: services.delivery_send(delivery_id=d.pk)
        for d in notification.deliveries.all()
    }

    assert outcomes == {eve.email: "sent", rhea.email: "withheld"}
    assert [m.to for m in mailoutbox] == [[eve.email]]


def test_nobody_to_tell_writes_nothing(csirt, breach):
    configurator = UserFactory(groups=[groups.CONFIGURATORS])

    assert announce(csirt, configurator, breach) is None
    assert not Notification.objects.exists()


def test_the_delivery_log_shows_it_only_to_those_allowed(client, csirt, eve, breach):
    notification = announce(csirt, eve, breach)
    delivery = notification.deliveries.get()
    cora = UserFactory(
        is_staff=True, groups=[groups.CONFIGURATORS, groups.INCIDENT_MANAGERS]
    )
    superuser = UserFactory(is_staff=True, is_superuser=True)

    assert list(Notification.objects.visible_to(eve)) == [notification]
    assert list(Notification.objects.visible_to(superuser)) == [notification]
    assert not Notification.objects.visible_to(cora).exists()
    pages = (
        "/admin/notifications/notification/",
        "/admin/notifications/delivery/",
    )
    for person, shown in ((eve, True), (cora, False)):
        client.force_login(person)
        for path in pages:
            page = client.get(path).content.decode()
            assert ("Restricted route changed" in page) is shown, (person, path)
        detail = client.get(
            f"/admin/notifications/delivery/{delivery.pk}/change/", follow=True
        )
        assert ("eve@example.com" in detail.content.decode()) is shown


def test_a_failed_announcement_is_resent_by_those_allowed(
    csirt, eve, breach, mailoutbox
):
    from incidentops.exceptions import NotPermitted

    delivery = announce(csirt, eve, breach).deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(status="failed")
    cora = UserFactory(groups=[groups.CONFIGURATORS, groups.INCIDENT_MANAGERS])

    with pytest.raises(NotPermitted):
        services.delivery_resend(delivery=delivery, actor=cora)
    services.delivery_resend(delivery=delivery, actor=eve)

    assert services.delivery_send(delivery_id=delivery.pk) == "sent"
    assert [m.to for m in mailoutbox] == [[eve.email]]
