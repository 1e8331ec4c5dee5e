"""Batch reviews of low-severity incidents, and severity changes after resolve."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError, InvalidTransition, NotPermitted
from incidents import permissions as incident_permissions
from incidents import timeline_entries as entries
from incidents.models import Incident
from incidents.services import timeline_record
from reviews import permissions
from reviews.models import (
    BatchReview,
    BatchReviewItem,
    Review,
)
from reviews.policy import (
    Mode,
    due_after,
    effective_policy,
    individual_policy,
    org_zone,
)
from reviews.services.authoring import _create_review
from reviews.services.base import (
    Status,
    _label,
    _local,
    _lock,
    _lock_batch,
    _log,
    _save,
)

Disposition = BatchReviewItem.Disposition


def _require_batch_open(actor, batch: BatchReview) -> None:
    refusal = permissions.batch_refusal(actor, batch)
    if refusal:
        raise NotPermitted(refusal)
    if batch.status != BatchReview.Status.OPEN:
        raise InvalidTransition(
            f"The {batch.label} is done; its decisions are on the record."
        )


@transaction.atomic
def batch_item_decide(
    *,
    item: BatchReviewItem,
    actor,
    disposition: str,
    note: str = "",
    ticket_url: str = "",
    now: datetime | None = None,
) -> BatchReviewItem:
    """Record what the batch review decided about one of its incidents.

    ``disposition``: ``no_action``, ``follow_up`` (needs a note or a ticket
    link) or ``promoted`` (files a full review of the incident, due as an
    individual review would be, counted from now). A decision can be revised
    while the batch is open, except a promotion: the full review stays.
    Changes: the item (disposition, note, ticket, who/when); for a promotion a
    ``Review`` with its generated timeline; a ``review`` entry on the
    incident's timeline. Sends nothing.
    Raises: ``NotPermitted`` unless ``actor`` is a person of the batch's owner
    group who may see the incident; ``InvalidTransition`` once the batch is
    done or to undo a promotion; ``DomainError`` for an unknown disposition or
    a follow-up without a note or ticket.
    """
    now = now or timezone.now()
    batch = _lock_batch(item.batch)
    _require_batch_open(actor, batch)
    locked = (
        BatchReviewItem.objects.select_for_update(of=("self",))
        .select_related("incident", "incident__severity")
        .get(pk=item.pk)
    )
    if not incident_permissions.can_view(actor, locked.incident):
        raise NotPermitted("You may not see this incident.")
    if disposition not in Disposition.values or disposition == Disposition.PENDING:
        raise DomainError(f"Unknown disposition {disposition!r}.", field="disposition")
    note, ticket_url = (note or "").strip(), (ticket_url or "").strip()
    if locked.disposition == Disposition.PROMOTED and disposition != (
        Disposition.PROMOTED
    ):
        raise InvalidTransition(
            f"{locked.incident.reference} was promoted to a full review; that "
            "decision stands."
        )
    if disposition == Disposition.FOLLOW_UP and not (note or ticket_url):
        raise DomainError(
            "Say what the follow-up is, or link its ticket.", field="note"
        )
    if (locked.disposition, locked.note, locked.ticket_url) == (
        disposition,
        note,
        ticket_url,
    ):
        return locked
    _record_decision(
        locked,
        batch=batch,
        actor=actor,
        disposition=disposition,
        note=note,
        ticket_url=ticket_url,
        now=now,
    )
    return locked


def _record_decision(
    locked: BatchReviewItem,
    *,
    batch: BatchReview,
    actor,
    disposition: str,
    note: str,
    ticket_url: str,
    now: datetime,
) -> None:
    """Write a decision on a locked item and log it; a promotion files the full
    review (due as an individual review would be, counted from ``now``).
    ``actor`` None: the system decided (a raised severity)."""
    promoting = (
        disposition == Disposition.PROMOTED
        and locked.disposition != Disposition.PROMOTED
    )
    locked.disposition, locked.note, locked.ticket_url = disposition, note, ticket_url
    locked.decided_by, locked.decided_at = actor, now
    locked.save()
    label = Disposition(disposition).label.lower()
    timeline_record(
        incident=locked.incident,
        actor=actor,
        occurred_at=now,
        entry=entries.review(
            summary=f"{_label(actor)} decided “{label}” in the {batch.label}"
            + (f": {note}" if note else "")
            + (f" ({ticket_url})" if ticket_url else ""),
            change="batch_decision",
            batch_review=batch.pk,
            disposition=disposition,
            note=note,
            ticket_url=ticket_url,
            system=actor is None,
        ),
    )
    if promoting and not Review.objects.filter(incident=locked.incident).exists():
        code = locked.incident.severity.code if locked.incident.severity_id else None
        _create_review(
            incident=locked.incident,
            policy=individual_policy(code),
            due_from=now,
            actor=actor,
            now=now,
            why=f", promoted from the {batch.label}",
        )


@transaction.atomic
def review_apply_severity_change(
    *, incident: Incident, previous_severity, actor=None, now: datetime | None = None
) -> Review | None:
    """Re-file a resolved (or closed) incident whose severity was raised.

    Called by the ``incident_severity_confirmed`` receiver; does nothing for an
    incident that is not resolved or closed (it is filed when it resolves) or
    for a lowering or re-confirmation: a review keeps the stricter policy it
    was filed under, and a batch decision stands.
    Changes, for a raise: an incident waiting in a batch review whose new
    severity is reviewed individually is promoted — the item's disposition
    becomes ``promoted`` as a system decision (logged on the timeline) and a
    full review is filed, due as the new severity's policy says counted from
    now (the promotion path of ``batch_item_decide``), even when the batch is
    done. A review still in draft or in review gets the new severity's policy
    re-applied: its due date is brought forward when the new policy's (counted
    from resolution) is earlier, never pushed later; approval groups it lacks
    are added and counts raised, none removed; ``severity_code`` becomes the
    new code (the policy applied); a ``review`` timeline entry says what
    changed. An approved or published review is left as it is. Sends nothing.
    Returns the review concerned, or None. Raises nothing.
    """
    if incident.status not in (Incident.Status.RESOLVED, Incident.Status.CLOSED):
        return None
    severity = incident.severity
    if severity is None or not severity.is_more_severe_than(previous_severity):
        return None
    now = now or incident.severity_confirmed_at or timezone.now()
    review = Review.objects.filter(incident=incident).first()
    if review is None:
        item = BatchReviewItem.objects.filter(incident=incident).first()
        if item is None or effective_policy(severity.code).mode != Mode.INDIVIDUAL:
            return None
        batch = _lock_batch(item.batch)
        locked_item = (
            BatchReviewItem.objects.select_for_update(of=("self",))
            .select_related("incident", "incident__severity")
            .get(pk=item.pk)
        )
        _record_decision(
            locked_item,
            batch=batch,
            actor=None,
            disposition=Disposition.PROMOTED,
            note=f"severity raised to {severity.code}, which is reviewed individually",
            ticket_url="",
            now=now,
        )
        return Review.objects.filter(incident=incident).first()
    return _reapply_policy(review, code=severity.code, now=now)


def _reapply_policy(review: Review, *, code: str, now: datetime) -> Review:
    locked = _lock(review)
    if locked.status not in (Status.DRAFT, Status.IN_REVIEW):
        return locked
    policy = individual_policy(code)
    changes = []
    due_from = locked.incident.resolved_at or locked.created_at
    due = due_after(due_from, policy.due_business_days)
    if due < locked.due_at:
        locked.due_at = due
        changes.append(f"due {_local(due)}")
    required = [dict(req) for req in locked.required_approvals]
    for req in policy.approvals:
        have = next((r for r in required if r["group"] == req["group"]), None)
        if have is None:
            required.append(dict(req))
            changes.append(f"approval from {req['group']} required")
        elif have["count"] < req["count"]:
            have["count"] = req["count"]
            changes.append(f"{req['count']} approvals from {req['group']} required")
    locked.required_approvals = required
    previous_code = locked.severity_code
    locked.severity_code = policy.severity_code
    _save(locked, None)
    _log(
        locked,
        actor=None,
        now=now,
        summary=f"Severity raised to {policy.severity_code}: the review now follows "
        f"its policy" + (f" ({'; '.join(changes)})" if changes else ""),
        data={
            "change": "policy_reapplied",
            "severity": policy.severity_code,
            "previous": previous_code,
            "due_at": locked.due_at,
            "required_approvals": required,
        },
    )
    return locked


@transaction.atomic
def batch_complete(
    *, batch: BatchReview, actor, notes: str = "", now: datetime | None = None
) -> BatchReview:
    """Close a batch review once every incident in it has a disposition.

    Changes: status ``open`` → ``done``, ``completed_at/by``, ``notes``; a
    ``review`` entry on each incident's timeline naming who completed it and
    what was decided. Sends nothing.
    Raises: ``NotPermitted`` unless ``actor`` is a person of the owner group;
    ``InvalidTransition`` when it is done already, its period has not ended,
    or an incident still has no disposition (those ``actor`` may not see are
    counted, never named).
    """
    now = now or timezone.now()
    locked = _lock_batch(batch)
    _require_batch_open(actor, locked)
    today = now.astimezone(org_zone()).date()
    if today <= locked.period_end:
        raise InvalidTransition(
            f"The {locked.label} covers incidents until {locked.period_end:%d %b %Y}"
            "; complete it after the period has ended."
        )
    items = list(locked.items.select_related("incident"))
    undecided = [item for item in items if not item.disposition]
    if undecided:
        visible = set(
            Incident.objects.visible_to(actor)
            .filter(pk__in=[item.incident_id for item in undecided])
            .values_list("pk", flat=True)
        )
        named = [i.incident.reference for i in undecided if i.incident_id in visible]
        hidden = len(undecided) - len(named)
        parts = [", ".join(named)] if named else []
        if hidden:
            parts.append(f"{hidden} incident(s) you may not see, for someone who may")
        raise InvalidTransition(
            "Every incident needs a disposition before the batch review is "
            f"complete: still open {'; '.join(parts)}."
        )
    locked.status = BatchReview.Status.DONE
    locked.completed_at, locked.completed_by = now, actor
    locked.notes = (notes or "").strip() or locked.notes
    _save(locked, actor)
    for item in items:
        timeline_record(
            incident=item.incident,
            actor=actor,
            occurred_at=now,
            entry=entries.review(
                summary=f"{_label(actor)} completed the {locked.label}: "
                f"{item.get_disposition_display().lower()}"
                + (f" — {item.note}" if item.note else ""),
                change="batch_completed",
                batch_review=locked.pk,
                disposition=item.disposition,
            ),
        )
    return locked
