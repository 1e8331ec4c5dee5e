"""Every access question about reviews, answered in one place.

A review is exactly as visible as its incident (``incidents.permissions``). Editing
is for the review's owner, the incident's commander and holders of
``reviews.change_review`` (Reviewers and Incident managers, from the data
migration). Approving is for people (never service accounts) in a group the
review's policy requires, who neither own nor submitted it.
"""

from __future__ import annotations

from django.http import Http404

from incidents import permissions as incident_permissions
from reviews.models import BatchReview, FollowUp, Review

CHANGE = "reviews.change_review"
CHANGE_BATCH = "reviews.change_batchreview"


def can_view(user, review: Review) -> bool:
    return incident_permissions.can_view(user, review.incident)


def get_visible_review_or_404(user, **lookup) -> Review:
    """The review matching ``lookup`` if ``user`` may see its incident; Http404
    otherwise, exactly as if it did not exist."""
    try:
        return (
            Review.objects.visible_to(user)
            .select_related("incident", "owner")
            .get(**lookup)
        )
    except Review.DoesNotExist:
        raise Http404("No review matches the given query.") from None


def can_edit(user, review: Review) -> bool:
    if not can_view(user, review):
        return False
    return (
        review.owner_id == user.pk
        or user.has_perm(CHANGE)
        or incident_permissions.is_commander(user, review.incident)
    )


def can_adopt_lesson(user, lesson) -> bool:
    """Reviewers (and others who may edit reviews) who may see its incident."""
    return (
        user is not None
        and user.is_authenticated
        and user.has_perm(CHANGE)
        and incident_permissions.can_view(user, lesson.incident)
    )


def can_update_follow_up(user, follow_up: FollowUp) -> bool:
    """Its owner may move it along, as may anyone who may edit the review."""
    review = follow_up.review
    if not can_view(user, review):
        return False
    return follow_up.owner_id == user.pk or can_edit(user, review)


def user_group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


def is_required_approver(user, review: Review, group_names=None) -> bool:
    """In one of the groups the review's policy asks approvals from
    (``group_names``: the user's, when the caller has read them already)."""
    required = {req["group"] for req in review.required_approvals}
    names = user_group_names(user) if group_names is None else group_names
    return bool(required & names)


def approval_candidates(user, reviews):
    """Of ``reviews`` (a queryset), those in review that ``user`` might approve,
    narrowed in SQL: a person, neither owner nor submitter, in one of the
    groups the review requires (JSON containment where the database has it,
    otherwise on the rows' JSON without further queries). Returns a list; each
    still needs ``approval_refusal``, the rule itself."""
    from django.db import connection
    from django.db.models import Q

    names = user_group_names(user)
    if not (user.is_human and names):
        return []
    reviews = (
        reviews.filter(status=Review.Status.IN_REVIEW)
        .exclude(owner=user)
        .exclude(submitted_by=user)
    )
    if connection.features.supports_json_field_contains:
        wanted = Q()
        for name in sorted(names):
            wanted |= Q(required_approvals__contains=[{"group": name}])
        return list(reviews.filter(wanted))
    return [
        review
        for review in reviews
        if any(req["group"] in names for req in review.required_approvals)
    ]


def approval_refusal(user, review: Review, *, group_names=None) -> str | None:
    """Why ``user`` may not approve (or request changes on) ``review``; None if
    they may. Does not look at the review's status. ``group_names``: the user's
    group names when the caller checks many reviews (read once)."""
    if not can_view(user, review):
        return "You may not see this review."
    if not user.is_human:
        return "Only a person may approve a review, not a service account."
    if review.owner_id == user.pk or review.submitted_by_id == user.pk:
        return "You cannot approve a review you own or submitted."
    if not is_required_approver(user, review, group_names):
        groups = ", ".join(req["group"] for req in review.required_approvals)
        return f"Approval must come from a member of: {groups or 'no group'}."
    return None


# --- batch reviews ----------------------------------------------------------------


def in_batch_owner_group(user, batch: BatchReview) -> bool:
    """A member of the batch's owner group (without one: a holder of
    ``reviews.change_batchreview``)."""
    if batch.owner_group_id is None:
        return user.has_perm(CHANGE_BATCH)
    return batch.owner_group_id in set(user.groups.values_list("pk", flat=True))


def can_view_batch(user, batch: BatchReview) -> bool:
    """The owner group, and anyone who may see one of its incidents
    (``BatchReview.objects.visible_to``, the one rule)."""
    return BatchReview.objects.visible_to(user).filter(pk=batch.pk).exists()


def get_visible_batch_or_404(user, **lookup) -> BatchReview:
    """The batch matching ``lookup`` if ``user`` may see it; Http404 otherwise."""
    batch = (
        BatchReview.objects.select_related("severity", "owner_group")
        .filter(**lookup)
        .first()
    )
    if batch is None or not can_view_batch(user, batch):
        raise Http404("No batch review matches the given query.")
    return batch


def batch_refusal(user, batch: BatchReview) -> str | None:
    """Why ``user`` may not work through (decide, complete) ``batch``; None if
    they may. Does not look at the batch's status."""
    if not user.is_human:
        return "Only a person may work through a batch review, not a service account."
    if not in_batch_owner_group(user, batch):
        group = batch.owner_group.name if batch.owner_group_id else "its owners"
        return f"The batch review is run by {group}."
    return None
