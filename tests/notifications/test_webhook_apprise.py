"""Signed JSON webhooks and Apprise, against real HTTP servers on localhost."""

import hashlib
import hmac
import json

import pytest
from django.utils import timezone

from notifications import services
from notifications.channels import TransientDeliveryError
from notifications.models import Delivery, Notification
from tests.notifications.conftest import declare
from tests.notifications.factories import ChannelFactory, StakeholderListFactory
from tests.notifications.servers import http_server


def test_incident_changed_webhook_is_signed_json(db, responder):
    with http_server() as server:
        # given an integration subscribed to incident_changed
        channel = ChannelFactory(
            webhook=True, target=server.url, events=["incident_changed"]
        )
        # when an incident is declared and the delivery is sent
        incident = declare(responder)
        notification = Notification.objects.get(
            incident=incident, kind="incident_changed"
        )
        delivery = notification.deliveries.get()
        assert services.delivery_send(delivery_id=delivery.pk) == "sent"

    # then the body is the documented JSON, and the signature verifies
    [request] = server.requests
    body = request["body"]
    expected = hmac.new(channel.secret.encode(), body, hashlib.sha256).hexdigest()
    assert request["headers"]["X-IncidentOps-Signature"] == f"sha256={expected}"
    assert request["headers"]["X-IncidentOps-Event"] == "incident_changed"
    assert request["headers"]["X-IncidentOps-Delivery"] == delivery.idempotency_key
    document = json.loads(body)
    assert document["event"] == "incident_changed"
    assert document["data"] == {"change": "declared", "reference": incident.reference}
    assert document["incident"]["reference"] == incident.reference
    assert document["incident"]["id"] == incident.pk
    assert document["incident"]["status"] == "triage"
    assert document["incident"]["severity"] is None
    assert document["occurred_at"]


def test_a_tampered_body_does_not_verify(db, responder):
    with http_server() as server:
        channel = ChannelFactory(
            webhook=True, target=server.url, events=["incident_changed"]
        )
        declare(responder)
        services.delivery_send(delivery_id=Delivery.objects.get().pk)
    request = server.requests[0]
    tampered = request["body"].replace(b"triage", b"closed")
    digest = hmac.new(channel.secret.encode(), tampered, hashlib.sha256).hexdigest()
    assert request["headers"]["X-IncidentOps-Signature"] != f"sha256={digest}"


def test_change_filters_limit_what_a_subscriber_receives(db, responder):
    ChannelFactory(
        webhook=True,
        target="http://127.0.0.1:9/hook",
        events=["incident_changed"],
        changes=["status_changed"],
    )
    declare(responder)
    assert not Notification.objects.filter(kind="incident_changed").exists()


@pytest.mark.parametrize("status", [503, 429])
def test_webhook_5xx_and_429_are_retried(db, responder, status):
    with http_server(statuses=[status]) as server:
        ChannelFactory(webhook=True, target=server.url, events=["incident_changed"])
        declare(responder)
        delivery = Delivery.objects.get()
        now = timezone.now()
        with pytest.raises(TransientDeliveryError, match=str(status)):
            services.delivery_send(delivery_id=delivery.pk, now=now)
        retried = services.delivery_send(
            delivery_id=delivery.pk, now=now + services.BACKOFF_BASE
        )
    assert retried == "sent"
    assert [r["status"] for r in server.requests] == [status, 200]


def test_webhook_4xx_fails_at_once(db, responder):
    with http_server(statuses=[400]) as server:
        ChannelFactory(webhook=True, target=server.url, events=["incident_changed"])
        declare(responder)
        delivery = Delivery.objects.get()
        assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.last_error == "HTTP 400 Bad Request"
    assert len(server.requests) == 1


def test_a_list_webhook_gets_one_message_not_one_per_member(db, responder, manager):
    with http_server() as server:
        hook = ChannelFactory(webhook=True, target=server.url)
        StakeholderListFactory(
            triage=True, channels=[hook], users=[manager], emails=["a@example.com"]
        )
        incident = declare(responder)
        notification = incident.notifications.get(kind="incident_declared")
        [delivery] = notification.deliveries.all()
        services.delivery_send(delivery_id=delivery.pk)
    [document] = server.json_bodies()
    assert document["event"] == "incident_declared"
    assert document["data"]["subject"] == notification.subject
    assert incident.reference in document["data"]["text"]


def test_apprise_channel_posts_to_a_local_json_target(db, responder, manager):
    with http_server() as server:
        chat = ChannelFactory(
            apprise=True, name="Team chat", target=f"json://127.0.0.1:{server.port}/"
        )
        StakeholderListFactory(triage=True, channels=[chat], users=[manager])
        incident = declare(responder)
        delivery = Delivery.objects.get(channel=chat)
        assert delivery.recipient == "Team chat"
        assert services.delivery_send(delivery_id=delivery.pk) == "sent"
    [document] = server.json_bodies()
    assert document["title"] == delivery.notification.subject
    assert incident.reference in document["message"]


def test_apprise_rejects_an_unusable_url_permanently(db, responder):
    chat = ChannelFactory(apprise=True, target="nosuchservice://whatever")
    StakeholderListFactory(triage=True, channels=[chat], emails=["x@example.com"])
    declare(responder)
    delivery = Delivery.objects.get(channel=chat)
    assert services.delivery_send(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert "Apprise does not accept" in delivery.last_error
