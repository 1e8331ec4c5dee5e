"""Every write about post-incident reviews, one function per verb.

Each service takes keyword arguments only, checks its permission rule
(``reviews.permissions``) and preconditions once, raises a domain error
(``incidentops.exceptions``) with a reason a person can read, records the acting
user in history and logs what matters on the incident's timeline through
``incidents.services.timeline_record``. ``now`` lets history be back-dated (the
demo seed) and the sweep be tested; it defaults to the real time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError, InvalidTransition, NotPermitted
from incidentops.groups import INCIDENT_MANAGERS
from incidents import permissions as incident_permissions
from incidents.models import Incident, TimelineEntry
from incidents.services import timeline_record
from reviews import permissions
from reviews.models import (
    Approval,
    BatchReview,
    BatchReviewItem,
    ContributingFactor,
    ContributingFactorCategory,
    FiveWhy,
    FollowUp,
    Review,
    ReviewTimelineItem,
)
from reviews.policy import (
    Mode,
    batch_period_of,
    due_after,
    effective_policy,
    escalation_instant,
    individual_policy,
    local_instant,
    org_zone,
    reminder_instants,
)

Status = Review.Status
REVIEW = TimelineEntry.Kind.REVIEW
# Who is told when an alert's own recipients cannot be reached.
FALLBACK_RECIPIENTS = f"{INCIDENT_MANAGERS} (nobody else reachable)"

# The entries a generated review timeline includes to begin with; every other
# entry is offered too, excluded, so the author can add it.
KEY_TIMELINE_KINDS = frozenset(
    {
        TimelineEntry.Kind.DECLARED,
        TimelineEntry.Kind.STATUS,
        TimelineEntry.Kind.SEVERITY_CONFIRMED,
        TimelineEntry.Kind.ROLE,
        TimelineEntry.Kind.STAKEHOLDER_UPDATE,
        TimelineEntry.Kind.ALERT,
    }
)
CONTENT_FIELDS = (
    "summary",
    "customer_impact",
    "business_impact",
    "root_cause",
    "went_well",
    "went_poorly",
    "got_lucky",
    "lessons",
)
FOLLOW_UP_FIELDS = ("title", "description", "owner", "due_at", "status", "ticket_url")


def _save(instance, actor, **kwargs) -> None:
    # simple-history reads the acting user from here outside a request.
    instance._history_user = actor
    instance.save(**kwargs)


def _label(user) -> str:
    return user.display_name if user is not None else "IncidentOps"


def _log(review: Review, *, actor, summary: str, now: datetime, data: dict) -> None:
    timeline_record(
        incident=review.incident,
        kind=REVIEW,
        actor=actor,
        occurred_at=now,
        summary=summary,
        data={"review": review.pk, **data},
    )


def _lock(review: Review) -> Review:
    return (
        Review.objects.select_for_update().select_related("incident").get(pk=review.pk)
    )


def _require_editable(actor, review: Review) -> None:
    if not permissions.can_edit(actor, review):
        raise NotPermitted("You may not edit this review.")
    if not review.is_editable:
        raise InvalidTransition(
            f"The review is {review.get_status_display().lower()}; only a draft "
            "can be edited (request changes to reopen it)."
        )


def _default_owner(incident: Incident):
    commander = incident.commander
    if commander is not None and commander.is_human:
        return commander
    reporter = incident.reporter
    return reporter if reporter is not None and reporter.is_human else None


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(org_zone()):%a %d %b %Y %H:%M %Z}"


# --- creation on resolve ------------------------------------------------------


@transaction.atomic
def review_open_for_incident(
    *, incident: Incident, actor=None, now: datetime | None = None
) -> Review | BatchReviewItem | None:
    """File a resolved incident for review as its severity's policy says.

    Called by the ``incident_resolved`` receiver. Changes: for an individual
    policy, a ``Review`` (owner: the commander; due N business days after
    resolution in the organisation's time zone; the approvals the policy asks
    for, as of now) with its generated timeline; for a batch policy, the
    incident joins the period's ``BatchReview`` (created if needed); a ``review``
    timeline entry either way. Resolving again after a reopen creates nothing
    new: an existing review only gains the newer timeline entries. Sends nothing.
    Raises nothing for a policy of "no review" (returns None).
    """
    now = now or incident.resolved_at or timezone.now()
    existing = Review.objects.filter(incident=incident).first()
    if existing is not None:
        review_refresh_timeline(review=existing)
        return existing
    existing_item = BatchReviewItem.objects.filter(incident=incident).first()
    if existing_item is not None:
        return existing_item

    severity_code = incident.severity.code if incident.severity_id else None
    policy = effective_policy(severity_code)
    resolved_at = incident.resolved_at or now
    if policy.mode == Mode.NONE:
        return None
    if policy.mode == Mode.BATCH:
        return _file_for_batch(incident=incident, policy=policy, now=now)

    return _create_review(
        incident=incident, policy=policy, due_from=resolved_at, actor=actor, now=now
    )


def _create_review(
    *, incident: Incident, policy, due_from: datetime, actor, now: datetime, why=""
) -> Review:
    owner = _default_owner(incident)
    review = Review(
        incident=incident,
        owner=owner,
        severity_code=policy.severity_code,
        due_at=due_after(due_from, policy.due_business_days),
        required_approvals=[dict(req) for req in policy.approvals],
        created_at=now,
    )
    _save(review, actor)
    review_refresh_timeline(review=review)
    _log(
        review,
        actor=actor if why else None,
        now=now,
        summary=(
            f"Post-incident review opened ({policy.severity_code}{why}): owner "
            f"{_label(owner) if owner else 'nobody yet'}, due {_local(review.due_at)}"
        ),
        data={
            "change": "created",
            "owner": owner.username if owner else None,
            "due_at": review.due_at,
        },
    )
    return review


def _file_for_batch(*, incident: Incident, policy, now: datetime) -> BatchReviewItem:
    resolved_at = incident.resolved_at or now
    label, start, end = batch_period_of(resolved_at, policy.batch_period)
    owner_group = (
        Group.objects.filter(name=policy.batch_owner_group).first()
        if policy.batch_owner_group
        else None
    )
    batch, _ = BatchReview.objects.get_or_create(
        severity=incident.severity,
        period=label,
        defaults={
            "period_start": start,
            "period_end": end,
            "due_at": due_after(
                local_instant(end, datetime.min.time()), policy.due_business_days
            ),
            "owner_group": owner_group,
        },
    )
    # Locked before looking at its status: a concurrent ``batch_complete`` must
    # not close it while this incident joins.
    batch = _lock_batch(batch)
    if batch.status == BatchReview.Status.DONE:
        # A late arrival (resolved inside the period, filed after completion)
        # still needs a decision: the batch is open again.
        batch.status, batch.completed_at, batch.completed_by = (
            BatchReview.Status.OPEN,
            None,
            None,
        )
        _save(batch, None, update_fields=["status", "completed_at", "completed_by"])
    item = BatchReviewItem.objects.create(batch=batch, incident=incident, added_at=now)
    timeline_record(
        incident=incident,
        kind=REVIEW,
        actor=None,
        occurred_at=now,
        summary=f"Filed for the {policy.severity_code} batch review of {label}"
        f" (due {_local(batch.due_at)})",
        data={"batch_review": batch.pk, "period": label, "change": "batched"},
    )
    return item


@transaction.atomic
def review_refresh_timeline(*, review: Review) -> int:
    """Offer the incident's timeline entries the review does not list yet.

    Changes: a ``ReviewTimelineItem`` per new entry, included when it is a key
    kind (status, severity, roles, stakeholder updates, alerts, declaration).
    Review entries are left out. Returns how many were added. Sends nothing.
    """
    known = set(review.timeline_items.values_list("entry_id", flat=True))
    entries = (
        TimelineEntry.objects.filter(incident_id=review.incident_id)
        .exclude(kind=REVIEW)
        .exclude(pk__in=known)
        .order_by("sequence")
    )
    added = 0
    for entry in entries:
        ReviewTimelineItem.objects.create(
            review=review, entry=entry, included=entry.kind in KEY_TIMELINE_KINDS
        )
        added += 1
    return added


# --- content ------------------------------------------------------------------


@transaction.atomic
def review_update(
    *, review: Review, actor, now: datetime | None = None, **fields: Any
) -> Review:
    """Change the review's text (summary, impacts, root cause, what went well or
    poorly, luck, lessons) and/or its ``owner``.

    Changes: the review (history records ``actor``); a ``review`` timeline entry
    when the owner changes. Sends nothing.
    Raises: ``DomainError`` for an unknown field or an owner who is not an
    active person; ``NotPermitted`` if ``actor`` may not edit;
    ``InvalidTransition`` unless the review is a draft.
    """
    for name in fields:
        if name not in (*CONTENT_FIELDS, "owner"):
            raise DomainError(f"{name} cannot be changed here.", field=name)
    _require_editable(actor, review)
    now = now or timezone.now()
    locked = _lock(review)
    _require_editable(actor, locked)
    owner_changed = "owner" in fields and fields["owner"] != locked.owner
    if owner_changed and (fields["owner"] is None or not fields["owner"].is_human):
        raise DomainError("A review's owner must be an active person.", field="owner")
    for name, value in fields.items():
        setattr(locked, name, value.strip() if isinstance(value, str) else value)
    _save(locked, actor)
    if owner_changed:
        _log(
            locked,
            actor=actor,
            now=now,
            summary=f"{_label(actor)} made {_label(locked.owner)} owner of the review",
            data={"change": "owner", "owner": locked.owner.username},
        )
    return locked


@transaction.atomic
def review_set_five_whys(
    *, review: Review, actor, whys: list[tuple[str, str]]
) -> list[FiveWhy]:
    """Replace the five-whys chain with ``whys`` (ordered why/because pairs).

    Changes: the review's ``FiveWhy`` rows. Sends nothing. Raises
    ``DomainError`` for a pair missing either half; ``NotPermitted`` /
    ``InvalidTransition`` as ``review_update``.
    """
    # Locked first: a concurrent submit must not move the review on while its
    # chain is being replaced.
    locked = _lock(review)
    _require_editable(actor, locked)
    pairs = [((why or "").strip(), (because or "").strip()) for why, because in whys]
    pairs = [pair for pair in pairs if any(pair)]
    for why, because in pairs:
        if not why or not because:
            raise DomainError(
                "Each step of the five whys needs both a why and a because.",
                field="five_whys",
            )
    locked.whys.all().delete()
    return [
        FiveWhy.objects.create(review=locked, order=index, why=why, because=because)
        for index, (why, because) in enumerate(pairs, start=1)
    ]


@transaction.atomic
def review_set_factors(
    *,
    review: Review,
    actor,
    factors: list[tuple[ContributingFactorCategory, str]],
) -> list[ContributingFactor]:
    """Replace the contributing factors with ``factors`` (category, description).

    Changes: the review's ``ContributingFactor`` rows. Sends nothing. Raises
    ``DomainError`` for an inactive category; ``NotPermitted`` /
    ``InvalidTransition`` as ``review_update``.
    """
    locked = _lock(review)
    _require_editable(actor, locked)
    for category, _ in factors:
        if not category.is_active:
            raise DomainError(
                f"{category.name} is no longer a factor category.",
                field="contributing_factors",
            )
    locked.factors.all().delete()
    return [
        ContributingFactor.objects.create(
            review=locked, category=category, description=(description or "").strip()
        )
        for category, description in factors
    ]


@transaction.atomic
def review_set_timeline(
    *, review: Review, actor, items: list[dict]
) -> list[ReviewTimelineItem]:
    """Choose which timeline entries the review shows and annotate them.

    ``items``: ``{"entry": <timeline entry id>, "included": bool,
    "annotation": str}``; entries not named keep their choice. The incident's
    timeline itself is never changed. Changes: ``ReviewTimelineItem`` rows.
    Sends nothing. Raises ``DomainError`` for an entry of another incident;
    ``NotPermitted`` / ``InvalidTransition`` as ``review_update``.
    """
    locked = _lock(review)
    _require_editable(actor, locked)
    review_refresh_timeline(review=locked)
    by_entry = {item.entry_id: item for item in locked.timeline_items.all()}
    changed = []
    for data in items:
        item = by_entry.get(data.get("entry"))
        if item is None:
            raise DomainError(
                f"Timeline entry {data.get('entry')} is not on this incident.",
                field="timeline",
            )
        if "included" in data:
            item.included = bool(data["included"])
        if "annotation" in data:
            item.annotation = (data["annotation"] or "").strip()
        _save(item, actor)
        changed.append(item)
    return changed


@transaction.atomic
def follow_up_add(
    *,
    review: Review,
    actor,
    title: str,
    description: str = "",
    owner=None,
    due_at: datetime | None = None,
    ticket_url: str = "",
    now: datetime | None = None,
) -> FollowUp:
    """Add a follow-up action to the review (any status before publication).

    Changes: a ``FollowUp``; a ``review`` timeline entry. Sends nothing.
    Raises: ``DomainError`` for an empty title; ``NotPermitted`` if ``actor``
    may not edit the review; ``InvalidTransition`` once it is published.
    """
    if not permissions.can_edit(actor, review):
        raise NotPermitted("You may not edit this review.")
    if review.status == Status.PUBLISHED:
        raise InvalidTransition("A published review takes no new follow-ups.")
    title = (title or "").strip()
    if not title:
        raise DomainError("A follow-up needs a title.", field="title")
    now = now or timezone.now()
    follow_up = FollowUp(
        review=review,
        title=title,
        description=description,
        owner=owner,
        due_at=due_at,
        ticket_url=ticket_url,
        created_at=now,
    )
    _save(follow_up, actor)
    _log(
        review,
        actor=actor,
        now=now,
        summary=f"{_label(actor)} added follow-up “{title}”"
        + (f" for {_label(owner)}" if owner else ""),
        data={"change": "follow_up_added", "follow_up": follow_up.pk},
    )
    return follow_up


@transaction.atomic
def follow_up_update(
    *, follow_up: FollowUp, actor, now: datetime | None = None, **fields: Any
) -> FollowUp:
    """Change a follow-up (title, description, owner, due, status, ticket link);
    its owner or a review editor may, also after publication, so it is tracked
    to completion.

    Changes: the ``FollowUp`` (``completed_at`` when done); a ``review`` timeline
    entry when its status changes. Sends nothing.
    Raises: ``DomainError`` for an unknown field or status, an empty title;
    ``NotPermitted`` if ``actor`` may not update it.
    """
    for name in fields:
        if name not in FOLLOW_UP_FIELDS:
            raise DomainError(f"{name} cannot be changed here.", field=name)
    if not permissions.can_update_follow_up(actor, follow_up):
        raise NotPermitted("You may not update this follow-up.")
    if "status" in fields and fields["status"] not in FollowUp.Status.values:
        raise DomainError(f"Unknown status {fields['status']!r}.", field="status")
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
        if not fields["title"]:
            raise DomainError("A follow-up needs a title.", field="title")
    now = now or timezone.now()
    locked = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    previous_status = locked.status
    for name, value in fields.items():
        setattr(locked, name, value)
    if locked.status != previous_status:
        locked.completed_at = now if locked.status == FollowUp.Status.DONE else None
    _save(locked, actor)
    if locked.status != previous_status:
        _log(
            locked.review,
            actor=actor,
            now=now,
            summary=f"{_label(actor)} moved follow-up “{locked.title}” from "
            f"{previous_status} to {locked.status}",
            data={
                "change": "follow_up_status",
                "follow_up": locked.pk,
                "from": previous_status,
                "to": locked.status,
            },
        )
    return locked


# --- the workflow ---------------------------------------------------------------


def _notify(**kwargs):
    # Imported here: notifications is a sibling app the reviews app calls, and
    # keeping the import local lets migrations and the admin load without it.
    from notifications.services import notification_send

    return notification_send(**kwargs)


def _review_context(review: Review, **extra) -> dict:
    return {
        "review_url": review.get_absolute_url(),
        "review_link": settings.SITE_URL + review.get_absolute_url(),
        "review_status": review.get_status_display(),
        "review_due_at": _local(review.due_at),
        "review_owner": _label(review.owner) if review.owner else "nobody",
        **extra,
    }


@transaction.atomic
def review_submit(*, review: Review, actor, now: datetime | None = None) -> Review:
    """Send a draft for approval (a new approval round).

    Changes: status ``draft`` → ``in_review`` (straight to ``approved`` when the
    policy asks no approvals), ``round``, ``submitted_by/at``; a ``review``
    timeline entry. Sends: a ``review_submitted`` notification to the approver
    groups.
    Raises: ``NotPermitted`` if ``actor`` may not edit; ``InvalidTransition``
    unless it is a draft with a summary and a root cause.
    """
    if not permissions.can_edit(actor, review):
        raise NotPermitted("You may not submit this review.")
    now = now or timezone.now()
    locked = _lock(review)
    if locked.status != Status.DRAFT:
        raise InvalidTransition(
            f"Only a draft can be submitted; this review is "
            f"{locked.get_status_display().lower()}."
        )
    missing = [
        label
        for label, value in (
            ("a summary", locked.summary),
            ("a root cause", locked.root_cause),
        )
        if not value.strip()
    ]
    if missing:
        raise InvalidTransition(
            f"Write {' and '.join(missing)} before submitting the review."
        )
    locked.round += 1
    locked.submitted_by, locked.submitted_at = actor, now
    locked.status = Status.IN_REVIEW
    if not locked.required_approvals:
        locked.status, locked.approved_at = Status.APPROVED, now
    _save(locked, actor)
    _log(
        locked,
        actor=actor,
        now=now,
        summary=f"{_label(actor)} submitted the review for approval (round "
        f"{locked.round})",
        data={"change": "submitted", "round": locked.round},
    )
    groups = Group.objects.filter(
        name__in=[req["group"] for req in locked.required_approvals]
    )
    if groups:
        _notify(
            incident=locked.incident,
            kind="review_submitted",
            event_key=f"review-{locked.pk}-submitted-{locked.round}",
            context=_review_context(locked, submitted_by=_label(actor)),
            groups=list(groups),
            actor=actor,
        )
    return locked


@transaction.atomic
def review_approve(
    *, review: Review, actor, comment: str = "", now: datetime | None = None
) -> Review:
    """Approve the review in its current round.

    Changes: an ``Approval``; status → ``approved`` once every required group
    has its count; a ``review`` timeline entry. Sends nothing.
    Raises: ``NotPermitted`` for a service account, the owner or submitter, or
    someone in none of the required groups; ``InvalidTransition`` unless it is
    in review; ``DomainError`` for a second approval by the same person, or
    when the approver's groups have all the approvals they need.
    """
    now = now or timezone.now()
    locked = _lock(review)
    refusal = permissions.approval_refusal(actor, locked)
    if refusal:
        raise NotPermitted(refusal)
    if locked.status != Status.IN_REVIEW:
        raise InvalidTransition(
            f"Only a review in review can be approved; this one is "
            f"{locked.get_status_display().lower()}."
        )
    if locked.current_approvals().filter(user=actor).exists():
        raise DomainError("You have already approved this version of the review.")
    groups = permissions.user_group_names(actor)
    if not any(
        req["group"] in groups and len(req["approvers"]) < req["count"]
        for req in locked.approval_progress()
    ):
        raise DomainError(
            "Your groups have already given the approvals this review needs."
        )
    Approval.objects.create(
        review=locked,
        round=locked.round,
        user=actor,
        decision=Approval.Decision.APPROVED,
        comment=comment,
        created_at=now,
    )
    missing = locked.missing_approvals()
    if not missing:
        locked.status, locked.approved_at = Status.APPROVED, now
        _save(locked, actor)
    _log(
        locked,
        actor=actor,
        now=now,
        summary=f"{_label(actor)} approved the review"
        + (f": {comment}" if comment else "")
        + (
            f" (still needed: {', '.join(missing)})" if missing else " (fully approved)"
        ),
        data={"change": "approved", "round": locked.round, "comment": comment},
    )
    return locked


@transaction.atomic
def review_request_changes(
    *, review: Review, actor, comment: str, now: datetime | None = None
) -> Review:
    """An approver sends the review back to its author.

    Changes: an ``Approval`` with decision ``changes_requested``; status → draft
    (the round's approvals no longer count once it is resubmitted); a
    ``review`` timeline entry. Sends: a ``review_changes_requested``
    notification to the owner.
    Raises: ``NotPermitted`` as ``review_approve``; ``DomainError`` without a
    comment; ``InvalidTransition`` unless it is in review or approved.
    """
    now = now or timezone.now()
    locked = _lock(review)
    refusal = permissions.approval_refusal(actor, locked)
    if refusal:
        raise NotPermitted(refusal)
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("Say what should change.", field="comment")
    if locked.status not in (Status.IN_REVIEW, Status.APPROVED):
        raise InvalidTransition(
            f"Changes can be requested only on a review in review or approved; "
            f"this one is {locked.get_status_display().lower()}."
        )
    Approval.objects.create(
        review=locked,
        round=locked.round,
        user=actor,
        decision=Approval.Decision.CHANGES_REQUESTED,
        comment=comment,
        created_at=now,
    )
    locked.status, locked.approved_at = Status.DRAFT, None
    _save(locked, actor)
    _log(
        locked,
        actor=actor,
        now=now,
        summary=f"{_label(actor)} requested changes to the review: {comment}",
        data={"change": "changes_requested", "round": locked.round, "comment": comment},
    )
    if locked.owner is not None:
        _notify(
            incident=locked.incident,
            kind="review_changes_requested",
            event_key=f"review-{locked.pk}-changes-{locked.round}-{actor.pk}",
            context=_review_context(
                locked, requested_by=_label(actor), comment=comment
            ),
            users=[locked.owner],
            actor=actor,
        )
    return locked


@transaction.atomic
def review_publish(*, review: Review, actor, now: datetime | None = None) -> Review:
    """Publish an approved review.

    Changes: status → ``published``, ``published_at/by``; a ``review`` timeline
    entry. Sends nothing.
    Raises: ``NotPermitted`` if ``actor`` may not edit the review;
    ``InvalidTransition`` unless it is approved with every required approval.
    """
    if not permissions.can_edit(actor, review):
        raise NotPermitted("You may not publish this review.")
    now = now or timezone.now()
    locked = _lock(review)
    missing = locked.missing_approvals()
    if locked.status != Status.APPROVED or missing:
        reason = (
            f"it still needs approvals: {', '.join(missing)}"
            if missing and locked.status in (Status.IN_REVIEW, Status.APPROVED)
            else f"it is {locked.get_status_display().lower()}, not approved"
        )
        raise InvalidTransition(f"The review cannot be published: {reason}.")
    locked.status = Status.PUBLISHED
    locked.published_at, locked.published_by = now, actor
    _save(locked, actor)
    _log(
        locked,
        actor=actor,
        now=now,
        summary=f"{_label(actor)} published the post-incident review",
        data={"change": "published"},
    )
    return locked


# --- batch reviews ----------------------------------------------------------------

Disposition = BatchReviewItem.Disposition


def _lock_batch(batch: BatchReview) -> BatchReview:
    return (
        BatchReview.objects.select_for_update(of=("self",))
        .select_related("severity", "owner_group")
        .get(pk=batch.pk)
    )


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
        kind=REVIEW,
        actor=actor,
        occurred_at=now,
        summary=f"{_label(actor)} decided “{label}” in the {batch.label}"
        + (f": {note}" if note else "")
        + (f" ({ticket_url})" if ticket_url else ""),
        data={
            "batch_review": batch.pk,
            "change": "batch_decision",
            "disposition": disposition,
            "note": note,
            "ticket_url": ticket_url,
            "system": actor is None,
        },
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
            kind=REVIEW,
            actor=actor,
            occurred_at=now,
            summary=f"{_label(actor)} completed the {locked.label}: "
            f"{item.get_disposition_display().lower()}"
            + (f" — {item.note}" if item.note else ""),
            data={
                "batch_review": locked.pk,
                "change": "batch_completed",
                "disposition": item.disposition,
            },
        )
    return locked


# --- the overdue sweep ----------------------------------------------------------


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
            Group.objects.filter(name=(policy.batch_owner_group or "Incident managers"))
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
        batch.owner_group or Group.objects.filter(name="Incident managers").first()
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
            context=_batch_context(batch, items, **extra),
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
