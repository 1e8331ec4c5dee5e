"""Severity: the stored suggestion, a human's confirmation, classification."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError, NotPermitted
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import (
    Alert,
    Incident,
    IncidentType,
    Playbook,
    SeverityLevel,
)
from incidents.services.actions import _playbook_apply
from incidents.services.base import (
    Status,
    _changed,
    _label,
    _lock,
    _refresh_into,
    _require,
    _save,
)
from incidents.services.declare import _incident_update
from incidents.services.timeline import timeline_append, timeline_record


@transaction.atomic
def incident_confirm_severity(
    *,
    incident: Incident,
    actor,
    severity: SeverityLevel,
    reason: str = "",
    now: datetime | None = None,
) -> Incident:
    """A person confirms (or changes) the incident's severity.

    Changes: ``severity``, ``severity_confirmed_by/_at``, ``severity_reason``; the
    triage suggestion is kept as it was. A ``severity_confirmed`` timeline entry
    records the previous, suggested and chosen levels. On a first confirmation, a
    re-confirmation or a raise, the playbook for (type, severity) is applied if it
    has not been yet; lowering applies nothing and never removes actions.
    Sends: ``incident_severity_confirmed``, ``incident_changed``, and the
    playbook's events when one is applied.
    Raises: ``NotPermitted`` for a service account or anyone but an incident
    manager or the incident's commander; ``DomainError`` on a closed incident.
    """
    return _incident_confirm_severity(
        incident=incident,
        actor=actor,
        severity=severity,
        reason=reason,
        now=now,
        type_changed=False,
    )


def _incident_confirm_severity(
    *,
    incident: Incident,
    actor,
    severity: SeverityLevel,
    reason: str,
    now: datetime | None,
    type_changed: bool,
) -> Incident:
    # ``incident_confirm_severity``'s body. ``type_changed``: the type changed
    # in the same classification, so (type, severity) is a new pair whose
    # playbook applies even on a lowering, as a type change alone would.
    if actor is None or not actor.is_human:
        raise NotPermitted(
            "Only a person may confirm a severity, not a service account."
        )
    _require(
        permissions.can_confirm_severity(actor, incident),
        "Only an incident manager or the incident's commander may confirm "
        "its severity.",
    )
    now = now or timezone.now()
    locked = _lock(incident)
    if locked.status == Status.CLOSED:
        raise DomainError("A closed incident's severity cannot change; reopen it.")
    previous = locked.severity
    locked.severity = severity
    locked.severity_confirmed_by = actor
    locked.severity_confirmed_at = now
    locked.severity_reason = reason
    _save(locked, actor)

    suggested = locked.suggested_severity.code if locked.suggested_severity else None
    if previous is None:
        verb = "confirmed"
    elif previous.pk == severity.pk:
        verb = "re-confirmed"
    elif severity.is_more_severe_than(previous):
        verb = "raised"
    else:
        verb = "lowered"
    timeline_record(
        incident=locked,
        actor=actor,
        occurred_at=now,
        entry=entries.severity_confirmed(
            summary=f"{_label(actor)} {verb} severity {severity.code}"
            + (f" (was {previous.code})" if previous and verb != "re-confirmed" else "")
            + (f": {reason}" if reason else ""),
            severity=severity.code,
            previous=previous.code if previous else None,
            suggested=suggested,
            reason=reason,
        ),
    )
    _refresh_into(incident, locked)

    if verb != "lowered" or (type_changed and incident.is_open):
        playbook = Playbook.for_incident(incident.incident_type, severity)
        if playbook is not None:
            # The confirmation is the authorised change; the playbook is its
            # consequence, so it needs no separate right to manage actions.
            _playbook_apply(incident=incident, playbook=playbook, actor=actor, now=now)

    events.incident_severity_confirmed.send(
        sender=Incident, incident=incident, previous_severity=previous, actor=actor
    )
    _changed(
        incident,
        "severity_confirmed",
        actor,
        {"severity": severity.code, "previous": previous.code if previous else None},
    )
    return incident


def incident_record_suggestion(
    *,
    incident: Incident,
    severity: SeverityLevel,
    rationale: str,
    label: str,
    actor,
    now: datetime | None = None,
    locked: bool = False,
    alert: dict | None = None,
) -> Incident:
    """An alert's label suggests a severity; only a person confirms one
    (control 2), so this touches the suggestion alone.

    Changes: under the incident's row lock, ``suggested_severity`` and the
    stored ``suggestion`` (its severity, and ``rationale`` prefixed to the one
    already stored), with ``actor`` (the integration's account) in the history;
    a ``severity_suggested`` timeline entry naming ``alert`` (``{"fingerprint",
    "name", "labels"}``) when given. Nothing if the locked row already suggests
    ``severity``. ``locked``: the caller holds the row lock in its transaction
    and ``incident`` is that locked row (alert ingestion): no re-read and no
    savepoint (it runs in the caller's transaction); otherwise its own
    transaction (a savepoint inside the caller's).
    Sends: ``severity_suggestion_raised`` when the suggestion rises.
    Raises: nothing of its own.
    """
    arguments = dict(
        incident=incident,
        severity=severity,
        rationale=rationale,
        label=label,
        actor=actor,
        now=now or timezone.now(),
        locked=locked,
        alert=alert,
    )
    if locked:
        return _record_suggestion(**arguments)
    with transaction.atomic():
        return _record_suggestion(**arguments)


def _record_suggestion(
    *, incident, severity, rationale, label, actor, now, locked, alert
) -> Incident:
    row = incident if locked else _lock(incident)
    if row.suggested_severity_id == severity.pk:
        if not locked:
            _refresh_into(incident, row)
        return incident
    previous_level = row.suggested_severity
    previous = previous_level.code if previous_level else None
    suggestion = dict(row.suggestion or {})
    suggestion["severity"] = severity.code
    suggestion["rationale"] = "; ".join(
        filter(None, [rationale, suggestion.get("rationale", "")])
    )
    row.suggested_severity = severity
    row.suggestion = suggestion
    _save(row, actor, update_fields=["suggested_severity", "suggestion"])
    source = "The alert"
    if alert:
        source = "Alert " + Alert.short_name(
            alert["name"], alert["fingerprint"], alert.get("labels") or {}
        )
    timeline_append(
        incident=row,
        actor=None,
        occurred_at=now,
        entry=entries.severity_suggested(
            summary=f"{source} suggests {severity.code} (was {previous or 'none'}); "
            "a person must confirm.",
            severity=severity.code,
            previous=previous,
            label=label,
            alert=alert,
        ),
    )
    if not locked:
        _refresh_into(incident, row)
    if severity.is_more_severe_than(previous_level):
        events.severity_suggestion_raised.send(
            sender=Incident,
            incident=incident,
            severity=severity,
            previous=previous_level,
            reason=rationale,
            alert=alert,
            actor=actor,
        )
    return incident


_KEEP: Any = object()


@transaction.atomic
def incident_classify(
    *,
    incident: Incident,
    actor,
    severity: SeverityLevel,
    incident_type: IncidentType | None = _KEEP,
    reason: str = "",
    now: datetime | None = None,
) -> Incident:
    """Classify an incident in one step: its type (if given and different),
    then its confirmed severity.

    Changes: as ``incident_update`` for the type (a ``field_change`` entry) and
    ``incident_confirm_severity`` for the severity (a ``severity_confirmed``
    entry). The playbook for the final (type, severity) pair is applied once,
    if not yet applied: never one for a pair passed through on the way (the old
    type at the new severity). With a new type it applies even on a lowering, as
    a type change alone would; without one, lowering applies nothing.
    Sends: what those two services send, and the playbook's events.
    Raises: what those two services raise; a refusal of either changes neither.
    """
    now = now or timezone.now()
    type_changed = incident_type is not _KEEP and (
        getattr(incident_type, "pk", None) != incident.incident_type_id
    )
    if type_changed:
        _incident_update(
            incident=incident,
            actor=actor,
            now=now,
            fields={"incident_type": incident_type},
            apply_playbook=False,
        )
    return _incident_confirm_severity(
        incident=incident,
        actor=actor,
        severity=severity,
        reason=reason,
        now=now,
        type_changed=type_changed,
    )
