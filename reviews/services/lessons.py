"""The lessons index: filled when a review is published, and lessons marked
as adopted into a playbook step."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError, NotPermitted
from incidents.models import PlaybookStep
from reviews import permissions
from reviews.lessons import split_lessons
from reviews.models import Lesson, Review
from reviews.services.base import _label, _log, _save


def lesson_entries(review: Review) -> list[tuple[str, str]]:
    """What a published review puts in the index, in order: ``(kind, text)``
    for each lesson (one per line of ``lessons``), then its root cause."""
    entries = [(Lesson.Kind.LESSON, text) for text in split_lessons(review.lessons)]
    if review.root_cause.strip():
        entries.append((Lesson.Kind.CAUSE, review.root_cause.strip()))
    return entries


def lessons_index(*, review: Review, now: datetime | None = None) -> list[Lesson]:
    """Index the published ``review``'s lessons (one per line of ``lessons``)
    and its resolved cause (``root_cause``) under its incident's type and
    affected services.

    Called by ``review_publish``, inside its transaction. Changes: the review's
    ``Lesson`` rows, replaced; a lesson whose text is unchanged keeps its
    adoption mark. Sends nothing. Raises nothing.
    """
    now = now or review.published_at or timezone.now()
    incident = review.incident
    kept = {(lesson.kind, lesson.text): lesson for lesson in review.lesson_items.all()}
    entries = lesson_entries(review)
    indexed = []
    for order, (kind, text) in enumerate(entries, start=1):
        lesson = kept.pop((kind, text), None) or Lesson(
            review=review, kind=kind, text=text
        )
        lesson.incident = incident
        lesson.incident_type_id = incident.incident_type_id
        lesson.services = sorted(incident.affected_services or [])
        lesson.order = order
        lesson.published_at = now
        _save(lesson, None)
        indexed.append(lesson)
    for stale in kept.values():
        stale.delete()
    return indexed


def lessons_refile(*, incident) -> int:
    """File ``incident``'s indexed lessons again under its current type and
    affected services (after a change of either, by a person or a re-import),
    so "Last time" finds them where the incident now belongs.

    Changes: the ``type`` and ``services`` of its ``Lesson`` rows that differ.
    Returns how many changed. Sends nothing. Raises nothing.
    """
    services = sorted(incident.affected_services or [])
    changed = 0
    for lesson in Lesson.objects.filter(incident=incident):
        if (
            lesson.incident_type_id == incident.incident_type_id
            and lesson.services == services
        ):
            continue
        lesson.incident_type_id = incident.incident_type_id
        lesson.services = services
        _save(lesson, None)
        changed += 1
    return changed


@transaction.atomic
def lesson_adopt(
    *,
    lesson: Lesson,
    actor,
    step: PlaybookStep | None,
    now: datetime | None = None,
) -> Lesson:
    """Mark ``lesson`` as adopted into the playbook ``step`` (None: not
    adopted), so the step's readers and the next "Last time" show the link.

    Changes: the ``Lesson`` (``playbook_step``, ``adopted_by``, ``adopted_at``);
    a ``review`` timeline entry on the lesson's incident. Sends nothing.
    Raises: ``NotPermitted`` unless ``actor`` may see the incident and edit
    reviews (Reviewers, Incident managers); ``DomainError`` for a step of a
    playbook of another incident type.
    """
    if not permissions.can_adopt_lesson(actor, lesson):
        raise NotPermitted("Only reviewers may mark a lesson as adopted.")
    if (
        step is not None
        and lesson.incident_type_id is not None
        and step.playbook.incident_type_id != lesson.incident_type_id
    ):
        raise DomainError(
            "Choose a step of a playbook for this incident's type.", field="step"
        )
    now = now or timezone.now()
    locked = Lesson.objects.select_for_update().get(pk=lesson.pk)
    locked.playbook_step = step
    locked.adopted_by, locked.adopted_at = (actor, now) if step else (None, None)
    _save(locked, actor)
    review = Review.objects.select_related("incident").get(pk=locked.review_id)
    _log(
        review,
        actor=actor,
        now=now,
        summary=(
            f"{_label(actor)} adopted the lesson “{locked.text[:80]}” into "
            f"{step.playbook.name}, step {step.order}: {step.title}"
            if step
            else f"{_label(actor)} unmarked the lesson “{locked.text[:80]}” as adopted"
        ),
        data={
            "change": "lesson_adopted",
            "lesson": locked.pk,
            "step": step.pk if step else None,
        },
    )
    return locked
