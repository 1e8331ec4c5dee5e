"""Links between incidents: marking a duplicate, linking related incidents and
causes, and undoing a link.

An incident at the other end of a link is named on a timeline by its reference
only while it is not restricted, and never by its title: the timeline of one
incident is read by everyone who may see it, who need not see the other.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import Conflict, DomainError
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import Alert, Incident, IncidentLink
from incidents.services.base import (
    Status,
    _changed,
    _label,
    _refresh_into,
    _require,
    _save,
)
from incidents.services.timeline import timeline_record

LinkKind = IncidentLink.Kind
# Kinds ``incident_link`` makes; a duplicate goes through ``incident_mark_duplicate``.
PLAIN_KINDS = (LinkKind.RELATED, LinkKind.CAUSED_BY)


def named(incident: Incident) -> str:
    """How another incident is named on a timeline: its reference, or "a
    restricted incident" (never its title)."""
    return "a restricted incident" if incident.restricted else incident.reference


def _not_found(field: str) -> DomainError:
    # The same words whether the incident is missing or hidden from the actor.
    return DomainError(
        "No incident with that id that you may see.", field=field, code="not_found"
    )


def _lock_pair(first: Incident, second: Incident) -> tuple[Incident, Incident]:
    """Both rows under a lock, taken in primary-key order so that two people
    linking the same pair the other way round never deadlock."""
    rows = {
        row.pk: row
        for row in Incident.objects.select_for_update()
        .filter(pk__in=[first.pk, second.pk])
        .order_by("pk")
    }
    return rows[first.pk], rows[second.pk]


def _record_both(link: IncidentLink, *, actor, now, source_text, target_text, data):
    """A ``link`` entry on each incident; ``data``: the builder's optional keys
    (``change`` required)."""
    for incident, text, side in (
        (link.source, source_text, "source"),
        (link.target, target_text, "target"),
    ):
        other = link.other(incident)
        timeline_record(
            incident=incident,
            actor=actor,
            occurred_at=now,
            entry=entries.link(
                summary=text,
                link=link.pk,
                kind=link.kind,
                incident=other.pk,
                side=side,
                **data,
            ),
        )


@transaction.atomic
def incident_link(
    *,
    incident: Incident,
    other: Incident | None,
    actor,
    kind: str = LinkKind.RELATED,
    note: str = "",
    now: datetime | None = None,
) -> IncidentLink:
    """Link ``incident`` to ``other``: ``related`` (either way round, one link
    per pair) or ``caused-by`` (``incident`` was caused by ``other``).

    Changes: one ``IncidentLink``; a ``link`` timeline entry on each incident
    (the other named by reference, or as "a restricted incident").
    Sends: nothing.
    Raises: ``NotPermitted`` unless ``actor`` may link on ``incident``
    (``permissions.can_link``); ``DomainError`` (code ``not_found``) when
    ``other`` is missing or hidden from ``actor``, exactly alike; ``DomainError``
    for a link to itself, an unknown kind or ``duplicate-of`` (mark the
    duplicate instead); ``Conflict`` when the pair is already linked so.
    """
    _require(
        permissions.can_link(actor, incident),
        "You may not link this incident to others.",
    )
    if other is None or not permissions.can_view(actor, other):
        raise _not_found("incident")
    if kind == LinkKind.DUPLICATE_OF:
        raise DomainError(
            "Mark it as a duplicate instead (mark-duplicate): that also closes it.",
            field="kind",
        )
    if kind not in PLAIN_KINDS:
        raise DomainError(f"Unknown link kind {kind!r}.", field="kind")
    if other.pk == incident.pk:
        raise DomainError("An incident cannot be linked to itself.", field="incident")
    now = now or timezone.now()
    source, target = _lock_pair(incident, other)
    pair = IncidentLink.objects.filter(source=target, target=source) | (
        IncidentLink.objects.filter(source=source, target=target)
    )
    if pair.filter(kind=kind).exists():
        raise Conflict(
            f"It is already linked to {other.reference} as {kind}.", field="incident"
        )
    link = IncidentLink(
        source=source, target=target, kind=kind, note=note, created_by=actor
    )
    link.created_at = now
    _save(link, actor)
    who = _label(actor)
    verb = "caused by" if kind == LinkKind.CAUSED_BY else "related to"
    inverse = "as caused by this incident" if kind == LinkKind.CAUSED_BY else ""
    suffix = f": {note}" if note else ""
    _record_both(
        link,
        actor=actor,
        now=now,
        source_text=f"{who} linked it as {verb} {named(target)}{suffix}",
        target_text=(f"{who} linked {named(source)} {inverse or 'as related'}{suffix}"),
        data={"change": "linked", "note": note},
    )
    return link


