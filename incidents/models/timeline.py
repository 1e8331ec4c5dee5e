"""The append-only, hash-chained timeline."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from incidents.models.incident import Incident


class AppendOnlyError(Exception):
    """A timeline entry may never be changed or deleted."""


class TimelineEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Timeline entries are append-only; update() refused.")

    def delete(self):
        raise AppendOnlyError("Timeline entries are append-only; delete() refused.")

    # bulk paths would skip the hash chain.
    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Timeline entries are append-only; update refused.")

    def bulk_create(self, objs, *args, **kwargs):
        raise AppendOnlyError(
            "Write timeline entries with incidents.services.timeline_record()."
        )

    def create_chains(self, entries: list[TimelineEntry]) -> list[TimelineEntry]:
        """Insert whole new chains at once (``timeline_start_many``): each
        incident's entries must number from 1, link from the genesis hash and
        carry their own hashes, and the incident must have no entry yet;
        anything else raises ``AppendOnlyError`` and inserts nothing."""
        expected: dict[int, tuple[int, str]] = {}
        for entry in entries:
            sequence, prev_hash = expected.get(
                entry.incident_id, (1, TimelineEntry.GENESIS_HASH)
            )
            if (
                entry.sequence != sequence
                or entry.prev_hash != prev_hash
                or entry.hash != entry.compute_hash()
            ):
                raise AppendOnlyError("Not a whole, linked chain; nothing inserted.")
            expected[entry.incident_id] = (sequence + 1, entry.hash)
        if self.filter(incident_id__in=list(expected)).exists():
            raise AppendOnlyError("These incidents already have a timeline.")
        return models.QuerySet.bulk_create(self, entries, batch_size=1000)


class TimelineEntry(models.Model):
    """One line of an incident's append-only, hash-chained record.

    Written only by ``incidents.services.timeline_record``, which locks the
    incident so that sequence numbers and the chain never fork.
    """

    class Kind(models.TextChoices):
        DECLARED = "declared", "Declared"
        STATUS = "status", "Status change"
        SEVERITY_SUGGESTED = "severity_suggested", "Severity suggested"
        SEVERITY_CONFIRMED = "severity_confirmed", "Severity confirmed"
        ROLE = "role", "Role"
        ACTION = "action", "Action item"
        NOTE = "note", "Note"
        STAKEHOLDER_UPDATE = "stakeholder_update", "Stakeholder update"
        COMMUNICATION = "communication", "Communication"
        ALERT = "alert", "Alert"
        PLAYBOOK = "playbook", "Playbook"
        FIELD_CHANGE = "field_change", "Field change"
        REVIEW = "review", "Review"
        REMINDER = "reminder", "Reminder"
        SERVICES = "services", "Affected services"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        PAGE = "page", "Page"
        LINK = "link", "Linked incidents"
        REGULATORY = "regulatory", "Regulatory notification"

    GENESIS_HASH = "0" * 64

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="timeline"
    )
    sequence = models.PositiveIntegerField()
    # Every kind, also those other apps log (review, reminder, communication),
    # is one of ``Kind``: a new kind means a choice here, its migration and its
    # builder in ``incidents.timeline_entries`` (which documents its data).
    kind = models.CharField(max_length=40, choices=Kind.choices, db_index=True)
    # PROTECT, not SET_NULL: nulling the actor would rewrite a chained entry.
    # Users are deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200)
    summary = models.TextField()
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = TimelineEntryQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "sequence"]
        verbose_name_plural = "timeline entries"
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "sequence"], name="timeline_sequence_unique"
            )
        ]
        # (incident, sequence) order is served by the unique constraint's index;
        # this one serves an incident's timeline in time order.
        indexes = [
            models.Index(
                fields=["incident", "occurred_at", "sequence"],
                name="timeline_incident_time_idx",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.kind}: {self.summary[:60]}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Timeline entries are append-only; save() refused.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Timeline entries are append-only; delete() refused.")

    # -- the chain --
    @staticmethod
    def _timestamp(value: datetime) -> str:
        return value.astimezone(UTC).isoformat()

    def canonical_content(self) -> dict:
        """What the hash covers: everything recorded except the hash itself."""
        return {
            "incident": self.incident_id,
            "sequence": self.sequence,
            "kind": self.kind,
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "summary": self.summary,
            "data": self.data,
            "occurred_at": self._timestamp(self.occurred_at),
            "recorded_at": self._timestamp(self.recorded_at),
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(
            self.canonical_content(),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            cls=DjangoJSONEncoder,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


HEAD_SALT = "incidentops.timeline-head"


def sign_head(incident_id: int, count: int, last_hash: str) -> str:
    """The deployment's signature over a chain head: HMAC-SHA256 (Django's
    ``salted_hmac`` keyed by ``SECRET_KEY``, salt ``HEAD_SALT``) of
    ``"<incident id>|<count>|<last hash>"``, hex."""
    message = f"{incident_id}|{count}|{last_hash}"
    return salted_hmac(HEAD_SALT, message, algorithm="sha256").hexdigest()


class TimelineHead(models.Model):
    """The signed head of an incident's chain: how many entries it has and the
    newest one's hash. Written with every entry (``timeline_append``), so
    deleting the newest entry — which leaves a shorter chain that still links —
    no longer matches the head, and a forged head needs the deployment's key.
    No history on purpose: an old head must not be recoverable to re-sign a
    truncated chain."""

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="timeline_head"
    )
    count = models.PositiveIntegerField()
    last_hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"head of incident {self.incident_id}: #{self.count}"

    def signature_holds(self) -> bool:
        expected = sign_head(self.incident_id, self.count, self.last_hash)
        return hmac.compare_digest(expected, self.signature)
