"""The periodic sweep: review reminders, overdue alerts and escalations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from incidentops.groups import INCIDENT_MANAGERS
from incidents.permissions import can_view
from reviews.models import (
    BatchReview,
    Review,
)
from reviews.policy import (
    effective_policy,
    escalation_instant,
    individual_policy,
    reminder_instants,
)
from reviews.services.base import (
    FALLBACK_RECIPIENTS,
    Status,
    _label,
    _local,
    _notify,
    _review_context,
    _save,
)


@dataclass(frozen=True)
class ReviewAlert:
    """One alert the sweep sent, about a review or a batch review."""

    kind: str  # reminder, overdue, escalation
    review_id: int | None
    reference: str  # the incident's, or the batch's label
    due_at: datetime
    recipients: str
    batch_id: int | None = None

    def describe(self) -> str:
        what = self.reference if self.batch_id else f"review of {self.reference}"
        return f"{self.kind}: {what} (due {_local(self.due_at)}) -> {self.recipients}"


def review_sweep(*, now: datetime) -> list[ReviewAlert]:
    """Send the review and batch-review reminders, overdue alerts and
    escalations due at ``now``.

    The periodic job (Celery beat and ``check_overdue_reviews``). For each
    unpublished review and each open batch review, in its own transaction: at
    most one reminder (the latest reminder instant passed and not yet sent),
    the overdue alert once the due date has passed, and each escalation step
    whose delay has passed, to its group. A review's alerts go to its owner, a
    batch's to its owner group. Each goes through ``notification_send`` with a
    unique event key, which logs it on the incident's timeline (a batch's on
    the timeline of every incident in it). When it reaches nobody (no e-mail
    address, an empty group) it is tried once more to the Incident managers;
    the watermarks (``reminded_for``, ``overdue_alerted_at``,
    ``escalation_level``) advance only when a ``Notification`` came back, so
    running it again sends nothing new, and an alert nobody received is sent
    by a later run once someone can be reached.
    Returns the alerts sent.
    """
    alerts: list[ReviewAlert] = []
    # Policies looked up once per severity code and run (three queries each),
    # not once per review.
    individual: dict[str | None, Any] = {}
    effective: dict[str | None, Any] = {}

    def individual_of(code):
        if code not in individual:
            individual[code] = individual_policy(code)
        return individual[code]

    def effective_of(code):
        if code not in effective:
            effective[code] = effective_policy(code)
        return effective[code]

    for pk in (
        Review.objects.unpublished().order_by("due_at").values_list("pk", flat=True)
    ):
        alerts.extend(_sweep_review(pk, now, individual_of))
    for pk in (
        BatchReview.objects.filter(status=BatchReview.Status.OPEN)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)
    ):
        alerts.extend(_sweep_batch(pk, now, effective_of))
    return alerts


def _notify_or_fallback(*, groups, users=(), **kwargs):
    """``notification_send`` to ``users`` and ``groups``; when that reaches
    nobody (an owner without an e-mail address, an empty group), one more
    attempt with the same event key to the Incident managers. Returns the
    ``Notification`` and whether the fallback sent it; (None, False) when
    nobody could be told."""
    notification = _notify(users=users, groups=groups, **kwargs)
    if notification is not None:
        return notification, False
    managers = Group.objects.filter(name=INCIDENT_MANAGERS).first()
    if managers is None or (managers in groups and not users):
        return None, False
    notification = _notify(groups=[managers], **kwargs)
    return notification, notification is not None


def _due_alerts(target, *, policy, now: datetime, send) -> None:
    """The watermark logic shared by reviews and batches: ``target`` has
    ``due_at`` and the four watermark fields; ``send(kind, key, level, group)``
    writes the notification and returns it, or None when nobody could be told.
    Each watermark is saved right after a send that returned a notification,
    and only then: an alert nobody received is tried again on the next run."""
    if now < target.due_at:
        passed = [
            instant
            for instant in reminder_instants(
                target.due_at, policy.reminder_business_days
            )
            if instant <= now
            and (target.reminded_for is None or instant > target.reminded_for)
        ]
        if passed:
            latest = passed[-1]
            if send("reminder", f"reminder-{latest:%Y%m%dT%H%M}", None, None):
                target.reminded_for = latest
                _save(target, None, update_fields=["reminded_for"])
        return

    if target.overdue_alerted_at is None and send("overdue", "overdue", None, None):
        target.overdue_alerted_at = now
        _save(target, None, update_fields=["overdue_alerted_at"])

    steps = sorted(policy.escalations, key=lambda step: step.after_business_days)
    for level, step in enumerate(steps, start=1):
        if level <= target.escalation_level:
            continue
        if escalation_instant(target.due_at, step.after_business_days) > now:
            break
        if not send("escalation", f"escalation-{level}", level, step.group):
            # Levels go in order: a later step waits until this one reached
            # someone.
            break
        target.escalation_level, target.escalated_at = level, now
        _save(target, None, update_fields=["escalation_level", "escalated_at"])


@transaction.atomic
def _sweep_review(pk: int, now: datetime, policy_of) -> list[ReviewAlert]:
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related("incident", "owner")
        .filter(pk=pk)
        .first()
    )
    if review is None or review.status == Status.PUBLISHED:
        return []
    policy = policy_of(review.severity_code)
    alerts: list[ReviewAlert] = []
    owner_users = [review.owner] if review.owner else []
    fallback_groups = (
        []
        if owner_users
        else list(
            Group.objects.filter(name=(policy.batch_owner_group or INCIDENT_MANAGERS))
        )
    )
    owner_label = _label(review.owner) if review.owner else "incident managers"

    def send(kind: str, key: str, level, group_name):
        groups, recipients, extra = fallback_groups, owner_label, {}
        if level is not None:
            group = Group.objects.filter(name=group_name).first()
            groups = [group] if group else []
            recipients = f"{group_name} (level {level})" + (
                f", {owner_label}" if owner_users else ""
            )
            extra = {"escalation_level": level, "escalation_group": group_name}
        notification, fell_back = _notify_or_fallback(
            incident=review.incident,
            kind=f"review_{kind}",
            event_key=f"review-{review.pk}-{key}",
            context=_review_context(review, **extra),
            users=owner_users,
            groups=groups,
        )
        if notification is not None:
            alerts.append(
                ReviewAlert(
                    kind,
                    review.pk,
                    review.incident.reference,
                    review.due_at,
                    FALLBACK_RECIPIENTS if fell_back else recipients,
                )
            )
        return notification

    _due_alerts(review, policy=policy, now=now, send=send)
    return alerts


def _seen_by_all(items, groups) -> list:
    """The batch items whose incident every active member of ``groups`` may
    see: one message goes to all of them, so its counts may cover only those
    (a restricted incident some reader may not see is not counted)."""
    User = get_user_model()
    readers = list(User.objects.filter(groups__in=groups, is_active=True).distinct())
    return [
        item
        for item in items
        if not item.incident.restricted
        or all(can_view(reader, item.incident) for reader in readers)
    ]


def _batch_context(batch: BatchReview, items, **extra) -> dict:
    decided = sum(1 for item in items if item.disposition)
    return {
        "batch_label": batch.label,
        "batch_period": batch.period,
        "batch_severity": batch.severity.code,
        "batch_link": settings.SITE_URL + batch.get_absolute_url(),
        "batch_due_at": _local(batch.due_at),
        "batch_count": len(items),
        "batch_undecided": len(items) - decided,
        "batch_owner": batch.owner_group.name if batch.owner_group_id else "",
        **extra,
    }


@transaction.atomic
def _sweep_batch(pk: int, now: datetime, policy_of) -> list[ReviewAlert]:
    batch = (
        BatchReview.objects.select_for_update(of=("self",))
        .select_related("severity", "owner_group")
        .filter(pk=pk)
        .first()
    )
    if batch is None or batch.status != BatchReview.Status.OPEN:
        return []
    items = list(batch.items.select_related("incident").order_by("added_at", "pk"))
    if not items:
        return []
    # ``Notification.incident`` is required: the message is filed under the
    # batch's first unrestricted incident and logged on every incident's
    # timeline. The message itself names no incident (templates
    # review_batch_*), so recipients learn nothing of restricted ones.
    incidents = [item.incident for item in items]
    anchor = next((i for i in incidents if not i.restricted), incidents[0])
    policy = policy_of(batch.severity.code)
    owner_group = (
        batch.owner_group or Group.objects.filter(name=INCIDENT_MANAGERS).first()
    )
    owner_label = owner_group.name if owner_group else "nobody"
    alerts: list[ReviewAlert] = []

    def send(kind: str, key: str, level, group_name):
        groups = [owner_group] if owner_group else []
        recipients, extra = owner_label, {}
        if level is not None:
            group = Group.objects.filter(name=group_name).first()
            groups = [g for g in (group, owner_group) if g is not None]
            recipients = f"{group_name} (level {level}), {owner_label}"
            extra = {"escalation_level": level, "escalation_group": group_name}
        notification, fell_back = _notify_or_fallback(
            incident=anchor,
            kind=f"review_batch_{kind}",
            event_key=f"batch-{batch.pk}-{key}",
            context=_batch_context(batch, _seen_by_all(items, groups), **extra),
            groups=groups,
            log_on=incidents,
        )
        if notification is not None:
            alerts.append(
                ReviewAlert(
                    kind,
                    None,
                    batch.label,
                    batch.due_at,
                    FALLBACK_RECIPIENTS if fell_back else recipients,
                    batch.pk,
                )
            )
        return notification

    _due_alerts(batch, policy=policy, now=now, send=send)
    return alerts
