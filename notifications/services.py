"""Every write of the notifications app, one function per verb.

The outbox (DESIGN.md, "Outbox and delivery"): ``notification_send`` writes a
``Notification`` and its ``Delivery`` rows in the caller's transaction and
publishes the send tasks after commit; ``delivery_send`` (in a worker) sends one
delivery outside any transaction; ``outbox_sweep`` re-publishes what a lost broker
message left pending; ``cadence_reminders_sweep`` reminds the communications
lead when a stakeholder update is due. Every communication and its outcome is on
the incident's timeline, through ``incidents.services.timeline_record``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from incidentops.celery import publish
from incidentops.exceptions import DomainError, NotPermitted
from incidentops.services import actor_label
from incidents import timeline_entries as entries
from incidents.events import importing_history
from incidents.models import (
    Incident,
    TimelineEntry,
)
from incidents.permissions import can_view
from incidents.services import timeline_record
from notifications import channels as transports
from notifications import messages, permissions
from notifications.models import Channel, Delivery, Notification

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(minutes=15)
# The send task's time limits, in seconds (``notifications.tasks``; the prefork
# pool enforces them): a channel that hangs is given up as a transient failure
# at the soft limit, and the process is killed at the hard one.
SEND_SOFT_TIME_LIMIT = 25
SEND_TIME_LIMIT = 30
# Longer than the send task's hard time limit, so a claim outlives any send that
# is still running; short, so the claim of a worker that died expires soon and
# the sweep (every 10 s in beat) re-publishes the delivery within a minute.
CLAIM_LEASE = timedelta(seconds=SEND_TIME_LIMIT + 5)
# A delivery due this long ago and still pending lost its broker message.
SWEEP_AFTER = timedelta(minutes=1)
# ... and once re-published, it is not re-published again for this long.
RESWEEP_AFTER = timedelta(minutes=5)
SWEEP_BATCH = 500
# How many recipient names a timeline entry lists before "and N more".
NAMES_ON_TIMELINE = 25

Kind = TimelineEntry.Kind


@dataclass(frozen=True)
class _Target:
    channel: Channel
    recipient: str
    name: str
    user: object | None = None
    # External addresses and broadcast channels: may they hear of restricted
    # incidents (their list's or channel's ``may_receive_restricted``)?
    opted_in: bool = False
    # A person's own contact method (a page): its address is the destination.
    contact_method: object | None = None

    @property
    def broadcast(self) -> bool:
        return self.channel.is_broadcast and self.contact_method is None


def _backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _idempotency_key(event_key: str, channel: Channel, recipient: str) -> str:
    raw = f"{event_key}|{channel.pk}|{recipient.lower()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _person(user) -> tuple[str, str] | None:
    if user is None or not user.is_active or not user.email:
        return None
    return user.email, user.display_name


def _targets(*, users, groups, lists, channels, contacts=()) -> list[_Target]:
    """Expand people, groups and lists into (channel, recipient) pairs, once each;
    ``contacts`` (people's own contact methods) each become one target."""
    User = get_user_model()
    users, groups, lists, channels = (
        list(users),
        list(groups),
        list(lists),
        list(channels),
    )
    found: dict[tuple[int, str], _Target] = {}

    def add(
        channel: Channel, recipient: str, name: str, user=None, opted_in=False
    ) -> None:
        key = (channel.pk, recipient.lower())
        if key not in found:
            found[key] = _Target(channel, recipient, name, user, opted_in)
        elif opted_in and not found[key].opted_in:
            # Reached through a list that opted in as well as one that did not.
            found[key] = dataclasses.replace(found[key], opted_in=True)

    def add_people(channel: Channel, people) -> None:
        for user in people:
            person = _person(user)
            if person:
                add(channel, person[0], person[1], user)

    email = None
    if users or groups:
        email = Channel.default_email()
        add_people(email, users)
        add_people(
            email,
            User.objects.filter(groups__in=groups, is_active=True)
            .distinct()
            .order_by("pk"),
        )
    for stakeholder_list in lists:
        list_channels = [c for c in stakeholder_list.channels.all() if c.is_enabled]
        if not stakeholder_list.channels.exists():
            email = email or Channel.default_email()
            list_channels = [email]
        members = list(stakeholder_list.members.select_related("user", "group"))
        opted_in = stakeholder_list.may_receive_restricted
        for channel in list_channels:
            if channel.is_broadcast:
                add(channel, channel.name, channel.name, opted_in=opted_in)
                continue
            for member in members:
                if member.user_id:
                    add_people(channel, [member.user])
                elif member.group_id:
                    add_people(
                        channel,
                        member.group.user_set.filter(is_active=True).order_by("pk"),
                    )
                else:
                    add(
                        channel,
                        member.email,
                        member.name or member.email,
                        opted_in=opted_in,
                    )
    for channel in channels:
        if channel.is_enabled:
            add(
                channel,
                channel.name,
                channel.name,
                opted_in=channel.may_receive_restricted,
            )
    for method in contacts:
        user = method.user
        if not method.is_enabled or not user.is_active:
            continue
        if method.kind == method.Kind.EMAIL:
            email = email or Channel.default_email()
            add(email, method.address, user.display_name, user)
            continue
        channel = Channel.personal(method.kind)
        recipient = f"{user.username}: {method.name} #{method.pk}"
        key = (channel.pk, recipient.lower())
        found.setdefault(
            key,
            _Target(
                channel,
                recipient,
                f"{user.display_name} ({method.name})",
                user,
                contact_method=method,
            ),
        )
    return list(found.values())


def _cleared(targets: list[_Target], restricted: list[Incident]) -> list[_Target]:
    """The targets allowed to hear of the ``restricted`` incidents: people who
    may see every one of them (``incidents.permissions.can_view``), and external
    addresses and broadcast channels whose list or channel opted in."""
    if not restricted:
        return targets
    cleared = []
    for target in targets:
        if target.user is not None:
            allowed = all(can_view(target.user, each) for each in restricted)
        else:
            allowed = target.opted_in
        if allowed:
            cleared.append(target)
    return cleared


def update_audience(incident: Incident, *, shown: int = 12):
    """Who a stakeholder update on ``incident`` would reach now (the lists the
    update fan-out uses, expanded as ``notification_send`` expands them, a
    restricted incident's withheld recipients counted, never named), as an
    ``incidents.providers.UpdateAudience``. Writes nothing; registered as the
    incidents app's update-audience provider."""
    from incidents.providers import UpdateAudience
    from notifications.receivers import lists_for

    lists = list(lists_for(incident))
    reachable = _targets(users=(), groups=(), lists=lists, channels=())
    targets = _cleared(reachable, [incident] if incident.restricted else [])
    people = [t.name for t in targets if not t.broadcast]
    channels = sorted({t.channel.name for t in targets})
    return UpdateAudience(
        lists=[each.name for each in lists],
        channels=channels,
        people=people[:shown],
        total=len(targets),
        withheld=len(reachable) - len(targets),
    )


def _publish_deliveries(delivery_ids: list[int]) -> None:
    """After commit: hand the deliveries to the workers. A broker that is down
    loses nothing: the rows stay pending and the sweeper publishes them later;
    trying the rest would only make the request wait once per delivery."""
    from notifications.tasks import send_delivery_task

    for delivery_id in delivery_ids:
        if not publish(send_delivery_task, delivery_id):
            break


def _names(targets: list[_Target]) -> list[str]:
    names = [t.name for t in targets if not t.broadcast]
    shown = names[:NAMES_ON_TIMELINE]
    if len(names) > len(shown):
        shown.append(f"and {len(names) - len(shown)} more")
    return shown


@transaction.atomic
def notification_send(
    *,
    incident: Incident,
    kind: str,
    event_key: str,
    context: dict | None = None,
    users=(),
    groups=(),
    lists=(),
    channels=(),
    contacts=(),
    actor=None,
    timeline_kind: str = Kind.COMMUNICATION,
    event: str | None = None,
    event_data: dict | None = None,
    now: datetime | None = None,
    log_on=(),
) -> Notification | None:
    """Tell people about an incident, through the outbox.

    Changes: one ``Notification`` (unique on ``event_key``) rendered from the
    ``kind`` templates with the incident's context merged with ``context``; one
    ``Delivery`` per recipient and channel (a unique idempotency key each) for
    ``users`` (by e-mail), active members of ``groups`` (by e-mail), ``lists``
    (their members, through their channels), broadcast ``channels`` (webhooks)
    and ``contacts`` (people's own ``ContactMethod`` rows: a page); one timeline
    entry (``timeline_kind``) naming the channels and recipients. Webhooks
    receive ``event`` (default: ``kind``) with ``event_data`` (default: the
    message). A message about several incidents (a batch review) names the
    others in ``log_on``: each of their timelines gets the same entry, once; the
    row and its outcome entry stay with ``incident``.
    Sends: the send tasks, after commit.
    A restricted ``incident`` (not those in ``log_on``, which such messages must
    not name): only people who may see it (``incidents.permissions.can_view``)
    are told; external addresses and broadcast channels only if their list (or,
    for ``channels``, the channel itself) has ``may_receive_restricted``. The
    others are withheld, and their count (never their names) is on the entry.
    Returns the ``Notification`` when it was written, or the existing one
    (writing nothing) if ``event_key`` was used before. Returns None when
    nothing was sent: inside ``history_import()`` or when nobody was addressed
    at all (no list configured; writing nothing), or when those addressed leave
    nobody to tell (no e-mail, an empty group or list, all withheld; writing,
    once per ``event_key``, a timeline entry "No recipients for <kind>: …" with
    ``status: no_recipients``). Callers that keep watermarks must advance them
    only when a ``Notification`` is returned. Raises nothing of its own.
    """
    if importing_history():
        return None
    existing = Notification.objects.filter(event_key=event_key).first()
    if existing is not None:
        return existing
    addressed = {
        "users": list(users),
        "groups": list(groups),
        "lists": list(lists),
        "channels": list(channels),
        "contacts": list(contacts),
    }
    logged = _logged_on(incident, log_on)
    targets, withheld = _addressees(incident, **addressed)
    now = now or timezone.now()
    if not targets and not any(addressed.values()):
        return None  # nobody was addressed: no list configured for this
    if not targets:
        _record_nobody_told(
            logged=logged,
            kind=kind,
            event_key=event_key,
            withheld=withheld,
            timeline_kind=timeline_kind,
            actor=actor,
            now=now,
        )
        return None

    notification, created = _notification_write(
        incident=incident,
        kind=kind,
        event_key=event_key,
        context=context,
        event=event,
        event_data=event_data,
        actor=actor,
        now=now,
    )
    if not created:
        return notification  # a concurrent caller wrote this event first
    ids = _outbox_write(notification=notification, targets=targets, now=now)
    _log_sent(
        logged=logged,
        notification=notification,
        targets=targets,
        withheld=withheld,
        lists=addressed["lists"],
        timeline_kind=timeline_kind,
        actor=actor,
        now=now,
    )
    transaction.on_commit(partial(_publish_deliveries, ids))
    return notification


def _logged_on(incident, others) -> list[Incident]:
    """``incident`` and ``others`` (``log_on``), each once, ``incident`` first."""
    by_pk = {incident.pk: incident}
    for other in others:
        by_pk.setdefault(other.pk, other)
    return list(by_pk.values())


def _addressees(incident, **addressed) -> tuple[list[_Target], int]:
    """The targets a message about ``incident`` goes to (``addressed``: the
    users, groups, lists, channels and contacts of ``notification_send``), and
    how many were withheld because the incident is restricted."""
    reachable = _targets(**addressed)
    # Only ``incident`` is checked: a message also logged on others (a batch
    # review) must not name them, by design of its templates.
    targets = _cleared(reachable, [incident] if incident.restricted else [])
    return targets, len(reachable) - len(targets)


def _notification_write(
    *, incident, kind, event_key, context, event, event_data, actor, now
) -> tuple[Notification, bool]:
    """Render the ``kind`` message and store its ``Notification`` (webhook
    payload included); returns it and True, or the row a concurrent caller
    wrote for ``event_key`` first and False."""
    full_context = {**messages.incident_context(incident), **(context or {})}
    rendered = messages.render(kind, full_context)
    extra = {
        key: value
        for key, value in (context or {}).items()
        if isinstance(value, str | int | float | bool | type(None))
    }
    payload = messages.webhook_payload(
        event=event or kind,
        incident=incident,
        data=event_data
        if event_data is not None
        else {"kind": kind, "subject": rendered.subject, "text": rendered.text} | extra,
        occurred_at=now,
    )
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                incident=incident,
                kind=kind,
                event_key=event_key,
                subject=rendered.subject,
                body_text=rendered.text,
                body_html=rendered.html,
                payload=payload,
                actor=actor,
                created_at=now,
            )
    except IntegrityError:
        return Notification.objects.get(event_key=event_key), False
    return notification, True


