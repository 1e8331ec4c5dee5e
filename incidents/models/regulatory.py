"""Regulatory notifications: which authority was told about an incident, when,
by whom, how, under which reference, and whether that was within the legal
deadline.

A record of a notification made outside IncidentOps (a supervisory authority's
online form, an e-mail to a regulator, a call), written by the people who run
the incident through ``incidents.services.regulatory_notification_record``; the
incident may carry several (one per authority). Times are stored in UTC and
shown in the organisation's zone (``incidentops.timezones``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents.models.incident import Incident


class RegulatoryNotification(models.Model):
    """``authority`` was notified of ``incident`` at ``notified_at`` by
    ``notified_by``; ``deadline_at`` is the legal deadline (None: none applies)."""

    class Method(models.TextChoices):
        ONLINE_FORM = "online_form", "The authority's online form or portal"
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Telephone"
        LETTER = "letter", "Letter"
        IN_PERSON = "in_person", "In person"
        OTHER = "other", "Other"

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="regulatory_notifications"
    )
    authority = models.CharField(
        max_length=200,
        help_text="The regulator or authority told (e.g. the Information "
        "Commissioner's Office).",
    )
    deadline_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The legal deadline (UTC); blank when no deadline applies.",
    )
    notified_at = models.DateTimeField(help_text="When the authority was told (UTC).")
    notified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="regulatory_notifications",
        help_text="The person who told the authority.",
    )
    method = models.CharField(max_length=20, choices=Method.choices)
    reference = models.CharField(
        max_length=200,
        blank=True,
        help_text="The authority's reference or case number, if it gave one.",
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["notified_at", "pk"]

    def __str__(self) -> str:
        return f"{self.authority} told of incident {self.incident_id}"

    @property
    def in_time(self) -> bool | None:
        """Whether the authority was told by the deadline; None without one."""
        if self.deadline_at is None:
            return None
        return self.notified_at <= self.deadline_at

    @property
    def margin(self) -> timedelta | None:
        """How long before the deadline it went out (negative: how late)."""
        if self.deadline_at is None:
            return None
        return self.deadline_at - self.notified_at
