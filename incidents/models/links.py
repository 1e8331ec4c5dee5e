"""Links between incidents: a duplicate and its primary, related incidents, and
one incident caused by another."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents.models.incident import Incident


class IncidentLinkQuerySet(models.QuerySet):
    def seen_from(self, incident: Incident, user) -> list[IncidentLink]:
        """``incident``'s links (both directions) whose other incident ``user``
        may see, oldest first, each with ``other_incident``, ``label`` and
        ``direction`` ("outgoing" when ``incident`` is the source) set for
        ``incident``'s side. A link to an incident ``user`` may not see is left
        out altogether. One query."""
        visible = Incident.objects.visible_to(user).values("pk")
        links = (
            self.filter(
                Q(source=incident, target__in=visible)
                | Q(target=incident, source__in=visible)
            )
            .select_related("source", "target", "created_by")
            .order_by("created_at", "pk")
        )
        shown = []
        for link in links:
            link.other_incident = link.other(incident)
            link.label = link.label_for(incident)
            link.direction = "outgoing" if link.source_id == incident.pk else "incoming"
            shown.append(link)
        return shown


class IncidentLink(models.Model):
    """``source`` is ``kind`` of ``target``: ``duplicate-of`` (the source was
    closed as a duplicate of the target, its primary), ``related`` (either way
    round; stored once per pair) or ``caused-by`` (the source was caused by the
    target). Written only by ``incidents.services`` (``incident_link``,
    ``incident_mark_duplicate``, ``incident_unlink``)."""

    class Kind(models.TextChoices):
        DUPLICATE_OF = "duplicate-of", "Duplicate of"
        RELATED = "related", "Related"
        CAUSED_BY = "caused-by", "Caused by"

    # How each kind reads from the target's side.
    INVERSE_LABELS = {
        Kind.DUPLICATE_OF: "Duplicated by",
        Kind.RELATED: "Related",
        Kind.CAUSED_BY: "Caused",
    }

    source = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="links_out"
    )
    target = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="links_in"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = IncidentLinkQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"], name="incidentlink_once"
            ),
            # An incident is closed as the duplicate of one primary at most.
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(kind="duplicate-of"),
                name="incidentlink_one_primary",
            ),
            models.CheckConstraint(
                condition=~Q(source=F("target")), name="incidentlink_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"

    def other(self, incident: Incident) -> Incident:
        """The incident at the other end from ``incident``."""
        return self.target if self.source_id == incident.pk else self.source

    def label_for(self, incident: Incident) -> str:
        """How the link reads on ``incident``'s page ("Duplicate of",
        "Duplicated by", "Related", "Caused by", "Caused")."""
        if self.source_id == incident.pk:
            return self.get_kind_display()
        return self.INVERSE_LABELS[self.kind]