def _outbox_write(
    *, notification: Notification, targets: list[_Target], now: datetime
) -> list[int]:
    """The outbox write: one pending ``Delivery`` per target (a unique
    idempotency key each, due ``now``) for ``notification``, inside the caller's
    transaction. Returns the new deliveries' ids, oldest first, for the caller
    to publish after commit (``_publish_deliveries``). Sends nothing."""
    Delivery.objects.bulk_create(
        Delivery(
            notification=notification,
            channel=target.channel,
            recipient=target.recipient,
            recipient_name=target.name,
            user=target.user,
            may_receive_restricted=target.opted_in,
            contact_method=target.contact_method,
            idempotency_key=_idempotency_key(
                notification.event_key, target.channel, target.recipient
            ),
            created_at=now,
            next_attempt_at=now,
        )
        for target in targets
    )
    return list(notification.deliveries.order_by("pk").values_list("pk", flat=True))


def _log_sent(
    *, logged, notification, targets, withheld, lists, timeline_kind, actor, now
) -> None:
    """The ``queued`` entry on each logged incident's timeline: the channels,
    how many recipients (names up to ``NAMES_ON_TIMELINE``), the lists and how
    many were withheld."""
    per_channel: dict[str, int] = {}
    for target in targets:
        per_channel[target.channel.name] = per_channel.get(target.channel.name, 0) + 1
    people = sum(1 for t in targets if not t.broadcast)
    described = ", ".join(
        f"{name} ({count})" if count > 1 else name
        for name, count in per_channel.items()
    )
    summary = (
        f"Sent “{notification.subject}” to {people} recipient(s) via {described}"
        if people
        else f"Sent “{notification.subject}” via {described}"
    )
    if withheld:
        summary += f"; {_withheld_text(withheld)}"
    for logged_incident in logged:
        timeline_record(
            incident=logged_incident,
            actor=actor,
            occurred_at=now,
            entry=entries.communication(
                entry_kind=timeline_kind,
                summary=summary,
                status="queued",
                withheld=withheld,
                notification=notification.pk,
                channels=[
                    {"channel": name, "deliveries": count}
                    for name, count in per_channel.items()
                ],
                recipient_count=people,
                recipients=_names(targets),
                lists=[str(stakeholder_list) for stakeholder_list in lists],
                kind=notification.kind,
            ),
        )


