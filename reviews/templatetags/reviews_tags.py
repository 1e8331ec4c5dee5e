"""Template tags that show a review panel on any page (the same sections the
incident page and My work get through ``incidents.providers``, ``reviews.panels``)."""

from django import template

from reviews import panels

register = template.Library()


@register.inclusion_tag("reviews/_incident_review_panel.html")
def incident_review_panel(incident, user) -> dict:
    """The incident's review (status, due, owner, follow-ups) or its batch."""
    return panels.incident_review(incident, user)


@register.inclusion_tag("reviews/_my_reviews_panel.html")
def my_reviews_panel(user) -> dict:
    """Reviews the user owns (unpublished) and follow-ups assigned to them."""
    return panels.my_reviews(user)
