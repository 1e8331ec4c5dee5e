"""Importing a past incident from another tool or a file, keeping its times.

The readers and the runner live in ``incidents.importing``; this is the one
writer. An imported incident is a record of the past: it gets no triage
suggestion, no playbook, no notification and no review opened now (a review
in the file is stored as completed by ``reviews``, through
``events.incident_imported``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError
from incidentops.services import model_update
from incidents import events
from incidents import timeline_entries as entries
from incidents.models import (
    Incident,
    IncidentReferenceCounter,
    Role,
    RoleAssignment,
)
from incidents.services.base import (
    Status,
    _grant_restricted_access,
    _label,
    _save,
    _tags,
)
from incidents.services.timeline import (
    timeline_append,
    timeline_record,
    timeline_seal,
)
from incidents.services.times import times_order_problem

IMPORTED = "imported"
UPDATED = "updated"
UNCHANGED = "unchanged"

TIME_FIELDS = (
    "impact_started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)
PLAIN_FIELDS = (
    "title",
    "description",
    "impact",
    "external_url",
    "incident_type",
    "severity",
    "severity_reason",
    "status",
    "customer_facing",
    "data_exposed",
    "regulatory",
    "restricted",
    "reporter",
    "affected_services",
    "affected_sites",
    "affected_suppliers",
    "resolution_summary",
    "created_at",
    *TIME_FIELDS,
)
SOURCE_LABELS = {
    "native": "a file",
    "pagerduty": "PagerDuty",
    "oncall": "Grafana OnCall",
}


@dataclass
class ImportOutcome:
    incident: Incident
    outcome: str  # imported | updated | unchanged


def _status_for(fields: dict[str, Any]) -> str:
    status = fields.get("status") or ""
    if not status:
        if fields.get("closed_at"):
            return Status.CLOSED
        if fields.get("resolved_at"):
            return Status.RESOLVED
        if fields.get("mitigated_at"):
            return Status.MITIGATED
        return Status.INVESTIGATING if fields.get("acknowledged_at") else Status.TRIAGE
    if status not in Status.values:
        raise DomainError(f"unknown status {status!r}", field="status")
    return status


def _check(fields: dict[str, Any], now: datetime) -> None:
    """Refuse what cannot be a true record: times missing for the status, in the
    future, or out of order."""
    status = fields["status"]
    needs = {
        Status.RESOLVED: "resolved_at",
        Status.CLOSED: "resolved_at",
        Status.MITIGATED: "mitigated_at",
    }.get(status)
    if needs and not fields.get(needs):
        raise DomainError(f"a {status} incident needs {needs}", field=needs)
    if status in (Status.TRIAGE, Status.INVESTIGATING, Status.MITIGATED):
        for later in ("resolved_at", "closed_at"):
            if fields.get(later):
                raise DomainError(f"an {status} incident has no {later}", field=later)
    for name in TIME_FIELDS:
        value = fields.get(name)
        if value is not None and value > now:
            raise DomainError(f"{name} is in the future", field=name)
        if value is not None and value.year < 1970:
            raise DomainError(f"{name} is before 1970", field=name)
    problem = times_order_problem(fields)
    if problem:
        raise DomainError(problem[1], field=problem[0])


def import_fields(
    *, fields: dict[str, Any], roles: dict[Role, Any] | None, actor, now: datetime
) -> dict[str, Any]:
    """``fields`` of an imported record made whole and checked, writing nothing:
    detection from the declaration (or the reverse), impact start from
    detection, the status from the latest time, tags cleaned, the type's
    restriction, and who confirmed the severity (the commander, else ``actor``)
    and when. Raises ``DomainError`` as ``incident_import`` does."""
    fields = dict(fields)
    if not fields.get("detected_at"):
        fields["detected_at"] = fields.get("created_at")
    if not fields.get("detected_at"):
        raise DomainError("it has no detected_at (or declared_at)", field="detected_at")
    fields["created_at"] = fields.get("created_at") or fields["detected_at"]
    fields["impact_started_at"] = (
        fields.get("impact_started_at") or fields["detected_at"]
    )
    fields["status"] = _status_for(fields)
    for name in ("affected_services", "affected_sites", "affected_suppliers"):
        fields[name] = _tags(fields.get(name))
    _check(fields, now)
    if fields.get("restricted") is None:
        incident_type = fields.get("incident_type")
        fields["restricted"] = bool(
            incident_type and incident_type.restricted_by_default
        )
    if fields.get("severity") is not None:
        commander = next(
            (user for role, user in (roles or {}).items() if role.slug == "commander"),
            None,
        )
        fields.setdefault("severity_confirmed_by", commander or actor)
        fields.setdefault(
            "severity_confirmed_at",
            fields.get("acknowledged_at") or fields["detected_at"],
        )
    return fields


@transaction.atomic
def incident_import(
    *,
    actor,
    source: str,
    external_id: str,
    digest: str,
    fields: dict[str, Any],
    roles: dict[Role, Any] | None = None,
    review: dict | None = None,
    now: datetime | None = None,
) -> ImportOutcome:
    """Create, update or leave the incident imported as ``(source, external_id)``.

    ``fields``: any of ``PLAIN_FIELDS`` (model values: an ``IncidentType``, a
    ``SeverityLevel``, users); ``detected_at`` (or ``created_at``) is required;
    ``created_at`` defaults to detection, ``impact_started_at`` to detection;
    ``status`` defaults from the latest time given. ``roles``: role → user, the
    holders (their assignments start at acknowledgement, else detection).
    ``digest`` identifies the record's content: the same digest as the stored
    one changes nothing (``unchanged``).
    Changes: a new incident (reference of its creation year, ``imported_at``,
    ``external_*``), its role assignments, grants when restricted (reporter, role
    holders, the type's groups), timeline entries at their original times marked
    ``imported``; or, for a changed record, the changed fields, role holders
    (the earlier assignment ended) and one ``field_change`` entry.
    Sends: ``incident_imported`` only (no notification, playbook or review is
    started by it; ``reviews`` stores the file's review as completed).
    Raises: ``DomainError`` for missing or out-of-order times, a time in the
    future, an unknown status.
    """
    now = now or timezone.now()
    fields = import_fields(fields=fields, roles=roles, actor=actor, now=now)
    existing = (
        Incident.objects.select_for_update()
        .filter(external_source=source, external_id=external_id)
        .first()
    )
    if existing is not None and existing.import_digest == digest:
        return ImportOutcome(existing, UNCHANGED)
    if existing is None:
        incident = _create(
            actor=actor,
            source=source,
            external_id=external_id,
            digest=digest,
            fields=fields,
            roles=roles or {},
            now=now,
        )
        outcome = IMPORTED
    else:
        incident = _update(
            incident=existing,
            actor=actor,
            digest=digest,
            fields=fields,
            roles=roles or {},
            now=now,
        )
        outcome = UPDATED
    events.incident_imported.send(
        sender=Incident,
        incident=incident,
        created=outcome == IMPORTED,
        review=review,
        actor=actor,
    )
    return ImportOutcome(incident, outcome)


def _create(*, actor, source, external_id, digest, fields, roles, now) -> Incident:
    incident = Incident(
        external_source=source,
        external_id=external_id,
        import_digest=digest,
        imported_at=now,
        reference=IncidentReferenceCounter.next_reference(fields["created_at"].year),
        **{name: value for name, value in fields.items() if name != "review"},
    )
    _save(incident, actor)
    started = incident.acknowledged_at or incident.detected_at
    for role, user in roles.items():
        _save(
            RoleAssignment(
                incident=incident,
                role=role,
                user=user,
                assigned_by=actor,
                started_at=started,
                note="imported",
            ),
            actor,
        )
    if incident.restricted:
        _grant_restricted_access(incident)
    _history_entries(incident, actor=actor, roles=roles)
    return incident


def history_label(actor) -> str:
    """Who the timeline names for an imported incident's entries."""
    return f"{_label(actor)} (import)"


def history_steps(incident: Incident, *, roles) -> list[tuple]:
    """The imported incident's timeline as ``(occurred_at, entry)`` (an
    ``incidents.timeline_entries`` builder's ``Entry``) in time order: declared, severity, role holders, each status
    reached (resolution noted), every entry's data marked ``imported``."""
    origin = SOURCE_LABELS.get(incident.external_source, incident.external_source)
    steps = [
        (
            incident.created_at,
            entries.declared(
                summary=f"Imported from {origin} ({incident.external_id}): "
                f"{incident.title}",
                imported=True,
                source=incident.external_source,
                external_id=incident.external_id,
                external_url=incident.external_url,
                impact_started_at=incident.impact_started_at,
                detected_at=incident.detected_at,
            ),
        )
    ]
    if incident.severity_id:
        steps.append(
            (
                incident.severity_confirmed_at,
                entries.severity_confirmed(
                    summary=f"Severity {incident.severity.code}"
                    + (
                        f" ({incident.severity_reason})"
                        if incident.severity_reason
                        else ""
                    ),
                    severity=incident.severity.code,
                    imported=True,
                ),
            )
        )
    for role, user in roles.items():
        steps.append(
            (
                incident.acknowledged_at or incident.detected_at,
                entries.role(
                    summary=f"{user.display_name} held {role.name.lower()}",
                    role=role.slug,
                    user=user.username,
                    imported=True,
                ),
            )
        )
    previous = Status.TRIAGE
    for name, status in (
        ("acknowledged_at", Status.INVESTIGATING),
        ("mitigated_at", Status.MITIGATED),
        ("resolved_at", Status.RESOLVED),
        ("closed_at", Status.CLOSED),
    ):
        when = getattr(incident, name)
        if when is None:
            continue
        note = incident.resolution_summary if status == Status.RESOLVED else ""
        steps.append(
            (
                when,
                entries.status(
                    summary=f"Moved from {previous} to {status}"
                    + (f": {note}" if note else ""),
                    previous=previous,
                    status=status,
                    note=note,
                    imported=True,
                ),
            )
        )
        previous = status
    return sorted(steps, key=lambda step: step[0])


def _history_entries(incident: Incident, *, actor, roles) -> None:
    """The imported incident's timeline, at its original times."""
    label = history_label(actor)
    steps = history_steps(incident, roles=roles)
    tail: tuple = ()
    row = None
    for when, step in steps:
        row = timeline_append(
            incident=incident,
            entry=step,
            actor=None,
            actor_label=label,
            occurred_at=when,
            tail=tail,
            seal=False,
        )
        tail = (row.sequence, row.hash)
    timeline_seal(entry=row, new_incident=True)


def _shown(value):
    if hasattr(value, "slug"):
        return value.slug
    if hasattr(value, "code"):
        return value.code
    if hasattr(value, "username"):
        return value.username
    return value


def _update(*, incident: Incident, actor, digest, fields, roles, now) -> Incident:
    changes = model_update(incident, fields, shown=_shown)
    incident.import_digest = digest
    incident.imported_at = now
    _save(incident, actor)
    current = {a.role_id: a for a in incident.assignments.filter(ended_at__isnull=True)}
    for role, user in roles.items():
        held = current.get(role.pk)
        if held is not None and held.user_id == user.pk:
            continue
        if held is not None:
            held.ended_at = now
            _save(held, actor)
        _save(
            RoleAssignment(
                incident=incident,
                role=role,
                user=user,
                assigned_by=actor,
                started_at=incident.acknowledged_at or incident.detected_at,
                note="imported",
            ),
            actor,
        )
        changes[f"role:{role.slug}"] = {
            "from": held.user.username if held else None,
            "to": user.username,
        }
    if incident.restricted:
        _grant_restricted_access(incident)
    if changes:
        origin = SOURCE_LABELS.get(incident.external_source, incident.external_source)
        timeline_record(
            incident=incident,
            actor=actor,
            occurred_at=now,
            entry=entries.field_change(
                summary=f"Re-imported from {origin}: changed "
                + ", ".join(name.replace("_", " ") for name in changes),
                changes=changes,
                imported=True,
            ),
        )
    return incident