def _withheld_text(count: int) -> str:
    return f"withheld from {count} recipient(s) without access"


def _record_nobody_told(
    *, logged, kind, event_key, withheld, timeline_kind, actor, now
) -> None:
    """Say on the timeline that a message went to nobody (once per event), so a
    missing owner e-mail, an empty group or a withheld restricted incident is
    visible instead of silently passing for sent."""
    reason = (
        f"{_withheld_text(withheld)} to this restricted incident"
        if withheld
        else "nobody to tell (no members, or none active with an e-mail address)"
    )
    for logged_incident in logged:
        already = TimelineEntry.objects.filter(
            incident=logged_incident,
            data__event_key=event_key,
            data__status="no_recipients",
        ).exists()
        if already:
            continue
        timeline_record(
            incident=logged_incident,
            actor=actor,
            occurred_at=now,
            entry=entries.communication(
                entry_kind=timeline_kind,
                summary=f"No recipients for {kind}: {reason}",
                status="no_recipients",
                event_key=event_key,
                withheld=withheld,
                kind=kind,
            ),
        )


# --- sending ------------------------------------------------------------------------


def _claim(delivery_id: int, now: datetime) -> Delivery | None:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .select_related("channel", "notification")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != Delivery.Status.PENDING:
            return None
        if delivery.claimed_until and delivery.claimed_until > now:
            return None  # another worker is sending it right now
        if delivery.next_attempt_at > now:
            return None  # backing off; its own retry will come
        delivery.claimed_until = now + CLAIM_LEASE
        delivery.attempts += 1
        delivery.save(update_fields=["claimed_until", "attempts"])
        return delivery


