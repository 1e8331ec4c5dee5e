"""The sections reviews contributes to the incidents portal, registered in
``ReviewsConfig.ready()`` through ``incidents.providers`` (``incidents`` does not
import ``reviews``)."""

from __future__ import annotations

from django.utils import timezone

from incidents import providers
from reviews import lessons, permissions
from reviews.models import Approval, BatchReviewItem, FollowUp, Review


def incident_review(incident, user) -> dict:
    """The incident's review (status, due, owner, follow-ups) or its batch; the
    review's details only to those who may see the review."""
    review = Review.objects.filter(incident=incident).select_related("owner").first()
    batch_item = (
        BatchReviewItem.objects.filter(incident=incident)
        .select_related("batch", "batch__severity")
        .first()
    )
    visible = review is not None and permissions.can_view(user, review)
    return {
        "incident": incident,
        "review": review if visible else None,
        "follow_ups": (
            review.follow_ups.select_related("owner")
            if visible
            else FollowUp.objects.none()
        ),
        "batch": batch_item.batch if batch_item else None,
        "batch_item": batch_item,
        "overdue": visible and review.is_overdue_at(timezone.now()),
    }


def reviews_to_approve(user, visible) -> list[Review]:
    """Reviews in review that ``user`` may approve and has not yet approved (or
    answered) in their current round, at most 20, soonest due first."""
    names = permissions.user_group_names(user)
    candidates = [
        review
        for review in permissions.approval_candidates(user, visible)
        if permissions.approval_refusal(user, review, group_names=names) is None
    ]
    answered = set(
        Approval.objects.filter(
            review__in=[review.pk for review in candidates], user=user
        ).values_list("review_id", "round")
    )
    waiting = [r for r in candidates if (r.pk, r.round) not in answered]
    return sorted(waiting, key=lambda review: (review.due_at, review.pk))[:20]


def my_reviews(user) -> dict:
    """Reviews the user owns (unpublished), reviews waiting for their approval,
    and follow-ups assigned to them."""
    visible = Review.objects.visible_to(user).select_related("incident")
    return {
        "owned": visible.unpublished().filter(owner=user)[:20],
        "to_approve": reviews_to_approve(user, visible),
        "follow_ups": FollowUp.objects.open()
        .filter(owner=user, review__in=visible)
        .select_related("review__incident")[:20],
        "now": timezone.now(),
    }


def incident_review_context(*, request, incident) -> dict:
    """``providers.Slot.INCIDENT`` context: ``incident_review`` for the viewer."""
    return incident_review(incident, request.user)


def my_reviews_context(*, request) -> dict:
    """``providers.Slot.MY_WORK`` context: ``my_reviews`` for the viewer."""
    return my_reviews(request.user)


def last_time_context(*, request, incident) -> dict | None:
    """``providers.Slot.INCIDENT`` context of "Last time": the lessons of the
    earlier incidents most like this one that the viewer may see, and what
    fixed them; ``None`` (no panel) when there are none."""
    earlier = lessons.last_time(incident, request.user)
    if not earlier:
        return None
    return {"incident": incident, "earlier": earlier}


def register() -> None:
    """Register the incident page's review and "Last time" panels and /my/'s
    reviews panel."""
    providers.register_panel(
        providers.Slot.INCIDENT,
        providers.Panel(
            key="last-time",
            title="Last time",
            template="reviews/_last_time_panel.html",
            context=last_time_context,
            order=50,
        ),
    )
    providers.register_panel(
        providers.Slot.INCIDENT,
        providers.Panel(
            key="review",
            title="Post-incident review",
            template="reviews/_incident_review_panel.html",
            context=incident_review_context,
        ),
    )
    providers.register_panel(
        providers.Slot.MY_WORK,
        providers.Panel(
            key="my-reviews",
            title="Reviews",
            template="reviews/_my_reviews_panel.html",
            context=my_reviews_context,
        ),
    )
