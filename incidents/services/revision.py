"""The incident's revision counter that the portal's live pages poll."""

from __future__ import annotations

from django.db import connection
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
    Inside a ``timeline_batch`` the bump is made once, when the block ends.

    ``new_incident`` is accepted for callers that know the row is new; the
    write is one upsert either way (created at revision 1 at the first touch).

    Changes: one ``IncidentRevision`` row. Sends nothing. Raises nothing of its
    own. Not history-tracked: a counter, not a record.
    """
    from incidents.services.timeline import timeline_defer_touch

    if not timeline_defer_touch(incident_id):
        revision_bump(incident_id)


def revision_bump(incident_id: int) -> None:
    """One statement: insert the revision row at 1 or add one to it, and set
    ``changed_at`` to now (PostgreSQL and SQLite ``ON CONFLICT ... DO UPDATE``)."""
    table = connection.ops.quote_name(IncidentRevision._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (incident_id, revision, changed_at) "
            "VALUES (%s, 1, %s) ON CONFLICT (incident_id) DO UPDATE SET "
            f"revision = {table}.revision + 1, changed_at = excluded.changed_at",
            [incident_id, timezone.now()],
        )
