"""Routes for restricted content: who may open or change one, and the
announcement of every change.

A stakeholder list (or channel) that *may receive restricted* content sends
messages about restricted incidents to its external addresses and chat/webhook
channels. Opting a list in, or changing where such a list sends (its members,
channels, types, or reactivating it), is a decision to show restricted
incidents to someone: only people who may see restricted incidents of the
list's types may make it (``notifications.permissions.can_route_restricted``).
Every such change is kept in the list's history (django-simple-history, with
the person) and announced by e-mail, after commit, to the members of the
types' restricted groups.
"""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction

from incidentops.services import actor_label
from incidents.models import IncidentType

logger = logging.getLogger(__name__)

REFUSAL = (
    "Only people who may see restricted incidents of {what} may let it receive "
    "restricted content or change where such content goes."
)


def scope_types(incident_types) -> list[IncidentType]:
    """The types a list's restricted content is about: its own, or (naming
    none) every active type."""
    types = list(incident_types or ())
    return types or list(IncidentType.objects.filter(is_active=True))


def _recipients(incident_types) -> list[str]:
    User = get_user_model()
    groups = {
        group.pk
        for incident_type in scope_types(incident_types)
        for group in incident_type.restricted_groups.all()
    }
    return sorted(
        set(
            User.objects.filter(groups__in=groups, is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def _send(subject: str, body: str, recipients: list[str]) -> None:
    try:
        send_mail(subject, body, None, recipients)
    except Exception:  # noqa: BLE001 - the change is kept in history regardless
        logger.exception("Could not announce a restricted-route change")


def announce(*, actor, what: str, changes: list[str], incident_types, url: str):
    """After commit, e-mail the types' restricted groups that ``actor`` changed
    the restricted route ``what`` (``changes``: one line each). Returns the
    recipients. Sends nothing inside the transaction; a mail failure is logged
    (the change itself is in the history either way)."""
    recipients = _recipients(incident_types)
    if not recipients or not changes:
        return recipients
    who = actor_label(actor)
    types = ", ".join(t.name for t in incident_types) or "every type"
    body = (
        f"{who} changed {what}, which may receive restricted incidents "
        f"({types}):\n\n"
        + "\n".join(f"- {line}" for line in changes)
        + "\n\nIf you did not expect this, review it: "
        + settings.SITE_URL.rstrip("/")
        + url
        + "\n"
    )
    subject = f"[IncidentOps] Restricted route changed: {what}"
    transaction.on_commit(partial(_send, subject, body, recipients))
    return recipients
