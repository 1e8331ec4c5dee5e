"""Opening a review when an incident resolves, and writing its content."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError, InvalidTransition, NotPermitted
from incidentops.text import neutralise_bidi
from incidents import timeline_entries as entries
from incidents.models import Incident, TimelineEntry
from incidents.services import timeline_record
from reviews import permissions
from reviews.models import (
    CONTENT_FIELDS,
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
    local_instant,
)
from reviews.review_templates import questions
from reviews.services.base import (
    FOLLOW_UP_FIELDS,
    KEY_TIMELINE_KINDS,
    REVIEW,
    Status,
    _default_owner,
    _label,
    _local,
    _lock,
    _lock_batch,
    _log,
    _require_editable,
    _save,
)
from reviews.services.drafting import review_draft


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
        if existing.is_editable:
            # The record grew (reopened and resolved again): untouched drafted
            # sections follow it; a person's text stays, a newer draft waits.
            review_draft(review=existing, now=now)
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
    review_draft(review=review, now=now)
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
        actor=None,
        occurred_at=now,
        entry=entries.review(
            summary=f"Filed for the {policy.severity_code} batch review of {label}"
            f" (due {_local(batch.due_at)})",
            change="batched",
            batch_review=batch.pk,
            period=label,
        ),
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
    title = neutralise_bidi(title or "").strip()
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
        fields["title"] = neutralise_bidi(fields["title"] or "").strip()
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


@transaction.atomic
def review_set_answers(*, review: Review, actor, answers: dict[str, str]) -> Review:
    """Answer the questions of the review's template that are not one of its
    own fields (e.g. a breach review's "Which authority was told, and when?").

    ``answers``: ``{section key: text}``; the keys named replace their answers
    (an empty text clears one), the others stay. Changes: ``Review.answers``
    (history records ``actor``). Sends nothing. Raises ``DomainError`` for a
    key that is not a question of the review's template; ``NotPermitted`` /
    ``InvalidTransition`` as ``review_update``.
    """
    locked = _lock(review)
    _require_editable(actor, locked)
    known = {section.key for section in questions(locked)}
    for key in answers:
        if key not in known:
            raise DomainError(
                f"{key} is not a question of this review's template.", field=key
            )
    merged = dict(locked.answers)
    for key, text in answers.items():
        text = (text or "").strip()
        if text:
            merged[key] = text
        else:
            merged.pop(key, None)
    locked.answers = merged
    _save(locked, actor, update_fields=["answers"])
    return locked
