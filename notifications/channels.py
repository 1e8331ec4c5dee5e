"""Talking to the outside: one sender per channel kind.

Each sender delivers one ``Delivery`` and either returns or raises
``TransientDeliveryError`` (worth retrying: a connection problem, an SMTP 4xx, an
HTTP 5xx/429 or a timeout) or ``PermanentDeliveryError`` (retrying cannot help:
an SMTP 5xx such as a refused recipient, an HTTP 4xx, an invalid URL). Called by
``notifications.services.delivery_send`` only, outside any transaction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import smtplib
from urllib.parse import urlsplit

import apprise
import requests
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

from notifications.models import Channel, Delivery, mask_secret

WEBHOOK_TIMEOUT = (3.05, 10)  # connect, read (seconds)
SIGNATURE_HEADER = "X-IncidentOps-Signature"
EVENT_HEADER = "X-IncidentOps-Event"
DELIVERY_HEADER = "X-IncidentOps-Delivery"


class DeliveryError(Exception):
    """A delivery did not go out; ``str(exc)`` says why."""


class SendInsideTransaction(RuntimeError):
    """A delivery was about to be sent inside an atomic block. A programming
    error, not a delivery outcome: send after commit (the outbox's send task),
    never from within a transaction."""


def ensure_no_transaction(using: str | None = None) -> None:
    """Raise ``SendInsideTransaction`` if an atomic block is open on the
    database connection.

    The atomic blocks a test case opens around each test (Django's
    ``TestCase``, which pytest-django uses) do not count: they stand for the
    autocommit of production, as they do for Django's own ``durable`` check.
    """
    connection = transaction.get_connection(using)
    if any(
        not getattr(block, "_from_testcase", False)
        for block in connection.atomic_blocks
    ):
        raise SendInsideTransaction(
            "A delivery must not be sent inside a transaction: a rollback would "
            "leave it sent while the database says it was not. Send it from the "
            "outbox after commit."
        )


class TransientDeliveryError(DeliveryError):
    """May succeed later: retry with backoff, up to the cap."""


class PermanentDeliveryError(DeliveryError):
    """Will not succeed by retrying: fail the delivery now."""


MASK = "••••"
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
# Pieces of a channel URL shorter than this (a scheme, "https", "api") are
# left alone; tokens and ids are longer.
_MIN_SECRET_PART = 6


def _secret_parts(channel: Channel) -> list[str]:
    """The channel's secret values and every longer piece of its URL (Apprise
    URLs carry tokens in the path, user, password or query)."""
    values = [v for v in (channel.target, channel.secret) if v]
    if channel.target:
        parts = urlsplit(channel.target)
        pieces = re.split(r"[/?&=:@#,]", channel.target[len(parts.scheme) :])
        values += [p for p in pieces if len(p) >= _MIN_SECRET_PART]
    # Longest first, so a whole URL is replaced before its pieces.
    return sorted(set(values), key=len, reverse=True)


def redact(text: str, channel: Channel) -> str:
    """``text`` (an error message) safe to store and show: any URL masked to
    its scheme and host, and the channel's own URL, secret and their pieces
    replaced, wherever and however they appear."""
    if not text:
        return text
    for value in _secret_parts(channel):
        text = text.replace(value, MASK)
    return _URL.sub(lambda match: mask_secret(match.group(0)), text)


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``: ``sha256=<hex HMAC-SHA256>``."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_body(delivery: Delivery) -> bytes:
    """The exact bytes POSTed: the notification's payload as compact JSON."""
    return json.dumps(
        delivery.notification.payload, sort_keys=True, separators=(",", ":")
    ).encode()


def send(delivery: Delivery) -> None:
    """Deliver through the delivery's channel; raises a ``DeliveryError``."""
    senders = {
        Channel.Kind.EMAIL: send_email,
        Channel.Kind.WEBHOOK: send_webhook,
        Channel.Kind.APPRISE: send_apprise,
    }
    sender = senders.get(delivery.channel.kind)
    if sender is None:
        raise PermanentDeliveryError(f"Unknown channel kind {delivery.channel.kind}.")
    try:
        sender(delivery)
    except SoftTimeLimitExceeded as exc:
        # The send task's soft time limit: the channel hung; try again later.
        raise TransientDeliveryError("The channel did not answer in time.") from exc


