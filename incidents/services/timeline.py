"""The one way to write an incident's hash-chained timeline (``timeline_record``;
``timeline_append`` for a caller already holding the incident's row lock)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidents.models import (
    Incident,
    IncidentRevision,
    TimelineEntry,
    TimelineHead,
    sign_head,
)
from incidents.services.base import (
    _json,
    _label,
)
from incidents.services.revision import incident_touch
from incidents.timeline_entries import Entry


@transaction.atomic
def timeline_record(
    *,
    incident: Incident,
    entry: Entry | None = None,
    actor=None,
    occurred_at: datetime | None = None,
    actor_label: str | None = None,
    kind: str = "",
    summary: str = "",
    data: dict | None = None,
) -> TimelineEntry:
    """Append one entry to the incident's hash-chained timeline.

    ``entry`` comes from the builder of its kind (``incidents.timeline_entries``,
    which documents each kind's data). ``kind``/``summary``/``data`` given
    directly serve tests that write entries of their own; the apps write only
    through the builders (``tests/incidents/test_timeline_entries.py``).
    The one public way to write the timeline; notifications and reviews call it to
    log communications, reminders and review events. It checks no permission (the
    caller's service did). Changes: one ``TimelineEntry``, the signed head and
    the incident's revision (``incident_touch``). Sends nothing.
    Locks the incident row, so entries of one incident are numbered and chained
    one at a time even under concurrency.
    """
    list(
        Incident.objects.select_for_update()
        .filter(pk=incident.pk)
        .values_list("pk", flat=True)
    )
    return timeline_append(
        incident=incident,
        entry=entry,
        kind=kind,
        summary=summary,
        actor=actor,
        data=data,
        occurred_at=occurred_at,
        actor_label=actor_label,
    )


def timeline_append(
    *,
    incident: Incident,
    entry: Entry | None = None,
    actor=None,
    occurred_at: datetime | None = None,
    actor_label: str | None = None,
    tail: tuple[int, str] | None = None,
    seal: bool = True,
    kind: str = "",
    summary: str = "",
    data: dict | None = None,
) -> TimelineEntry:
    """``timeline_record`` for a caller that already holds the incident's row lock
    in its transaction (``select_for_update``), as alert ingestion does: no
    re-lock and no savepoint. ``tail`` is the last entry's (sequence, hash) when
    the caller knows it, ``()`` for an incident without entries (it saves a
    read). Changes: the entry, the incident's signed chain head
    (``TimelineHead``: count, newest hash, signature) and its revision
    (``incident_touch``). Sends nothing.
    ``seal=False`` leaves the head and the revision to one ``timeline_seal``
    call for several entries of one transaction (a new incident's first
    entries); the caller must make that call before it commits.
    Calling it without the lock could fork the chain.
    """
    if entry is not None:
        kind, summary, data = entry.kind, entry.summary, entry.data
    if not kind:
        raise ValueError("A timeline entry needs its kind's builder (entry=).")
    if tail is None:
        tail = next(
            iter(
                TimelineEntry.objects.filter(incident_id=incident.pk)
                .order_by("-sequence")
                .values_list("sequence", "hash")[:1]
            ),
            None,
        )
    sequence, prev_hash = (
        (tail[0] + 1, tail[1]) if tail else (1, TimelineEntry.GENESIS_HASH)
    )
    row = TimelineEntry(
        incident=incident,
        sequence=sequence,
        kind=kind,
        actor=actor,
        actor_label=actor_label or _label(actor),
        summary=summary,
        data=_json(data or {}),
        occurred_at=occurred_at or timezone.now(),
        recorded_at=timezone.now(),
        prev_hash=prev_hash,
    )
    row.hash = row.compute_hash()
    row.save()
    if seal:
        _sign_head(incident.pk, sequence, row.hash, row.recorded_at)
        incident_touch(incident_id=incident.pk)
    return row


def timeline_start_many(
    chains: dict[Incident, list[tuple]], *, actor_label: str
) -> None:
    """The first entries of many incidents created in this transaction (an
    import's batch), each chain hashed as ``timeline_append`` would, written in
    a few statements. ``chains``: incident → ``[(occurred_at, entry)]``
    (``incidents.timeline_entries`` builders' ``Entry``) in order. Changes: the entries, each incident's signed chain head
    and its first revision. Sends nothing. Raises ``AppendOnlyError`` for an
    incident that already has entries."""
    recorded_at = timezone.now()
    entries, heads, revisions = [], [], []
    for incident, steps in chains.items():
        prev_hash, sequence = TimelineEntry.GENESIS_HASH, 0
        for occurred_at, step in steps:
            sequence += 1
            entry = TimelineEntry(
                incident=incident,
                sequence=sequence,
                kind=step.kind,
                actor=None,
                actor_label=actor_label,
                summary=step.summary,
                data=_json(step.data or {}),
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                prev_hash=prev_hash,
            )
            entry.hash = prev_hash = entry.compute_hash()
            entries.append(entry)
        if sequence:
            heads.append(
                TimelineHead(
                    incident_id=incident.pk,
                    count=sequence,
                    last_hash=prev_hash,
                    signature=sign_head(incident.pk, sequence, prev_hash),
                    updated_at=recorded_at,
                )
            )
        revisions.append(
            IncidentRevision(
                incident_id=incident.pk, revision=1, changed_at=recorded_at
            )
        )
    TimelineEntry.objects.create_chains(entries)
    TimelineHead.objects.bulk_create(heads, batch_size=1000)
    IncidentRevision.objects.bulk_create(revisions, batch_size=1000)


def timeline_seal(*, entry: TimelineEntry, new_incident: bool = False) -> None:
    """Record ``entry`` (the newest, appended with ``seal=False``) as the
    incident's signed chain head and bump the incident's revision, once for
    every entry appended unsealed before it. ``new_incident``: the incident
    has no head and no revision yet (its first entries), so each is one insert.
    The caller holds the incident's row lock. Sends nothing."""
    incident_id = entry.incident_id
    if new_incident:
        TimelineHead.objects.create(
            incident_id=incident_id,
            count=entry.sequence,
            last_hash=entry.hash,
            signature=sign_head(incident_id, entry.sequence, entry.hash),
            updated_at=entry.recorded_at,
        )
    else:
        _sign_head(incident_id, entry.sequence, entry.hash, entry.recorded_at)
    incident_touch(incident_id=incident_id, new_incident=new_incident)


def _sign_head(incident_id: int, count: int, last_hash: str, at: datetime) -> None:
    """Move the incident's signed chain head to the new entry (the caller holds
    the incident's lock)."""
    head = {
        "count": count,
        "last_hash": last_hash,
        "signature": sign_head(incident_id, count, last_hash),
        "updated_at": at,
    }
    if count > 1 and TimelineHead.objects.filter(incident_id=incident_id).update(
        **head
    ):
        return
    TimelineHead.objects.create(incident_id=incident_id, **head)
