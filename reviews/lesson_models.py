"""The lessons index: each lesson of a published review and its resolved
cause, with what it is about
(the incident's type and affected services) so the next responder to a
similar incident finds it, and the playbook step it was adopted into.

Imported at the end of ``reviews.models``; written only by
``reviews.services`` (``lessons_index`` on publication, ``lesson_adopt``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents.models import Incident, IncidentType, PlaybookStep
from reviews.models import Review


class LessonQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Lessons of the incidents ``user`` may see: exactly as restricted."""
        return self.filter(incident__in=Incident.objects.visible_to(user))


class Lesson(models.Model):
    """One lesson of a published review, or its resolved cause, indexed for the
    next responder."""

    class Kind(models.TextChoices):
        LESSON = "lesson", "Lesson"
        CAUSE = "cause", "Resolved cause"

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="lesson_items"
    )
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="+")
    incident_type = models.ForeignKey(
        IncidentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    services = models.JSONField(default=list, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LESSON)
    order = models.PositiveSmallIntegerField(default=0)
    text = models.TextField()
    published_at = models.DateTimeField(default=timezone.now, db_index=True)
    playbook_step = models.ForeignKey(
        PlaybookStep,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="adopted_lessons",
        help_text="The playbook step this lesson was adopted into.",
    )
    adopted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    adopted_at = models.DateTimeField(null=True, blank=True)

    objects = LessonQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["review", "order", "pk"]
        indexes = [
            models.Index(
                fields=["incident_type", "-published_at"], name="lesson_type_recent_idx"
            )
        ]

    def __str__(self) -> str:
        return self.text[:80]