WITHHELD_AT_SEND = (
    "Withheld: the incident is restricted and this recipient may not see it "
    "(checked when sending)."
)


def _still_cleared(delivery: Delivery) -> bool:
    """The send-time re-check: may this recipient hear of the incident as it
    is now? A person must be able to see it (``can_view``, which also
    answers False for a deactivated account); an external address or broadcast
    channel needs its list's or channel's opt-in recorded when it was queued."""
    notification = delivery.notification
    if notification.incident_id is None:  # a restricted route's change
        types = notification.about_types.all()
        return permissions.hears_of_route_changes(delivery.user, types)
    incident = Incident.objects.get(pk=notification.incident_id)
    if not incident.restricted:
        return True
    if delivery.user_id is not None:
        return can_view(delivery.user, incident)
    return delivery.may_receive_restricted


def _log_outcome_if_settled(notification: Notification, now: datetime) -> None:
    """Once no delivery is pending, one timeline entry says how it went."""
    deliveries = list(notification.deliveries.select_related("channel"))
    if notification.outcome_logged_at or any(
        d.status == Delivery.Status.PENDING for d in deliveries
    ):
        return
    sent = [d for d in deliveries if d.status == Delivery.Status.SENT]
    failed = [d for d in deliveries if d.status == Delivery.Status.FAILED]
    withheld = [d for d in deliveries if d.status == Delivery.Status.WITHHELD]
    if not failed:
        status = "delivered" if sent or not withheld else "withheld"
    else:
        status = "failed" if not sent else "partial"
    per_channel: dict[str, dict[str, int]] = {}
    for d in deliveries:
        counts = per_channel.setdefault(
            d.channel.name, {"sent": 0, "failed": 0, "withheld": 0}
        )
        counts[d.status] += 1
    summary = f"“{notification.subject}”: {len(sent)} delivered"
    if withheld:
        summary += (
            f", {len(withheld)} withheld (the incident is now restricted to "
            "people who may see it)"
        )
    if failed:
        summary += f", {len(failed)} failed (" + "; ".join(
            f"{d.recipient_name or d.recipient} via {d.channel.name}: {d.last_error}"
            for d in failed[:3]
        )
        summary += ", …)" if len(failed) > 3 else ")"
    notification.outcome_logged_at = now
    notification.save(update_fields=["outcome_logged_at"])
    if notification.incident_id is None:
        return  # about no incident: its log is the outbox itself
    timeline_record(
        incident=notification.incident,
        actor=None,
        occurred_at=now,
        entry=entries.communication(
            summary=summary,
            status=status,
            notification=notification.pk,
            sent=len(sent),
            failed=len(failed),
            withheld=len(withheld),
            channels=per_channel,
            failures=[
                {
                    "recipient": d.recipient,
                    "channel": d.channel.name,
                    "error": d.last_error,
                    "attempts": d.attempts,
                }
                for d in failed[:20]
            ],
            kind=notification.kind,
        ),
    )


