"""The incident's revision counter that the portal's live pages poll."""

from __future__ import annotations

from django.db.models import F
from django.utils import timezone

from incidents.models import IncidentRevision


def incident_touch(*, incident_id: int, new_incident: bool = False) -> None:
    """Mark an incident's page as changed: its ``IncidentRevision`` goes up by one
    and ``changed_at`` becomes the real time (never a back-dated ``now``: it tells
    open pages that something changed, not when it happened).

    ``timeline_append`` calls it for every entry, so a service that writes the
    timeline needs nothing more. Call it directly for a change that writes no
    entry but shows on the incident page or the board (e.g. a delivery's outcome),
    as the last write of the transaction or while holding the incident's row
    lock, so that it never waits for that lock while holding the counter's.

    ``new_incident``: the incident was created in this transaction and has no
    revision row yet, so the row is inserted at once (one statement).

    Changes: one ``IncidentRevision`` row (created at the first touch). Sends
    nothing. Raises nothing of its own. Not history-tracked: a counter, not a
    record.
    """
    now = timezone.now()
    if new_incident:
        IncidentRevision.objects.create(
            incident_id=incident_id, revision=1, changed_at=now
        )
        return
    bumped = IncidentRevision.objects.filter(incident_id=incident_id).update(
        revision=F("revision") + 1, changed_at=now
    )
    if bumped:
        return
    IncidentRevision.objects.bulk_create(
        [IncidentRevision(incident_id=incident_id, revision=0, changed_at=now)],
        ignore_conflicts=True,
    )
    IncidentRevision.objects.filter(incident_id=incident_id).update(
        revision=F("revision") + 1, changed_at=now
    )
