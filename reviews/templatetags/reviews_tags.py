"""Template tags the portal's incident pages use to show reviews (``incidents``
may not import ``reviews``; templates may load this library)."""

from django import template
from django.utils import timezone

from reviews import permissions
from reviews.models import BatchReviewItem, FollowUp, Review

register = template.Library()


@register.inclusion_tag("reviews/_incident_review_panel.html")
def incident_review_panel(incident, user) -> dict:
    """The incident's review (status, due, owner, follow-ups) or its batch."""
    review = Review.objects.filter(incident=incident).select_related("owner").first()
    batch_item = (
        BatchReviewItem.objects.filter(incident=incident)
        .select_related("batch")
        .first()
    )
    visible = review is not None and permissions.can_view(user, review)
    return {
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


@register.inclusion_tag("reviews/_my_reviews_panel.html")
def my_reviews_panel(user) -> dict:
    """Reviews the user owns (unpublished) and follow-ups assigned to them."""
    visible = Review.objects.visible_to(user).select_related("incident")
    return {
        "owned": visible.unpublished().filter(owner=user)[:20],
        "follow_ups": FollowUp.objects.open()
        .filter(owner=user, review__in=visible)
        .select_related("review__incident")[:20],
        "now": timezone.now(),
    }