def delivery_send(*, delivery_id: int, now: datetime | None = None) -> str | None:
    """Send one pending delivery; called by the worker, never in a transaction.

    Deliberately not atomic as a whole: the row is claimed in one short
    transaction (locked with ``select_for_update``; skipped if already sent,
    failed, claimed by another worker or backing off), the channel is spoken to
    with no transaction open, and the result recorded in a second one.
    Changes: ``attempts``, then ``sent``/``sent_at``, or ``failed``/
    ``failed_at`` with ``last_error`` on a permanent error or the
    ``MAX_ATTEMPTS``-th transient one, or ``last_error`` and ``next_attempt_at``
    (exponential backoff) on an earlier transient one; once the notification's
    last delivery settles, one outcome timeline entry.
    Any other exception from the sender is a permanent failure recorded as
    its type name only (logged with its traceback). Error texts are passed
    through ``channels.redact`` so the channel's URL and secret never reach
    ``last_error`` or the timeline.
    Before sending, the recipient is checked again against the incident as it
    is now (``_still_cleared``): if it became restricted since the delivery
    was queued and the recipient may not see it, the delivery becomes
    ``withheld`` (``last_error`` says why) and nothing is sent.
    Sends: the message. Returns the new status, or None if it skipped the row.
    Raises: ``TransientDeliveryError`` (with ``retry_in`` seconds) when the
    delivery should be retried; ``channels.SendInsideTransaction`` (claiming and
    sending nothing) when called inside an atomic block.
    """
    transports.ensure_no_transaction()
    now = now or timezone.now()
    delivery = _claim(delivery_id, now)
    if delivery is None:
        return None
    error: transports.DeliveryError | None = None
    if delivery.contact_method_id is not None:
        # A page to a person's own address: send (and redact) with it.
        delivery.channel = delivery.channel.for_contact_method(delivery.contact_method)
    contact_gone = (
        delivery.contact_method_id is None
        and delivery.channel.name in Channel.PERSONAL.values()
    )
    withheld = not _still_cleared(delivery)
    if withheld:
        pass  # never sent; recorded below
    elif contact_gone:
        error = transports.PermanentDeliveryError(
            "The person removed this contact method."
        )
    elif not delivery.channel.is_enabled:
        error = transports.PermanentDeliveryError("The channel is disabled.")
    else:
        try:
            transports.send(delivery)
        except transports.DeliveryError as exc:
            error = exc
        except Exception as exc:
            # A bug or an unforeseen library error: retrying would repeat it
            # forever, so it fails now, with the type only (its message may
            # carry the channel's URL or token); the traceback goes to the log.
            logger.exception(
                "Delivery %s via channel %s raised unexpectedly",
                delivery.pk,
                delivery.channel_id,
            )
            error = transports.PermanentDeliveryError(
                f"Unexpected error: {type(exc).__name__}"
            )
    reason = transports.redact(str(error), delivery.channel) if error else ""
    retry = isinstance(error, transports.TransientDeliveryError) and (
        delivery.attempts < MAX_ATTEMPTS
    )
    with transaction.atomic():
        # The notification's lock first: concurrent settlements of its
        # deliveries take turns, so exactly one sees the last one settle.
        notification = Notification.objects.select_for_update().get(
            pk=delivery.notification_id
        )
        delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
        delivery.claimed_until = None
        if withheld:
            delivery.status = Delivery.Status.WITHHELD
            delivery.last_error = WITHHELD_AT_SEND
        elif error is None:
            delivery.status = Delivery.Status.SENT
            delivery.sent_at = now
        elif retry:
            delivery.last_error = reason[:2000]
            delivery.next_attempt_at = now + _backoff(delivery.attempts)
        else:
            delivery.status = Delivery.Status.FAILED
            delivery.failed_at = now
            delivery.last_error = reason[:2000]
            if isinstance(error, transports.TransientDeliveryError):
                delivery.last_error = (
                    f"Gave up after {delivery.attempts} attempts: {reason}"[:2000]
                )
        delivery.save()
        _log_outcome_if_settled(notification, now)
    if retry:
        exc = transports.TransientDeliveryError(reason)
        exc.retry_in = (delivery.next_attempt_at - now).total_seconds()
        raise exc
    return delivery.status


