"""Storing the completed review of an imported past incident."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from incidents.models import COMMANDER, Incident, RoleAssignment
from reviews.models import FollowUp, Lesson, Review
from reviews.services.base import _save
from reviews.services.lessons import lesson_entries, lessons_index

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


@transaction.atomic
def review_import_new(*, imported: list[tuple[Incident, dict]], actor=None) -> None:
    """``review_import`` for many incidents created by one import batch
    (``events.incidents_imported``), none of which has a review yet: every
    review, follow-up and indexed lesson written in a few statements per
    table, with their history rows naming ``actor``. Sends nothing. Raises
    nothing."""
    now = timezone.now()
    commanders = dict(
        RoleAssignment.objects.filter(
            incident__in=[incident for incident, _ in imported],
            role__slug=COMMANDER,
            ended_at__isnull=True,
        ).values_list("incident_id", "user_id")
    )
    reviews, follow_ups, lessons = [], [], []
    for incident, content in imported:
        done_at = incident.resolved_at or incident.detected_at
        review = Review(
            incident=incident,
            owner_id=commanders.get(incident.pk),
            severity_code=incident.severity.code if incident.severity_id else "",
            due_at=done_at,
            created_at=done_at,
            status=Review.Status.PUBLISHED,
            published_at=done_at,
            **{name: content.get(name) or "" for name in IMPORTED_FIELDS},
        )
        reviews.append(review)
        for item in content.get("follow_ups") or ():
            status = item.get("status") or FollowUp.Status.OPEN
            follow_ups.append(
                FollowUp(
                    review=review,
                    title=item["title"],
                    status=status,
                    owner=item.get("owner"),
                    created_at=done_at,
                    completed_at=done_at if status == FollowUp.Status.DONE else None,
                )
            )
        for order, (kind, text) in enumerate(lesson_entries(review), start=1):
            lessons.append(
                Lesson(
                    review=review,
                    incident=incident,
                    incident_type_id=incident.incident_type_id,
                    services=sorted(incident.affected_services or []),
                    kind=kind,
                    text=text,
                    order=order,
                    published_at=done_at,
                )
            )
    for model, rows in ((Review, reviews), (FollowUp, follow_ups), (Lesson, lessons)):
        model.objects.bulk_create(rows, batch_size=1000)
        model.history.bulk_history_create(rows, default_user=actor, default_date=now)
