"""Unexpected sender errors settle the delivery; error texts never carry a
channel's URL or secret."""

import logging

import pytest
from django.utils import timezone

from incidents.models import TimelineEntry
from notifications import channels, services
from notifications.channels import TransientDeliveryError, redact
from notifications.models import Delivery
from tests.notifications.conftest import declare
from tests.notifications.factories import ChannelFactory, StakeholderListFactory
from tests.notifications.servers import http_server

pytestmark = pytest.mark.django_db

TOKEN = "T0KENxyzSECRET42"


def timeline_text(incident) -> str:
    return " ".join(
        f"{entry.summary} {entry.data}"
        for entry in TimelineEntry.objects.filter(incident=incident)
    )


def test_an_unexpected_sender_error_fails_the_delivery_once(
    responder, monkeypatch, caplog
):
    # given: a sender with a bug
    def broken(delivery):
        raise ValueError(f"bad value near {TOKEN}")

    monkeypatch.setattr(channels, "send_email", broken)
    StakeholderListFactory(triage=True, emails=["ops@example.com"])
    incident = declare(responder)
    delivery = Delivery.objects.get()

    # when
    with caplog.at_level(logging.ERROR, logger="notifications.services"):
        status = services.delivery_send(delivery_id=delivery.pk)

    # then: failed for good, its type recorded, not its message; the outcome is
    # on the timeline and a later sweep has nothing to re-send
    assert status == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.claimed_until) == (
        "failed",
        1,
        None,
    )
    assert delivery.last_error == "Unexpected error: ValueError"
    assert delivery.notification.outcome_logged_at is not None
    outcome = TimelineEntry.objects.get(incident=incident, data__status="failed")
    assert "Unexpected error: ValueError" in outcome.summary
    assert TOKEN not in timeline_text(incident)
    assert any(record.exc_info for record in caplog.records)
    later = timezone.now() + services.RESWEEP_AFTER * 2
    assert services.delivery_send(delivery_id=delivery.pk, now=later) is None


def test_an_invalid_webhook_url_fails_without_showing_it(responder):
    hook = ChannelFactory(
        webhook=True,
        target=f"https://hooks.example.com:notaport/services/{TOKEN}",
        events=["incident_changed"],
    )
    incident = declare(responder)
    delivery = Delivery.objects.get(channel=hook)

    assert services.delivery_send(delivery_id=delivery.pk) == "failed"

    delivery.refresh_from_db()
    assert delivery.last_error == "HTTP: InvalidURL"
    assert TOKEN not in timeline_text(incident)


def test_a_failing_apprise_url_with_a_token_never_shows_the_token(responder):
    with http_server(statuses=[500] * services.MAX_ATTEMPTS) as server:
        chat = ChannelFactory(
            apprise=True,
            name="Team chat",
            target=f"json://user:{TOKEN}@127.0.0.1:{server.port}/hook/{TOKEN}",
        )
        StakeholderListFactory(triage=True, channels=[chat])
        incident = declare(responder)
        delivery = Delivery.objects.get(channel=chat)
        now = timezone.now()
        for _ in range(services.MAX_ATTEMPTS - 1):
            with pytest.raises(TransientDeliveryError) as raised:
                services.delivery_send(delivery_id=delivery.pk, now=now)
            assert TOKEN not in str(raised.value)
            now += services.BACKOFF_MAX
        assert services.delivery_send(delivery_id=delivery.pk, now=now) == "failed"

    assert len(server.requests) == services.MAX_ATTEMPTS
    delivery.refresh_from_db()
    assert delivery.last_error.startswith("Gave up after 5 attempts")
    assert TOKEN not in delivery.last_error
    assert TOKEN not in timeline_text(incident)


@pytest.mark.parametrize(
    "text",
    [
        f"error posting to slack://{TOKEN}/B000/C000/#ops",
        f"Failed to parse: https://outlook.office.com/webhook/{TOKEN}?x=1",
        f"signing with {TOKEN} refused",
        f"bad token {TOKEN[:-1].lower()}{TOKEN[-1]} at https://example.org/a?k={TOKEN}",
    ],
)
def test_redact_masks_the_channels_secrets_and_any_url(text):
    channel = ChannelFactory.build(
        kind="apprise", target=f"slack://{TOKEN}/B000/C000/#ops", secret=TOKEN
    )
    assert TOKEN not in redact(text, channel)