@transaction.atomic
def delivery_resend(*, delivery: Delivery, actor, now: datetime | None = None):
    """Give a failed delivery another round of attempts.

    Changes: the delivery back to ``pending`` with its attempts reset (its last
    error kept until the next attempt); the notification's outcome watermark
    cleared so the new outcome is logged; a timeline entry naming who resent.
    Sends: the send task, after commit.
    Raises: ``NotPermitted`` unless ``actor`` may resend it
    (``notifications.permissions.can_resend``: who may post the incident's
    updates; None is IncidentOps itself); ``DomainError`` unless the delivery
    has failed.
    """
    now = now or timezone.now()
    delivery = (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("notification__incident", "channel")
        .get(pk=delivery.pk)
    )
    if not permissions.can_resend(actor, delivery):
        raise NotPermitted("You may not resend this incident's messages.")
    if delivery.status != Delivery.Status.FAILED:
        raise DomainError("Only a failed delivery can be resent.")
    delivery.status = Delivery.Status.PENDING
    delivery.attempts = 0
    delivery.failed_at = None
    delivery.next_attempt_at = now
    delivery.claimed_until = None
    delivery.swept_at = None
    delivery.save()
    notification = delivery.notification
    notification.outcome_logged_at = None
    notification.save(update_fields=["outcome_logged_at"])
    transaction.on_commit(partial(_publish_deliveries, [delivery.pk]))
    if notification.incident_id is None:
        return delivery  # about no incident: the outbox row is its record
    who = actor_label(actor)
    timeline_record(
        incident=notification.incident,
        actor=actor,
        occurred_at=now,
        entry=entries.communication(
            summary=f"{who} resent “{notification.subject}” to "
            f"{delivery.recipient_name or delivery.recipient} "
            f"via {delivery.channel.name}",
            status="resent",
            notification=notification.pk,
            channel=delivery.channel.name,
            recipient=delivery.recipient,
        ),
    )
    return delivery