@transaction.atomic
def incident_unlink(*, link: IncidentLink, actor, now: datetime | None = None) -> None:
    """Remove a ``related`` or ``caused-by`` link.

    Changes: deletes ``link`` (its history keeps it); a ``link`` timeline entry
    on each incident. Sends: nothing.
    Raises: ``DomainError`` (``not_found``) unless ``actor`` may see both
    incidents; ``NotPermitted`` unless they may link on one of them;
    ``DomainError`` for a duplicate-of link (reopen the duplicate instead).
    """
    source, target = link.source, link.target
    if not (
        permissions.can_view(actor, source) and permissions.can_view(actor, target)
    ):
        raise _not_found("link")
    _require(
        permissions.can_link(actor, source) or permissions.can_link(actor, target),
        "You may not change this incident's links.",
    )
    if link.kind == LinkKind.DUPLICATE_OF:
        raise DomainError(
            "A duplicate stays linked to its primary; reopen the duplicate to undo it.",
            field="link",
        )
    now = now or timezone.now()
    _lock_pair(source, target)
    who = _label(actor)
    _record_both(
        link,
        actor=actor,
        now=now,
        source_text=f"{who} removed the {link.kind} link to {named(target)}",
        target_text=f"{who} removed the {link.kind} link from {named(source)}",
        data={"change": "unlinked"},
    )
    link._history_user = actor
    link.delete()


def _move_alerts(duplicate: Incident, primary: Incident) -> tuple[int, int]:
    """Move the duplicate's alerts to the primary; an alert the primary already
    has (the same fingerprint) stays where it is. Returns (moved, kept)."""
    held = Alert.objects.filter(incident=primary).values("fingerprint")
    theirs = Alert.objects.filter(incident=duplicate)
    moved = theirs.exclude(fingerprint__in=held).update(incident=primary)
    return moved, theirs.count()


def _check_duplicate(incident: Incident, primary: Incident, actor) -> None:
    if primary.pk == incident.pk:
        raise DomainError("An incident cannot be a duplicate of itself.", field="of")
    if incident.is_duplicate:
        raise Conflict("It is already closed as a duplicate.", field="of")
    if primary.is_duplicate:
        first = IncidentLink.objects.filter(
            source=primary, kind=LinkKind.DUPLICATE_OF
        ).first()
        where = ""
        if first is not None and permissions.can_view(actor, first.target):
            where = f" of {first.target.reference}; mark it as a duplicate of that one"
        raise DomainError(
            f"{primary.reference} is itself closed as a duplicate{where}.", field="of"
        )
    if not primary.is_open and incident.is_open:
        raise DomainError(
            f"{primary.reference} is {primary.get_status_display().lower()}: reopen "
            "it first, or link the two as related.",
            field="of",
        )


