"""A per-incident revision counter: what the portal's live pages poll."""

from __future__ import annotations

from django.db import models

from incidents.models.incident import Incident


class IncidentRevision(models.Model):
    """How many times an incident's page has changed, and when it last did.

    Bumped by ``incidents.services.incident_touch`` (every timeline entry, and
    changes that write none such as a delivery's outcome). The portal builds its
    ETags from it (``incidents.live``), so a poll of an unchanged incident page or
    board costs one small query and answers ``304 Not Modified``.

    Not history-tracked and not an audit record: a counter only. A missing row
    reads as revision 0.
    """

    incident = models.OneToOneField(
        Incident,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="revision",
    )
    revision = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.incident_id}@{self.revision}"