def outbox_sweep(*, now: datetime) -> int:
    """Re-publish deliveries whose broker message was lost or whose worker died.

    Picks pending deliveries that are either abandoned (a worker claimed them
    and its claim ran out without a result: it died mid-send; each expired
    claim is re-published once) or lost (due at least ``SWEEP_AFTER`` before
    ``now``, not claimed, and not re-published in the last ``RESWEEP_AFTER``);
    publishes a send task for each and marks ``swept_at`` (only for those the
    broker took, so a second run with the same ``now`` publishes nothing). Stops
    at the first failed publish (the broker is still down). Returns how many it
    published. The send task's claim makes a race with the first task harmless.
    """
    from notifications.tasks import send_delivery_task

    expired = Q(claimed_until__isnull=False, claimed_until__lte=now)
    abandoned = expired & (
        Q(swept_at__isnull=True) | Q(swept_at__lt=F("claimed_until"))
    )
    lost = (
        Q(next_attempt_at__lte=now - SWEEP_AFTER)
        & (Q(claimed_until__isnull=True) | expired)
        & (Q(swept_at__isnull=True) | Q(swept_at__lte=now - RESWEEP_AFTER))
    )
    ids = list(
        Delivery.objects.filter(status=Delivery.Status.PENDING)
        .filter(abandoned | lost)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    published = []
    for delivery_id in ids:
        if not publish(send_delivery_task, delivery_id):
            break
        published.append(delivery_id)
    if published:
        Delivery.objects.filter(pk__in=published).update(swept_at=now)
    return len(published)


# The update-cadence sweep lives in its own module; ``services`` keeps its name.
from notifications.cadence import cadence_reminders_sweep  # noqa: E402, F401
