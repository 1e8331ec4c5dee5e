"""Routes for restricted content: who may open or change one, and the
announcement of every change.

A stakeholder list (or channel) that *may receive restricted* content sends
messages about restricted incidents to its external addresses and chat/webhook
channels. Opting a list in, or changing where such a list sends (its members,
channels, types, or reactivating it), is a decision to show restricted
incidents to someone: only people who may see restricted incidents of the
list's types may make it (``notifications.permissions.can_route_restricted``).
Every such change is kept in the list's history (django-simple-history, with
the person) and announced by e-mail to the members of the types' restricted
groups through the outbox, like every other message: a ``Notification`` about
no incident (``about_types`` names the types) and one ``Delivery`` per person,
written with the change, sent after commit, retried and never sent twice; the
delivery log shows it to those who may route restricted content of its types.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incidentops.services import actor_label
from incidents.models import IncidentType
from notifications import messages, services
from notifications.models import Notification

KIND = "restricted_route_changed"

REFUSAL = (
    "Only people who may see restricted incidents of {what} may let it receive "
    "restricted content or change where such content goes."
)


def scope_types(incident_types) -> list[IncidentType]:
    """The types a list's restricted content is about: its own, or (naming
    none) every active type."""
    types = list(incident_types or ())
    return types or list(IncidentType.objects.filter(is_active=True))


def _restricted_groups(incident_types) -> list:
    return sorted(
        {group for each in incident_types for group in each.restricted_groups.all()},
        key=lambda group: group.pk,
    )


def _event_key(source, now: datetime) -> str:
    """One announcement per saved change: the source's newest history row
    (django-simple-history writes one per save), else the time."""
    record = source.history.order_by("-history_id").first()
    mark = record.history_id if record else now.isoformat()
    return f"restricted-route:{source._meta.label_lower}:{source.pk}:{mark}"


@transaction.atomic
def restricted_route_announce(
    *,
    actor,
    source,
    what: str,
    changes: list[str],
    incident_types,
    url: str,
    now: datetime | None = None,
) -> Notification | None:
    """Announce that ``actor`` changed the restricted route ``source`` (a
    ``StakeholderList`` or ``Channel``, called ``what``; ``changes``: one line
    each; ``url``: its admin path) to the active members, with an e-mail
    address, of the restricted groups of ``incident_types`` (none: every active
    type).

    Changes: one ``Notification`` with no incident (kind
    ``restricted_route_changed``, ``about_types`` the types in scope, unique per
    saved change of ``source``) and one pending ``Delivery`` per person, through
    the default e-mail channel, in the caller's transaction.
    Sends: the send tasks, after commit (``delivery_send`` re-checks each person
    with ``permissions.hears_of_route_changes`` before sending).
    Returns the notification, or None when there is nothing to say or nobody to
    tell. Raises nothing of its own.
    """
    if not changes:
        return None
    now = now or timezone.now()
    types = scope_types(incident_types)
    targets = services._targets(
        users=(), groups=_restricted_groups(types), lists=(), channels=()
    )
    if not targets:
        return None
    event_key = _event_key(source, now)
    existing = Notification.objects.filter(event_key=event_key).first()
    if existing is not None:
        return existing
    context = {
        "actor": actor_label(actor),
        "what": what,
        "changes": changes,
        "types": ", ".join(t.name for t in incident_types) or "every type",
        "link": settings.SITE_URL.rstrip("/") + url,
    }
    rendered = messages.render(KIND, context)
    notification = Notification.objects.create(
        incident=None,
        kind=KIND,
        event_key=event_key,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        payload=messages.to_json(
            {"event": KIND, "incident": None, "data": context, "occurred_at": now}
        ),
        actor=actor,
        created_at=now,
    )
    notification.about_types.set(types)
    ids = services._outbox_write(notification=notification, targets=targets, now=now)
    transaction.on_commit(partial(services._publish_deliveries, ids))
    return notification
