"""The outbox: rows in the event's transaction, sends after commit, each
delivery sent once whatever the races, a sweeper for lost messages, resend."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import services
from notifications.models import Delivery, Notification
from notifications.tasks import send_delivery_task
from tests.notifications.conftest import declare
from tests.notifications.factories import StakeholderListFactory

SEND = "notifications.tasks.send_delivery_task"


@pytest.fixture
def triage_list(db):
    return StakeholderListFactory(
        triage=True, emails=["a@example.com", "b@example.com"]
    )


def test_rows_are_written_with_the_event_and_sent_only_after_commit(
    triage_list, responder, memory_broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        incident = declare(responder)
        # inside the transaction: rows exist, nothing is published or sent
        assert incident.notifications.get().deliveries.count() == 2
        assert memory_broker() == []
    assert mail.outbox == []
    # after commit: one send task per delivery
    for callback in callbacks:
        callback()
    ids = set(Delivery.objects.values_list("pk", flat=True))
    published = memory_broker()
    assert {name for name, _ in published} == {SEND}
    assert {args[0] for _, args in published} == ids


def test_a_rolled_back_event_leaves_nothing_to_send(triage_list, responder):
    with pytest.raises(RuntimeError), transaction.atomic():
        declare(responder)
        raise RuntimeError("the declare failed later")
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


def test_the_same_event_key_writes_once(triage_list, responder):
    incident = declare(responder)
    first = incident.notifications.get()
    again = services.notification_send(
        incident=incident,
        kind="incident_declared",
        event_key=first.event_key,
        lists=[triage_list],
    )
    assert again == first
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 2
    keys = list(Delivery.objects.values_list("idempotency_key", flat=True))
    assert len(set(keys)) == 2


def test_running_the_task_twice_sends_once(triage_list, responder):
    incident = declare(responder)
    delivery = incident.notifications.get().deliveries.first()
    send_delivery_task.apply(args=[delivery.pk])
    send_delivery_task.apply(args=[delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert delivery.attempts == 1
    assert [m.to for m in mail.outbox] == [[delivery.recipient]]


def test_a_task_racing_an_in_flight_send_skips_it(triage_list, responder):
    incident = declare(responder)
    delivery = incident.notifications.get().deliveries.first()
    now = timezone.now()
    # given a worker has claimed the delivery and is talking to the server
    claimed = services._claim(delivery.pk, now)
    assert claimed is not None
    # when the sweeper's duplicate task arrives meanwhile
    outcome = services.delivery_send(delivery_id=delivery.pk, now=now)
    # then it does nothing
    assert outcome is None
    assert mail.outbox == []
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_the_sweeper_republishes_stale_pending_deliveries_once(
    triage_list, responder, memory_broker
):
    incident = declare(responder)
    first, second = incident.notifications.get().deliveries.order_by("pk")
    services.delivery_send(delivery_id=second.pk)  # sent: not swept
    now = timezone.now()

    # not yet a minute old: left for its own task
    assert services.outbox_sweep(now=now) == 0
    later = now + timedelta(minutes=2)
    assert services.outbox_sweep(now=later) == 1
    assert memory_broker() == [(SEND, [first.pk])]
    # the same sweep again publishes nothing new
    assert services.outbox_sweep(now=later) == 0
    assert memory_broker() == []
    # a claimed (in-flight) delivery is left alone
    services._claim(first.pk, later + timedelta(minutes=10))
    assert services.outbox_sweep(now=later + timedelta(minutes=10)) == 0


def test_the_sweeper_stops_when_the_broker_is_down(triage_list, responder, down_broker):
    declare(responder)
    assert services.outbox_sweep(now=timezone.now() + timedelta(minutes=2)) == 0
    assert not Delivery.objects.filter(swept_at__isnull=False).exists()


def test_the_sweeper_racing_the_task_sends_once(triage_list, responder):
    incident = declare(responder)
    delivery = incident.notifications.get().deliveries.first()
    # the first task and the sweeper's copy both run
    send_delivery_task.apply(args=[delivery.pk])
    services.outbox_sweep(now=timezone.now() + timedelta(minutes=2))
    send_delivery_task.apply(args=[delivery.pk])
    assert len([m for m in mail.outbox if m.to == [delivery.recipient]]) == 1


def test_resend_puts_a_failed_delivery_back_and_logs_it(triage_list, responder):
    incident = declare(responder)
    delivery = incident.notifications.get().deliveries.first()
    Delivery.objects.filter(pk=delivery.pk).update(
        status="failed", attempts=5, last_error="SMTP 550 no"
    )
    services.delivery_resend(delivery=delivery, actor=responder)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert "resent" in incident.timeline.last().summary
    assert services.delivery_send(delivery_id=delivery.pk) == "sent"


def test_a_repeated_email_carries_the_same_message_id(triage_list, responder):
    """A send whose outcome was lost (the worker died before recording it) is
    repeated with the same Message-ID, so mail clients drop the duplicate."""
    declare(responder)
    delivery = Delivery.objects.order_by("pk").first()
    services.delivery_send(delivery_id=delivery.pk)
    # the outcome was never recorded: pending again, claim expired
    Delivery.objects.filter(pk=delivery.pk).update(status="pending", claimed_until=None)
    services.delivery_send(delivery_id=delivery.pk)

    first, again = (m for m in mail.outbox if delivery.recipient in m.to)
    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]
    assert delivery.idempotency_key in first.extra_headers["Message-ID"]


def test_a_claim_that_ran_out_is_republished_at_once_and_once(
    triage_list, responder, memory_broker
):
    incident = declare(responder)
    delivery = incident.notifications.get().deliveries.order_by("pk").first()
    now = timezone.now()
    # given a worker claimed it and died before recording any result
    assert services._claim(delivery.pk, now) is not None
    expiry = now + services.CLAIM_LEASE

    # while the claim holds, nobody else sends it
    assert services.outbox_sweep(now=expiry - timedelta(seconds=1)) == 0
    # once it runs out it is re-published at once (long before SWEEP_AFTER
    # would call the others "lost"), and only once for this claim
    assert services.outbox_sweep(now=expiry) == 1
    assert memory_broker() == [(SEND, [delivery.pk])]
    assert services.outbox_sweep(now=expiry + timedelta(seconds=10)) == 0
    # the next worker sends it; a second death is recovered the same way
    later = expiry + timedelta(seconds=1)
    assert services._claim(delivery.pk, later) is not None
    services.outbox_sweep(
        now=later + services.CLAIM_LEASE
    )  # the other is "lost" by now
    assert (SEND, [delivery.pk]) in memory_broker()
    assert (
        services.delivery_send(
            delivery_id=delivery.pk, now=later + timedelta(minutes=1)
        )
        == "sent"
    )
    assert [m.to for m in mail.outbox] == [[delivery.recipient]]


def test_no_send_outlives_its_claim_and_a_dead_claim_is_swept_within_a_minute(
    settings,
):
    limits = (send_delivery_task.soft_time_limit, send_delivery_task.time_limit)
    assert limits[0] < limits[1] < services.CLAIM_LEASE.total_seconds()
    sweep = settings.CELERY_BEAT_SCHEDULE["notifications-outbox-sweep"]["schedule"]
    assert services.CLAIM_LEASE + sweep <= timedelta(minutes=1)


def test_a_channel_that_hangs_past_the_soft_limit_is_retried(
    triage_list, responder, monkeypatch
):
    from celery.exceptions import SoftTimeLimitExceeded

    from notifications import channels
    from notifications.channels import TransientDeliveryError

    def hangs(delivery):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(channels, "send_email", hangs)
    delivery = declare(responder).notifications.get().deliveries.first()

    with pytest.raises(TransientDeliveryError):
        services.delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.claimed_until) == ("pending", None)
    assert delivery.last_error == "The channel did not answer in time."