@transaction.atomic
def incident_mark_duplicate(
    *,
    incident: Incident,
    primary: Incident | None,
    actor,
    note: str = "",
    now: datetime | None = None,
) -> Incident:
    """Close ``incident`` as a duplicate of ``primary``, where the work goes on.

    Changes: ``incident`` goes to ``closed`` (``closed_at``, ``resolved_at`` if
    unset) with ``closure_reason`` "duplicate", whatever its status (it needs no
    commander or confirmed severity to leave triage this way); an
    ``IncidentLink`` duplicate-of ``primary``; its alerts move to ``primary``
    (one the primary already has, by fingerprint, stays); a ``link`` timeline
    entry on both, naming how many alerts moved. Reopening the duplicate later
    turns the link into "related" (``incident_transition``).
    Sends: ``incident_marked_duplicate`` (notifications tells its reporter and
    role holders), ``incident_status_changed`` (escalations stop) and
    ``incident_changed("status_changed")``; not ``incident_resolved``: a
    duplicate gets no review and no "resolved" notice.
    Raises: ``NotPermitted`` unless ``actor`` is a person who may change the
    incident's status; ``DomainError`` (``not_found``) when ``primary`` is
    missing or hidden from ``actor``; ``DomainError`` for itself, a primary that
    is itself a duplicate, or a resolved primary of an open incident;
    ``Conflict`` when it is already a duplicate.
    """
    _require(
        permissions.can_mark_duplicate(actor, incident),
        "You may not close this incident as a duplicate.",
    )
    if primary is None or not permissions.can_view(actor, primary):
        raise _not_found("of")
    now = now or timezone.now()
    locked, primary = _lock_pair(incident, primary)
    _check_duplicate(locked, primary, actor)
    previous = locked.status
    locked.status = Status.CLOSED
    locked.closure_reason = Incident.ClosureReason.DUPLICATE
    locked.closed_at = now
    locked.resolved_at = locked.resolved_at or now
    _save(locked, actor)
    link = IncidentLink(
        source=locked,
        target=primary,
        kind=LinkKind.DUPLICATE_OF,
        note=note,
        created_by=actor,
        created_at=now,
    )
    _save(link, actor)
    moved, kept = _move_alerts(locked, primary)
    who = _label(actor)
    alerts = f"; {moved} alert(s) moved there" if moved else ""
    alerts_in = f"; {moved} of its alert(s) moved here" if moved else ""
    suffix = f": {note}" if note else ""
    _record_both(
        link,
        actor=actor,
        now=now,
        source_text=f"{who} closed it as a duplicate of {named(primary)} "
        f"(was {previous}){alerts}{suffix}",
        target_text=f"{who} marked {named(locked)} as a duplicate of this "
        f"incident{alerts_in}{suffix}",
        data={
            "change": "marked_duplicate",
            "previous": previous,
            "alerts_moved": moved,
            "alerts_kept": kept,
            "note": note,
        },
    )
    _refresh_into(incident, locked)
    events.incident_marked_duplicate.send(
        sender=Incident, incident=incident, primary=primary, actor=actor
    )
    events.incident_status_changed.send(
        sender=Incident, incident=incident, previous_status=previous, actor=actor
    )
    _changed(
        incident,
        "status_changed",
        actor,
        {"from": previous, "to": Status.CLOSED, "closure_reason": "duplicate"},
    )
    return incident


def reopened_duplicate(incident: Incident, *, actor, now: datetime) -> None:
    """A duplicate that was reopened is no longer one: its duplicate-of link
    becomes "related", with a ``link`` entry on both. The caller holds the
    incident's lock and clears ``closure_reason``."""
    link = IncidentLink.objects.filter(
        source=incident, kind=LinkKind.DUPLICATE_OF
    ).first()
    if link is None:
        return
    already_related = IncidentLink.objects.filter(
        source__in=(link.source_id, link.target_id),
        target__in=(link.source_id, link.target_id),
        kind=LinkKind.RELATED,
    ).exists()
    who = _label(actor)
    _record_both(
        link,
        actor=actor,
        now=now,
        source_text=f"{who} reopened it: no longer a duplicate of "
        f"{named(link.target)} (still linked as related)",
        target_text=f"{named(link.source)} was reopened: no longer a duplicate of "
        f"this incident (still linked as related; {who})",
        data={"change": "duplicate_reopened"},
    )
    if already_related:
        link._history_user = actor
        link.delete()
    else:
        link.kind = LinkKind.RELATED
        _save(link, actor)
