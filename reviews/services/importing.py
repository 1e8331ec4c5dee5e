"""Storing the completed review of an imported past incident."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from incidents.models import Incident
from reviews.models import FollowUp, Review
from reviews.services.base import _save
from reviews.services.lessons import lessons_index

IMPORTED_FIELDS = ("summary", "root_cause", "lessons")


@transaction.atomic
def review_import(*, incident: Incident, content: dict, actor=None) -> Review:
    """Store ``content`` (``{"summary", "root_cause", "lessons", "follow_ups":
    [{"title", "status", "owner"}]}``, see ``events.incident_imported``) as the
    incident's completed review: published when the incident was resolved (else
    when it was detected), due then, so it never counts as late or overdue.

    Changes: the incident's ``Review`` (created, or its imported fields
    updated); its follow-ups, matched by title (new ones added, the status and
    owner of known ones updated, none removed); its lessons and root cause in
    the lessons index (``lessons_index``, as at publication), so "Last time"
    on a later incident of the type or service shows them to those who may
    see this one. No timeline entry of its own, no approvals asked. Sends
    nothing. Raises nothing.
    """
    done_at = incident.resolved_at or incident.detected_at
    review = Review.objects.filter(incident=incident).first()
    if review is None:
        review = Review(
            incident=incident,
            owner=incident.commander,
            severity_code=incident.severity.code if incident.severity_id else "",
            due_at=done_at,
            created_at=done_at,
        )
    review.status = Review.Status.PUBLISHED
    review.published_at = review.published_at or done_at
    for name in IMPORTED_FIELDS:
        setattr(review, name, content.get(name) or getattr(review, name))
    _save(review, actor)
    known = {f.title: f for f in review.follow_ups.all()}
    for item in content.get("follow_ups") or ():
        follow_up = known.get(item["title"]) or FollowUp(
            review=review, title=item["title"], created_at=done_at
        )
        status = item.get("status") or FollowUp.Status.OPEN
        changed = follow_up.pk is None or follow_up.status != status
        follow_up.status = status
        if item.get("owner") is not None and follow_up.owner_id != item["owner"].pk:
            follow_up.owner = item["owner"]
            changed = True
        if status == FollowUp.Status.DONE and follow_up.completed_at is None:
            follow_up.completed_at = done_at or timezone.now()
        if changed:
            _save(follow_up, actor)
    lessons_index(review=review, now=review.published_at)
    return review
