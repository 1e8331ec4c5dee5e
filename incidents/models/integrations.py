"""Alert integrations and their bearer secrets."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents.models.taxonomy import IncidentType


class Integration(models.Model):
    """An alert source (Alertmanager or Grafana, a generic webhook, or a
    PagerDuty Events API v2 sender) with its secret."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager or Grafana"
        GENERIC = "generic", "Generic JSON"
        EVENTS_V2 = "events-v2", "PagerDuty Events API v2"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # sha256 of a 256-bit random secret: a slow password hash adds nothing for a
    # secret with that much entropy and would cost every ingest request ~100 ms.
    secret_hash = models.CharField(max_length=64, editable=False)
    service_account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="integrations",
        limit_choices_to={"is_service_account": True},
    )
    default_incident_type = models.ForeignKey(
        IncidentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    severity_label_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Alert label value to severity code, e.g. {"critical": "SEV-1"}.',
    )
    resolve_moves_to_mitigated = models.BooleanField(
        default=False,
        help_text="A resolved alert moves its incident to mitigated (if allowed); "
        "otherwise it is only recorded on the timeline.",
    )
    rate_limit_per_minute = models.PositiveIntegerField(default=1200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords(excluded_fields=["secret_hash"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def generate_secret() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def set_secret(self, secret: str) -> None:
        self.secret_hash = self.hash_secret(secret)

    def check_secret(self, secret: str) -> bool:
        """Constant-time comparison against the stored hash."""
        if not self.secret_hash or not secret:
            return False
        return hmac.compare_digest(self.secret_hash, self.hash_secret(secret))
