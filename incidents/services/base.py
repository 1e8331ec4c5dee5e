"""Helpers the incident services share: the history actor, locks, grants."""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from guardian.shortcuts import assign_perm

from incidentops.exceptions import DomainError, NotPermitted
from incidentops.services import actor_label, save_as
from incidents import events
from incidents.models import (
    Incident,
    TimelineEntry,
)

Kind = TimelineEntry.Kind
Status = Incident.Status


class OpenIncidentExists(DomainError):
    """An integration already has an open incident for this dedup key."""

    code = "duplicate"

    def __init__(self, incident: Incident):
        super().__init__(
            f"{incident.reference} is already open for this alert.", field="dedup_key"
        )
        self.incident = incident


class DedupRaceLost(Exception):
    """A concurrent declaration for the same integration and dedup key
    committed first, and no savepoint was taken (``incident_declare`` with
    ``deferred=True``): the caller's transaction is unusable; roll it back
    whole and look again, the winner's incident is then there."""


_save = save_as  # the services' short names for the shared helpers
_label = actor_label


def _json(value: Any) -> Any:
    """The value as it will read back from a JSONField, so hashes stay stable."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _tags(values) -> list[str]:
    seen: list[str] = []
    for value in values or ():
        tag = str(value).strip()
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def _changed(incident: Incident, change: str, actor, data: dict | None = None):
    events.incident_changed.send(
        sender=Incident, incident=incident, change=change, actor=actor, data=data or {}
    )


def _lock(incident: Incident) -> Incident:
    """Re-read the incident under a row lock, so concurrent writers take turns."""
    return Incident.objects.select_for_update().get(pk=incident.pk)


def _refresh_into(target: Incident, source: Incident) -> None:
    # The caller's instance should reflect the locked, updated row.
    for field in Incident._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.fields_cache.clear()
    target.__dict__.pop("_current_commander_assignments", None)


def _grant(user, incident: Incident) -> None:
    assign_perm("incidents.view_incident", user, incident)
    assign_perm("incidents.change_incident", user, incident)


def _grant_restricted_access(incident: Incident) -> None:
    """Reporter, current role holders and the type's groups may see it (the
    suggested type's groups while the type is left to triage)."""
    if incident.reporter_id:
        _grant(incident.reporter, incident)
    for assignment in incident.current_assignments():
        _grant(assignment.user, incident)
    incident_type = incident.incident_type or incident.suggested_type
    if incident_type is not None:
        for group in incident_type.restricted_groups.all():
            assign_perm("incidents.view_incident", group, incident)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotPermitted(message)
