"""E-mail through a real SMTP server on localhost (aiosmtpd)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.channels import TransientDeliveryError
from notifications.models import Delivery
from tests.notifications.conftest import declare
from tests.notifications.factories import StakeholderListFactory


@pytest.fixture
def triage_list(db, manager):
    return StakeholderListFactory(
        triage=True, users=[manager], emails=["desk@example.com"]
    )


def send_all(notification, now=None):
    return [
        services.delivery_send(delivery_id=pk, now=now)
        for pk in notification.deliveries.order_by("pk").values_list("pk", flat=True)
    ]


def test_email_reaches_the_smtp_server_with_subject_body_recipients_and_html(
    smtp_mailer, triage_list, responder
):
    with smtp_mailer() as smtp:
        # given a declared incident whose triage list has a user and an address
        incident = declare(responder)
        notification = incident.notifications.get(kind="incident_declared")
        # when the worker sends its deliveries
        outcomes = send_all(notification)

    # then both arrived, one message each, with text and HTML
    assert outcomes == ["sent", "sent"]
    assert sorted(m["to"][0] for m in smtp.messages) == [
        "desk@example.com",
        "mia@example.com",
    ]
    message = smtp.messages[0]["message"]
    assert (
        notification.subject
        == message["Subject"].strip()
        == (f"[{incident.reference}] New incident in triage: {incident.title}")
    )
    assert message["X-IncidentOps-Delivery"].strip() in set(
        notification.deliveries.values_list("idempotency_key", flat=True)
    )
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert incident.reference in body
        assert "Card payments fail" in body
        assert f"http://127.0.0.1:8000/incidents/{incident.reference}/" in body
    assert "<table" in html
    assert set(notification.deliveries.values_list("status", flat=True)) == {"sent"}


def test_smtp_451_is_retried_with_backoff_then_sent_once(
    smtp_mailer, triage_list, responder
):
    triage_list.members.filter(user__isnull=False).delete()
    with smtp_mailer(rcpt_replies=["451 4.3.0 Mailbox busy, try later"]) as smtp:
        incident = declare(responder)
        delivery = Delivery.objects.get(notification__incident=incident)
        now = timezone.now()

        # when the first attempt meets a 4xx
        with pytest.raises(TransientDeliveryError) as raised:
            services.delivery_send(delivery_id=delivery.pk, now=now)
        delivery.refresh_from_db()
        # then it stays pending, backing off, with the error recorded
        assert delivery.status == "pending"
        assert delivery.attempts == 1
        assert "451" in delivery.last_error
        assert delivery.next_attempt_at == now + services.BACKOFF_BASE
        assert raised.value.retry_in == services.BACKOFF_BASE.total_seconds()
        # a task arriving before the backoff ends changes nothing
        assert services.delivery_send(delivery_id=delivery.pk, now=now) is None

        # and the retry after the backoff is accepted
        later = now + services.BACKOFF_BASE
        assert services.delivery_send(delivery_id=delivery.pk, now=later) == "sent"

    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert len(smtp.messages) == 1


def test_smtp_550_fails_at_once_and_is_on_the_timeline(
    smtp_mailer, triage_list, responder
):
    triage_list.members.filter(user__isnull=False).delete()
    with smtp_mailer(rcpt_replies=["550 5.1.1 No such user here"]) as smtp:
        incident = declare(responder)
        delivery = Delivery.objects.get(notification__incident=incident)
        outcome = services.delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert outcome == "failed"
    assert delivery.attempts == 1
    assert delivery.failed_at is not None
    assert "550" in delivery.last_error
    assert smtp.messages == []
    entry = incident.timeline.filter(kind="communication").last()
    assert entry.data["status"] == "failed"
    assert entry.data["failures"][0]["recipient"] == "desk@example.com"
    assert "550" in entry.summary


def test_transient_failures_stop_at_the_cap_and_are_recorded(
    settings, triage_list, responder
):
    # given an SMTP server that is not there (connection refused)
    from tests.notifications.servers import free_port

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    triage_list.members.filter(user__isnull=False).delete()
    incident = declare(responder)
    delivery = Delivery.objects.get(notification__incident=incident)
    now = timezone.now()

    # when every attempt fails transiently
    for _ in range(services.MAX_ATTEMPTS - 1):
        with pytest.raises(TransientDeliveryError):
            services.delivery_send(delivery_id=delivery.pk, now=now)
        now += timedelta(hours=1)
    outcome = services.delivery_send(delivery_id=delivery.pk, now=now)

    # then the last one fails it for good
    delivery.refresh_from_db()
    assert outcome == "failed"
    assert delivery.attempts == services.MAX_ATTEMPTS
    assert delivery.last_error.startswith(
        f"Gave up after {services.MAX_ATTEMPTS} attempts"
    )
    assert services.delivery_send(delivery_id=delivery.pk, now=now) is None


def test_e_mail_times_are_in_the_organisations_zone(settings):
    from datetime import UTC, datetime

    from notifications import messages

    settings.INCIDENTOPS_TIME_ZONE = "Europe/London"
    due = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)  # 11:00 in London (BST)

    rendered = messages.render(
        "update_due",
        {"reference": "INC-2026-0001", "due_at": due, "severity_code": "SEV-1"},
    )

    assert "11:00" in rendered.subject
    assert "3 Jun 2026, 11:00" in rendered.text
    assert "11:00" in rendered.html
    assert "10:00" not in rendered.text
