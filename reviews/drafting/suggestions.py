"""Suggestions a draft offers beside its text: contributing factors and
five-whys starters from reviews of similar earlier incidents, and follow-up
candidates. Shown as suggestions with their links, never written into the
review by themselves; the portal shows each reader only the items of incidents
they may see (``visible_items``)."""

from __future__ import annotations

from incidents.models import Incident
from reviews.drafting.record import Record
from reviews.models import FollowUp, Review

# How many earlier reviews a draft draws on, and how far back it looks.
SIMILAR_REVIEWS = 5
CANDIDATES = 200
# How many suggestions of each kind a draft offers.
MAX_FACTORS = 6
MAX_WHYS = 6
MAX_ACTIONS = 8
MAX_EARLIER_FOLLOW_UPS = 5
DONE_STATUSES = (Review.Status.APPROVED, Review.Status.PUBLISHED)


def similar_reviews(incident: Incident) -> list[Review]:
    """Approved or published reviews of earlier incidents of the same type or
    sharing an affected service: those sharing both first, then the newest."""
    services = set(incident.affected_services or [])
    if incident.incident_type_id is None and not services:
        return []
    candidates = (
        Review.objects.filter(
            status__in=DONE_STATUSES,
            incident__created_at__lt=incident.created_at,
        )
        .exclude(incident=incident)
        .select_related("incident")
        .prefetch_related("whys", "factors__category")
        .order_by("-incident__created_at", "-pk")[:CANDIDATES]
    )
    scored = []
    for review in candidates:
        other = review.incident
        same_type = (
            incident.incident_type_id is not None
            and other.incident_type_id == incident.incident_type_id
        )
        shared = services & set(other.affected_services or [])
        if same_type or shared:
            scored.append((-(int(same_type) + int(bool(shared))), review))
    scored.sort(key=lambda pair: pair[0])  # stable: newest first within a score
    return [review for _, review in scored[:SIMILAR_REVIEWS]]


def _origin(review: Review) -> dict:
    return {
        "review": review.pk,
        "incident": review.incident_id,
        "reference": review.incident.reference,
    }


def factors(similar: list[Review]) -> list[dict]:
    """Each distinct factor of the similar reviews: ``{"category" (slug),
    "category_name", "description", "review", "incident", "reference"}``."""
    seen, items = set(), []
    for review in similar:
        for factor in review.factors.all():
            key = (factor.category.slug, factor.description.strip().lower())
            if key in seen:
                continue
            seen.add(key)
            items.append(
                {
                    "category": factor.category.slug,
                    "category_name": factor.category.name,
                    "description": factor.description,
                    **_origin(review),
                }
            )
    return items[:MAX_FACTORS]


def five_whys(record: Record, similar: list[Review]) -> list[dict]:
    """A first why about this incident, then the first steps of the similar
    reviews' chains: ``{"why", "because", ["review", "incident", "reference"]}``."""
    incident = record.incident
    items = [{"why": f"Why did “{incident.title}” happen?", "because": ""}]
    seen = set()
    for review in similar:
        for step in list(review.whys.all())[:2]:
            key = step.why.strip().lower()
            # The same question in several reviews is offered once.
            if key in seen or review.incident.reference in step.why:
                continue
            seen.add(key)
            items.append({"why": step.why, "because": step.because, **_origin(review)})
    return items[:MAX_WHYS]


def follow_ups(record: Record) -> list[dict]:
    """The incident's actions still open, then the open follow-ups of earlier
    incidents of the same type: ``{"title", "kind" ("action"|"follow_up"),
    "id", "status", "owner", ["review", "incident", "reference"]}``."""
    items = [
        {
            "title": action.title,
            "kind": "action",
            "id": action.pk,
            "status": action.get_status_display(),
            "owner": action.owner.display_name if action.owner else "",
            "incident": action.incident_id,
        }
        for action in record.actions
        if not action.is_finished
    ][:MAX_ACTIONS]
    incident = record.incident
    if incident.incident_type_id is None:
        return items
    earlier = (
        FollowUp.objects.open()
        .filter(
            review__incident__incident_type_id=incident.incident_type_id,
            review__incident__created_at__lt=incident.created_at,
        )
        .select_related("review__incident", "owner")
        .order_by("-review__incident__created_at", "pk")[:MAX_EARLIER_FOLLOW_UPS]
    )
    for follow_up in earlier:
        items.append(
            {
                "title": follow_up.title,
                "kind": "follow_up",
                "id": follow_up.pk,
                "status": follow_up.get_status_display(),
                "owner": follow_up.owner.display_name if follow_up.owner else "",
                **_origin(follow_up.review),
            }
        )
    return items


def visible_items(items: list[dict], user, own_incident: int) -> list[dict]:
    """``items`` whose incident ``user`` may see (this incident's own always)."""
    others = {item["incident"] for item in items if item.get("incident")} - {
        own_incident
    }
    visible = set(
        Incident.objects.visible_to(user)
        .filter(pk__in=others)
        .values_list("pk", flat=True)
    )
    return [
        item
        for item in items
        if not item.get("incident")
        or item["incident"] == own_incident
        or item["incident"] in visible
    ]
