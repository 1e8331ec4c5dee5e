"""Alert state kept by ingestion."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from incidents.models.incident import Incident


class AlertState(models.Model):
    """What alert ingestion knows about an incident's alerts: one row per incident
    raised by an integration.

    Locked with ``select_for_update`` while a delivery is attached, so concurrent
    deliveries count correctly; it keeps an alert storm off the timeline (only new
    alerts, status changes and a periodic "N repeats" summary are logged).
    """

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="alert_state"
    )
    # fingerprint -> {"status": "firing"|"resolved", "name": alertname}
    alerts = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, default="firing")
    deliveries = models.PositiveIntegerField(default=0)
    repeats_unreported = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    last_summary_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.deliveries} deliveries"
