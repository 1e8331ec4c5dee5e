"""Alerts: every alert an integration delivered, as a record on its incident,
and the per-incident ingestion state (the whole group key, counters and the
repeat-summary watermark)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from incidents.models.incident import Incident
from incidents.models.integrations import Integration
from incidents.models.taxonomy import SeverityLevel


class AlertQuerySet(models.QuerySet):
    def for_table(self):
        """Firing first, then the worst severity, then the earliest start."""
        return self.select_related("severity").order_by(
            "status",
            models.F("severity__rank").asc(nulls_last=True),
            models.F("starts_at").asc(nulls_last=True),
            "pk",
        )


# What an alert record shows people (admin and API), in this order.
ALERT_RECORD_FIELDS = (
    "fingerprint",
    "name",
    "status",
    "severity_label",
    "severity",
    "labels",
    "annotations",
    "links",
    "details",
    "starts_at",
    "ends_at",
    "generator_url",
    "first_seen_at",
    "last_seen_at",
    "deliveries",
    "acknowledged_at",
)


class Alert(models.Model):
    """One alert of an incident raised by an integration, as its sender last
    described it. Written only by ``incidents.ingestion.alert_ingest``: one row
    per (incident, fingerprint); repeats update it and count ``deliveries``."""

    class Status(models.TextChoices):
        FIRING = "firing", "Firing"
        RESOLVED = "resolved", "Resolved"

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="alerts"
    )
    integration = models.ForeignKey(
        Integration, on_delete=models.PROTECT, related_name="+"
    )
    fingerprint = models.CharField(max_length=128)
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    # The sender's own word (``severity`` label, Events v2 ``payload.severity``)
    # and the level the integration's label map suggests for it.
    severity_label = models.CharField(max_length=60, blank=True)
    severity = models.ForeignKey(
        SeverityLevel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    labels = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    # [{"href", "text"}]: runbook, dashboard, panel, Events v2 links and images.
    links = models.JSONField(default=list, blank=True)
    # What the format carries beyond these: Grafana values, Events v2 details.
    details = models.JSONField(default=dict, blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    generator_url = models.TextField(blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    deliveries = models.PositiveIntegerField(default=1)
    # Set by an Events API v2 ``acknowledge``: the sender's user saw it. Never a
    # person taking command of the incident (that is Incident.acknowledged_at).
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "status", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "fingerprint"], name="alert_one_per_fingerprint"
            )
        ]
        indexes = [
            models.Index(
                fields=["incident", "status"], name="alert_incident_status_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name or self.fingerprint} ({self.status})"

    @property
    def text(self) -> str:
        for name in ("summary", "description", "message"):
            value = str(self.annotations.get(name) or "").strip()
            if value:
                return value
        return ""

    @property
    def web_links(self) -> list[dict[str, str]]:
        """The links a browser may follow: http(s) only (a sender's
        ``javascript:`` link is never made clickable), the source last."""
        links = [
            link
            for link in self.links
            if str(link.get("href", "")).startswith(("https://", "http://"))
        ]
        if self.generator_url.startswith(("https://", "http://")):
            links.append({"href": self.generator_url, "text": "Source"})
        return links

    # Labels that usually tell alerts of one name apart, in the order tried.
    WHERE_LABELS = ("instance", "host", "hostname", "pod", "node", "device", "service")

    @classmethod
    def short_name(cls, name: str, fingerprint: str, labels: dict) -> str:
        """What to call an alert in one line: its name and, when it has one,
        the label that usually says where (``HighErrorRate (instance=web-2)``)."""
        shown = name or fingerprint
        where = next((k for k in cls.WHERE_LABELS if labels.get(k)), None)
        return f"{shown} ({where}={labels[where]})" if where else shown

    @property
    def display_name(self) -> str:
        return self.short_name(self.name, self.fingerprint, self.labels or {})

    @property
    def label_pairs(self) -> list[tuple[str, str]]:
        """The labels as (name, value) pairs, for templates (where a label
        called ``items`` would shadow the dict's method): ``alertname`` first,
        then by name, whatever order the sender wrote them in."""
        return sorted(self.labels.items(), key=lambda kv: (kv[0] != "alertname", kv))

    @property
    def other_annotations(self) -> list[tuple[str, str]]:
        """Annotations besides the text shown and the links, as pairs."""
        shown = {
            "summary",
            "description",
            "message",
            "runbook_url",
            "runbook",
            "dashboard",
            "dashboard_url",
        }
        return [(k, v) for k, v in self.annotations.items() if k not in shown]


class AlertState(models.Model):
    """What alert ingestion knows about one incident raised by an integration:
    the whole group key, delivery counters and the repeat-summary watermark.

    Updated under the incident's row lock (``alert_ingest``); it keeps an alert
    storm off the timeline (only new alerts, status changes and a periodic "N
    repeats" summary are logged). ``followed_up_at`` is when the after-commit
    follow-up (triage, declared notifications) ran: empty means still due.
    """

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="alert_state"
    )
    # The sender's whole group key / dedup key; Incident.dedup_key is its SHA-256.
    group_key = models.TextField(blank=True)
    status = models.CharField(max_length=10, default="firing")
    deliveries = models.PositiveIntegerField(default=0)
    repeats_unreported = models.PositiveIntegerField(default=0)
    # Alerts the latest delivery said it left out (Alertmanager max_alerts).
    truncated_alerts = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    last_summary_at = models.DateTimeField(null=True, blank=True)
    followed_up_at = models.DateTimeField(null=True, blank=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.deliveries} deliveries"