# --- e-mail -----------------------------------------------------------------------


def _smtp_error(code: int, message) -> DeliveryError:
    if isinstance(message, bytes):
        message = message.decode(errors="replace")
    text = f"SMTP {code} {message}".strip()
    # RFC 5321: 4yz is a transient negative reply, 5yz a permanent one.
    if 400 <= code < 500:
        return TransientDeliveryError(text)
    return PermanentDeliveryError(text)


def send_email(delivery: Delivery) -> None:
    """Send through the channel's mailer (Django's MAILERS) as text plus HTML."""
    notification = delivery.notification
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[delivery.recipient],
        # A stable Message-ID: a retry after a lost acknowledgement is
        # recognisable as the same message.
        headers={
            "Message-ID": f"<{delivery.idempotency_key}@incidentops>",
            "X-IncidentOps-Delivery": delivery.idempotency_key,
        },
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    try:
        message.send(using=delivery.channel.mailer or "default")
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise _smtp_error(code, reply) from exc
    except smtplib.SMTPResponseException as exc:
        raise _smtp_error(exc.smtp_code, exc.smtp_error) from exc
    except (smtplib.SMTPException, OSError) as exc:
        # Disconnections, connection refused, timeouts: the server may be back.
        raise TransientDeliveryError(f"SMTP: {exc or type(exc).__name__}") from exc


# --- webhooks -----------------------------------------------------------------------


def send_webhook(delivery: Delivery) -> None:
    """POST the signed JSON payload; 2xx is success."""
    channel = delivery.channel
    if not channel.target.startswith(("http://", "https://")):
        raise PermanentDeliveryError("The webhook URL must be http(s).")
    body = webhook_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "IncidentOps-Webhook/1",
        EVENT_HEADER: delivery.notification.payload.get("event", ""),
        DELIVERY_HEADER: delivery.idempotency_key,
    }
    if channel.secret:
        headers[SIGNATURE_HEADER] = sign(body, channel.secret)
    try:
        response = requests.post(
            channel.target,
            data=body,
            headers=headers,
            timeout=WEBHOOK_TIMEOUT,
            allow_redirects=False,
        )
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise TransientDeliveryError(f"HTTP: {type(exc).__name__}") from exc
    except requests.RequestException as exc:
        # The type only: requests' messages quote the URL, token and all.
        raise PermanentDeliveryError(f"HTTP: {type(exc).__name__}") from exc
    status = response.status_code
    if 200 <= status < 300:
        return
    reason = f"HTTP {status} {response.reason or ''}".strip()
    if status == 429 or status >= 500:
        raise TransientDeliveryError(reason)
    raise PermanentDeliveryError(reason)


# --- Apprise (Slack, Teams, SMS, ...) -------------------------------------------------


def send_apprise(delivery: Delivery) -> None:
    """Notify the channel's Apprise URL with the subject and the plain text."""
    notifier = apprise.Apprise()
    if not notifier.add(delivery.channel.target):
        raise PermanentDeliveryError("Apprise does not accept the channel's URL.")
    notification = delivery.notification
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            ok = notifier.notify(
                title=notification.subject, body=notification.body_text
            )
        except OSError as exc:
            raise TransientDeliveryError(f"Apprise: {type(exc).__name__}") from exc
        log = captured.getvalue().strip()
    if not ok:
        # Apprise reports only success or failure; the service may be down or
        # throttling, so this is retried (with a cap).
        # Its log says why (a status code, a reason) but may quote the URL.
        log = redact(log, delivery.channel)[-300:]
        raise TransientDeliveryError(
            "Apprise could not deliver" + (f": {log}" if log else ".")
        )
