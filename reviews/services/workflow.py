"""The review workflow: submit, approve, request changes, publish."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotPermitted,
)
from reviews import permissions
from reviews.models import (
    Approval,
    Review,
)
from reviews.review_templates import missing_required
from reviews.services.base import (
    Status,
    _label,
    _lock,
    _log,
    _notify,
    _review_context,
    _save,
)
from reviews.services.drafting import (
    _named,
    accept_on_submit,
    drafts_pending_acceptance,
    section_labels,
)
from reviews.services.lessons import lessons_index


@transaction.atomic
def review_submit(*, review: Review, actor, now: datetime | None = None) -> Review:
    """Send a draft for approval (a new approval round).

    Changes: status ``draft`` → ``in_review`` (straight to ``approved`` when the
    policy asks no approvals), ``round``, ``submitted_by/at``; a ``review``
    timeline entry. Sends: a ``review_submitted`` notification to the approver
    groups.
    Drafted sections nobody accepted yet are accepted on ``actor``'s name
    (``DraftSection.accepted_by``), except the summary: an unaccepted drafted
    summary counts as missing.
    Raises: ``NotPermitted`` if ``actor`` may not edit; ``InvalidTransition``
    unless it is a draft with a summary, a root cause and every section its
    template (``reviews.review_templates``) requires (an unaccepted draft does
    not count).
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
    drafted = drafts_pending_acceptance(locked)
    missing = [
        label
        for label, value in (
            ("a summary", "" if "summary" in drafted else locked.summary),
            ("a root cause", locked.root_cause),
        )
        if not value.strip()
    ]
    # The template's required sections, besides the two every review needs.
    missing += [
        f"“{title}”"
        for title in missing_required(locked, drafted)
        if title.lower() not in ("summary", "root cause")
    ]
    if missing:
        listed = (
            " and ".join(missing)
            if len(missing) < 3
            else f"{', '.join(missing[:-1])} and {missing[-1]}"
        )
        raise InvalidTransition(
            f"Write {listed} before submitting the review"
            + (
                " (the drafted summary is not accepted yet)."
                if "summary" in drafted
                else "."
            )
        )
    accepted = accept_on_submit(locked, actor, now)
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
        f"{locked.round})"
        + (
            f", accepting the drafted {_named(section_labels(locked), accepted)}"
            if accepted
            else ""
        ),
        data={"change": "submitted", "round": locked.round, "accepted": accepted},
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


def _approval_race_lost(locked: Review, actor) -> None:
    """First one wins: the review was fully approved (and maybe published) in
    this round by others while this approval was on its way."""
    if locked.status not in (Status.APPROVED, Status.PUBLISHED):
        return
    approvals = list(locked.current_approvals().select_related("user"))
    if not approvals or any(a.user_id == actor.pk for a in approvals):
        return
    raise Conflict(
        "This review is already "
        + locked.get_status_display().lower()
        + " (approved by "
        + ", ".join(_label(a.user) for a in approvals)
        + ").",
        holder=approvals[-1].user.username,
    )


@transaction.atomic
def review_approve(
    *, review: Review, actor, comment: str = "", now: datetime | None = None
) -> Review:
    """Approve the review in its current round.

    Changes: an ``Approval``; status → ``approved`` once every required group
    has its count; a ``review`` timeline entry. Sends nothing.
    First one wins: when colleagues' approvals already complete the review, or
    the approver's groups, ``Conflict`` (409 on the API) names who approved.
    Raises: ``Conflict`` as above; ``NotPermitted`` for a service account, the
    owner or submitter, or someone in none of the required groups; ``InvalidTransition`` unless it is
    in review; ``DomainError`` for a second approval by the same person, or
    when the approver's groups have all the approvals they need.
    """
    now = now or timezone.now()
    locked = _lock(review)
    refusal = permissions.approval_refusal(actor, locked)
    if refusal:
        raise NotPermitted(refusal)
    _approval_race_lost(locked, actor)
    if locked.status != Status.IN_REVIEW:
        raise InvalidTransition(
            f"Only a review in review can be approved; this one is "
            f"{locked.get_status_display().lower()}."
        )
    if locked.current_approvals().filter(user=actor).exists():
        raise DomainError("You have already approved this version of the review.")
    groups = permissions.user_group_names(actor)
    progress = locked.approval_progress()
    if not any(
        req["group"] in groups and len(req["approvers"]) < req["count"]
        for req in progress
    ):
        # First one wins: a colleague gave the approval this person came for.
        approvers = [
            user
            for req in progress
            if req["group"] in groups
            for user in req["approvers"]
        ]
        raise Conflict(
            "Your groups have already given the approvals this review needs ("
            + ", ".join(_label(user) for user in approvers)
            + ").",
            holder=approvers[-1].username if approvers else None,
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
    entry; its lessons indexed for the next responder (``lessons_index``).
    Sends nothing.
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
    lessons_index(review=locked, now=now)
    return locked
