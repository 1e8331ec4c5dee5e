"""Status transitions through the incident lifecycle."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidentops.exceptions import InvalidTransition
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import ActionItem, Incident
from incidents.services.base import (
    Status,
    _changed,
    _label,
    _lock,
    _refresh_into,
    _require,
    _save,
)
from incidents.services.links import reopened_duplicate
from incidents.services.timeline import timeline_record


def _leave_triage_problems(incident: Incident) -> list[str]:
    problems = []
    if incident.severity_id is None:
        problems.append("a person has not confirmed its severity")
    commander = incident.commander
    if commander is None:
        problems.append("it has no incident commander")
    elif not commander.is_human:
        problems.append("its commander is not an active person")
    return problems


@transaction.atomic
def incident_transition(
    *,
    incident: Incident,
    actor,
    status: str,
    note: str = "",
    resolution_summary: str | None = None,
    cancel_open_actions: bool = False,
    closure_reason: str = "",
    now: datetime | None = None,
) -> Incident:
    """Move the incident along its lifecycle (``Incident.TRANSITIONS``).

    ``cancel_open_actions`` (resolving only): its open and in-progress actions
    are cancelled in the same transaction, one ``action`` timeline entry listing
    them; without it they stay open as follow-ups.

    Changes: ``status`` and its timestamp: ``mitigated_at``; ``resolved_at`` (and
    ``mitigated_at`` if unset); ``closed_at``. ``closure_reason`` "false_alarm"
    (resolving or closing only) marks it as noise that figures leave out by
    default; a duplicate is closed by ``incident_mark_duplicate``. Resolving stores
    ``resolution_summary`` (or the note, if none is given). Reopening (resolved
    or closed → investigating, or mitigated → investigating) clears the later
    timestamps and the closure reason, since the incident is no longer in that
    state (a reopened duplicate stays linked to its primary as "related"); the
    earlier values stay in the history and on the timeline. A ``status``
    timeline entry with the note.
    Sends: ``incident_status_changed``; ``incident_resolved`` when resolving;
    ``action_changed`` per cancelled action; ``incident_changed("status_changed")``.
    Raises: ``InvalidTransition`` where the table forbids the move, or when
    leaving triage without a confirmed severity and a human commander (the reason
    names what is missing); ``NotPermitted`` if ``actor`` may not change status.
    """
    _require(
        permissions.can_transition(actor, incident),
        "You may not change this incident's status.",
    )
    now = now or timezone.now()
    locked = _lock(incident)
    previous = locked.status
    _check_transition(locked, status)
    _check_closure_reason(status, closure_reason)
    was_duplicate = locked.is_duplicate
    _apply_status(
        locked,
        status,
        actor=actor,
        now=now,
        resolution_summary=resolution_summary
        if resolution_summary is not None
        else note,
    )
    reopening = (
        previous in Incident.ENDED_STATUSES and status not in Incident.ENDED_STATUSES
    )
    if reopening:
        locked.closure_reason = ""
    elif closure_reason:
        locked.closure_reason = closure_reason
    _save_moved(locked, actor, reopening=reopening)
    cancelled = []
    if cancel_open_actions and status == Status.RESOLVED:
        cancelled = _cancel_open_actions(locked, actor=actor, now=now)
    if reopening and was_duplicate:
        reopened_duplicate(locked, actor=actor, now=now)
    verb = "reopened" if reopening else "moved"
    if closure_reason and not reopening:
        note = "false alarm" + (f"; {note}" if note else "")
    timeline_record(
        incident=locked,
        actor=actor,
        occurred_at=now,
        entry=entries.status(
            summary=f"{_label(actor)} {verb} it from {previous} to {status}"
            + (f": {note}" if note else ""),
            previous=previous,
            status=status,
            note=note,
            closure_reason=locked.closure_reason or entries.ABSENT,
        ),
    )
    _refresh_into(incident, locked)
    events.incident_status_changed.send(
        sender=Incident, incident=incident, previous_status=previous, actor=actor
    )
    for action in cancelled:
        events.action_changed.send(
            sender=Incident, action=action, actor=actor, created=False
        )
    if status == Status.RESOLVED:
        events.incident_resolved.send(sender=Incident, incident=incident, actor=actor)
    _changed(incident, "status_changed", actor, {"from": previous, "to": status})
    return incident


def _save_moved(locked: Incident, actor, *, reopening: bool) -> None:
    """Save the moved incident; reopening an alert's incident while another is
    open for its alert key is refused (``InvalidTransition``)."""
    if reopening and locked.dedup_key:
        _refuse_second_open_for_alert(locked)
    try:
        # The database allows one open incident per alert key; a concurrent
        # reopen or delivery the check above missed lands here.
        with transaction.atomic():
            _save(locked, actor)
    except IntegrityError:
        if not (reopening and locked.dedup_key):
            raise
        _refuse_second_open_for_alert(locked, fallback=True)


def _check_closure_reason(status: str, closure_reason: str) -> None:
    if not closure_reason:
        return
    if closure_reason != Incident.ClosureReason.FALSE_ALARM:
        raise InvalidTransition(
            "Only a false alarm is given as a closure reason here; a duplicate "
            "is marked as a duplicate of its primary.",
            field="closure_reason",
        )
    if status not in Incident.ENDED_STATUSES:
        raise InvalidTransition(
            "A false alarm is given when resolving or closing.",
            field="closure_reason",
        )


def _check_transition(incident: Incident, status: str) -> None:
    """Raise ``InvalidTransition`` (naming what is missing) unless the locked
    ``incident`` may move to ``status`` now."""
    previous = incident.status
    if status not in Status.values:
        raise InvalidTransition(f"Unknown status {status!r}.", field="status")
    if not incident.can_transition_to(status):
        raise InvalidTransition(
            f"An incident cannot go from {previous} to {status}.", field="status"
        )
    if previous == Status.TRIAGE:
        problems = _leave_triage_problems(incident)
        if problems:
            raise InvalidTransition(
                "It cannot leave triage: " + " and ".join(problems) + ".",
                field="status",
            )


def _apply_status(
    incident: Incident, status: str, *, actor, now: datetime, resolution_summary: str
) -> None:
    """Set ``status`` and its timestamps on the locked ``incident`` (unsaved), as
    ``incident_transition`` documents (a person moving it to investigating
    first acknowledges it); ``resolution_summary`` is stored when resolving, if
    not empty."""
    previous = incident.status
    incident.status = status
    if status == Status.INVESTIGATING:
        if previous in (Status.MITIGATED, Status.RESOLVED, Status.CLOSED):
            incident.mitigated_at = incident.resolved_at = incident.closed_at = None
        if incident.acknowledged_at is None:
            incident.acknowledged_at = now
            if actor is not None and actor.is_human:
                incident.acknowledged_by = actor
    elif status == Status.MITIGATED:
        incident.mitigated_at = now
    elif status == Status.RESOLVED:
        incident.resolved_at = now
        incident.mitigated_at = incident.mitigated_at or now
        if resolution_summary:
            incident.resolution_summary = resolution_summary
    elif status == Status.CLOSED:
        incident.closed_at = now


def _cancel_open_actions(incident: Incident, *, actor, now) -> list[ActionItem]:
    """Cancel the incident's open and in-progress actions (the caller holds its
    row lock), with one ``action`` timeline entry naming them."""
    actions = list(
        ActionItem.objects.select_for_update()
        .filter(
            incident=incident,
            status__in=(ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS),
        )
        .order_by("pk")
    )
    for action in actions:
        action.status = ActionItem.Status.CANCELLED
        _save(action, actor)
    if actions:
        timeline_record(
            incident=incident,
            actor=actor,
            occurred_at=now,
            entry=entries.action(
                summary=f"{_label(actor)} cancelled {len(actions)} open action(s) "
                "on resolving: " + "; ".join(f"“{a.title}”" for a in actions),
                change="cancelled_on_resolve",
                actions=[a.pk for a in actions],
            ),
        )
    return actions


def _refuse_second_open_for_alert(incident: Incident, *, fallback=False) -> None:
    # Reopening an alert-raised incident while a newer one is open for the same
    # (integration, dedup_key) would break incident_one_open_per_dedup_key.
    other = (
        Incident.objects.filter(
            integration_id=incident.integration_id, dedup_key=incident.dedup_key
        )
        .exclude(pk=incident.pk)
        .exclude(status__in=Incident.ENDED_STATUSES)
        .order_by("-created_at")
        .first()
    )
    if other is not None:
        raise InvalidTransition(
            f"It cannot be reopened: {other.reference} is open for the same alert "
            "group; work on that one instead.",
            field="status",
        )
    if fallback:
        raise InvalidTransition(
            "It cannot be reopened: another incident is open for the same alert group.",
            field="status",
        )
