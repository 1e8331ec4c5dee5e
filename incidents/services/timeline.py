"""The one way to write an incident's hash-chained timeline (``timeline_record``;
``timeline_append`` for a caller already holding the incident's row lock).

Every entry moves the incident's signed chain head (``TimelineHead``) and bumps
its revision (``IncidentRevision``). A caller that writes several entries in
one transaction opens ``timeline_batch()`` around its locked block: the entries
are inserted as they come, and the head and the revision of each incident are
written once, when the block ends (two statements, whatever the number of
entries), so the chain is verifiable at commit exactly as before.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
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
from incidents.services.revision import incident_touch, revision_bump
from incidents.timeline_entries import Entry


@dataclass
class _Pending:
    """What a ``timeline_batch`` owes one incident when it ends: the newest
    entry's (sequence, hash, recorded_at) for the signed head (None: no entry,
    only a revision bump), and whether this transaction holds the row lock."""

    sequence: int | None = None
    hash: str = ""
    recorded_at: datetime | None = None
    locked: bool = False
    touched: bool = False


def _batch() -> dict[int, _Pending] | None:
    return getattr(connection, "_timeline_batch", None)


@contextmanager
def timeline_batch():
    """Write each incident's chain head and revision once for the whole block.

    Inside the block ``timeline_append`` / ``timeline_record`` insert their
    entries at once, numbered and linked from the newest entry appended in the
    block (no read of the last entry), and ``incident_touch`` only notes the
    bump; when the block ends without an exception, each incident touched gets
    its signed head (count, newest hash) and one revision bump: one statement
    each. The caller must end the block inside its transaction, while it holds
    the incidents' row locks (the head then matches the entries at commit, as
    ``verify_timeline`` checks), and must not roll back to a savepoint taken
    inside the block after an entry was appended in it. An exception leaving
    the block drops what it owed (the transaction is rolled back with it).
    Nested blocks join the outermost one. Mark an incident the block's
    transaction holds locked with ``timeline_hold_lock`` so ``timeline_record``
    does not re-lock it. Yields nothing; raises what the block raises.
    """
    if _batch() is not None:
        yield
        return
    pending: dict[int, _Pending] = {}
    connection._timeline_batch = pending
    try:
        yield
    finally:
        connection._timeline_batch = None
    _flush(pending)


def timeline_hold_lock(incident_id: int) -> None:
    """Tell the open ``timeline_batch`` that its transaction holds the row lock
    of ``incident_id`` (``select_for_update``), so ``timeline_record`` appends
    without taking it again. Without a batch, nothing."""
    pending = _batch()
    if pending is not None:
        pending.setdefault(incident_id, _Pending()).locked = True


def timeline_defer_touch(incident_id: int) -> bool:
    """Inside a ``timeline_batch``: note that ``incident_id``'s revision is owed
    a bump at the block's end and return True; outside one, False."""
    pending = _batch()
    if pending is None:
        return False
    pending.setdefault(incident_id, _Pending()).touched = True
    return True


def _flush(pending: dict[int, _Pending]) -> None:
    for incident_id, owed in pending.items():
        if owed.sequence is not None:
            _sign_head(incident_id, owed.sequence, owed.hash, owed.recorded_at)
        if owed.sequence is not None or owed.touched:
            revision_bump(incident_id)


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
    Locks the incident row in a transaction (a savepoint inside the caller's),
    so entries of one incident are numbered and chained one at a time even
    under concurrency; inside a ``timeline_batch`` that holds the lock
    (``timeline_hold_lock``) neither the lock nor the savepoint is taken again.
    """
    append = dict(
        incident=incident,
        entry=entry,
        kind=kind,
        summary=summary,
        actor=actor,
        data=data,
        occurred_at=occurred_at,
        actor_label=actor_label,
    )
    pending = _batch()
    owed = pending.get(incident.pk) if pending is not None else None
    if owed is not None and owed.locked:  # no re-lock, no savepoint
        return timeline_append(**append)
    with transaction.atomic():
        list(
            Incident.objects.select_for_update()
            .filter(pk=incident.pk)
            .values_list("pk", flat=True)
        )
        timeline_hold_lock(incident.pk)
        return timeline_append(**append)


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
    the caller knows it, ``()`` for an incident without entries; otherwise the
    signed head says it (one read by key), and inside a ``timeline_batch`` the
    block's newest entry of the incident does (no read). Changes: the entry,
    the incident's signed chain head (``TimelineHead``: count, newest hash,
    signature) and its revision (``incident_touch``), both at once, or at the
    end of the ``timeline_batch`` the call is inside. Sends nothing.
    ``seal=False`` (outside a batch) leaves the head and the revision to one
    ``timeline_seal`` call for several entries of one transaction (an imported
    incident's history); the caller must make that call before it commits.
    Calling it without the lock could fork the chain.
    """
    if entry is not None:
        kind, summary, data = entry.kind, entry.summary, entry.data
    if not kind:
        raise ValueError("A timeline entry needs its kind's builder (entry=).")
    pending = _batch()
    owed = pending.get(incident.pk) if pending is not None else None
    if owed is not None and owed.sequence is not None:
        tail = (owed.sequence, owed.hash)  # this block's newest entry
    elif tail is None:
        tail = _tail(incident.pk)
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
    if pending is not None:
        owed = pending.setdefault(incident.pk, _Pending())
        owed.sequence, owed.hash, owed.recorded_at = sequence, row.hash, row.recorded_at
    elif seal:
        _sign_head(incident.pk, sequence, row.hash, row.recorded_at)
        incident_touch(incident_id=incident.pk)
    return row


def _tail(incident_id: int) -> tuple[int, str] | tuple[()]:
    """The chain's newest (sequence, hash) from its signed head, ``()`` for an
    incident without entries. A chain without a head (only a damaged one: every
    write moves it) is read from its newest entry, so the next entry still
    links; ``verify_timeline`` reports the missing head."""
    head = next(
        iter(
            TimelineHead.objects.filter(incident_id=incident_id).values_list(
                "count", "last_hash"
            )[:1]
        ),
        None,
    )
    if head is not None:
        return head
    newest = next(
        iter(
            TimelineEntry.objects.filter(incident_id=incident_id)
            .order_by("-sequence")
            .values_list("sequence", "hash")[:1]
        ),
        None,
    )
    return newest or ()


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
    every entry appended unsealed before it: one upsert each. ``new_incident``
    is accepted for callers that know the chain is new (it changes nothing).
    The caller holds the incident's row lock. Sends nothing."""
    incident_id = entry.incident_id
    _sign_head(incident_id, entry.sequence, entry.hash, entry.recorded_at)
    incident_touch(incident_id=incident_id, new_incident=new_incident)


def _sign_head(incident_id: int, count: int, last_hash: str, at: datetime) -> None:
    """Move the incident's signed chain head to the new entry, creating it for
    a new chain: one upsert (the caller holds the incident's lock)."""
    TimelineHead.objects.bulk_create(
        [
            TimelineHead(
                incident_id=incident_id,
                count=count,
                last_hash=last_hash,
                signature=sign_head(incident_id, count, last_hash),
                updated_at=at,
            )
        ],
        update_conflicts=True,
        unique_fields=["incident"],
        update_fields=["count", "last_hash", "signature", "updated_at"],
    )
