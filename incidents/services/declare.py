"""Declaring an incident and editing its plain fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError
from incidentops.services import model_update
from incidentops.text import neutralise_bidi
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import (
    Incident,
    IncidentReferenceCounter,
    IncidentService,
    IncidentType,
    Integration,
    Playbook,
    Service,
    SeverityLevel,
)
from incidents.services.actions import _playbook_apply
from incidents.services.base import (
    OpenIncidentExists,
    Status,
    _changed,
    _grant_restricted_access,
    _json,
    _label,
    _lock,
    _refresh_into,
    _require,
    _save,
    _tags,
)
from incidents.services.catalog import _link as _link_services
from incidents.services.catalog import _links_follow_tags, services_named
from incidents.services.declare_alerts import (
    _declare_deferred,
    _insert_or_raise_duplicate,
    _suggestion_summary,
    triage_suggestion,
)
from incidents.services.restriction import (
    restriction_on_declare,
    restriction_on_type_change,
)
from incidents.services.timeline import timeline_record


def incident_declare(
    *,
    actor,
    title: str,
    description: str = "",
    impact: str = "",
    incident_type: IncidentType | None = None,
    customer_facing: bool = False,
    data_exposed: bool = False,
    regulatory: bool = False,
    restricted: bool | None = None,
    affected_services: list[str] | None = None,
    affected_sites: list[str] | None = None,
    affected_suppliers: list[str] | None = None,
    services: list[Service] | None = None,
    detected_at: datetime | None = None,
    impact_started_at: datetime | None = None,
    now: datetime | None = None,
    integration: Integration | None = None,
    dedup_key: str = "",
    deferred: bool = False,
    suggested_severity: SeverityLevel | None = None,
    suggestion_rationale: str = "",
) -> Incident:
    """Declare an incident: it starts in ``triage``.

    Changes: a new ``Incident`` with the next ``INC-<year>-<nnnn>`` reference
    (year of ``now``), the triage suggestion stored on it (type, severity,
    confidence, rationale, similar), timeline entries ``declared`` and
    ``severity_suggested``; when restricted, guardian grants to the reporter
    and the type's groups. ``restricted`` None lets the type decide: a type
    restricted by default restricts it, and so does a suggested one when the
    type is left to triage (the rationale says why; see
    ``services.restriction``). ``detected_at``/``now`` back-date it;
    ``impact_started_at`` (when the impact began, before or at detection)
    defaults to ``detected_at``. ``integration``/``dedup_key`` come from alert
    ingestion. ``services``: catalog services it affects; they
    and the catalog services ``affected_services`` names (by slug or name) are
    linked as records (``IncidentService``, source ``declare``) with a
    ``services`` timeline entry, and their slugs join ``affected_services``.
    ``deferred`` (alert ingestion, which must answer a storm fast and in
    parallel): the suggestion is only ``suggested_severity`` with
    ``suggestion_rationale`` for now, and nothing is sent yet; the reference is
    provisional until the caller draws it with ``incident_number`` as its
    transaction's last write (so concurrent declares queue on the year's
    counter only while committing); after commit, ``incident_complete_declaration``
    adds the triage suggestion and sends what a declaration sends; it runs in
    the caller's transaction and ``timeline_batch``, without a savepoint.
    Sends: ``incident_declared``, ``incident_changed("declared")`` (deferred: none).
    Raises: ``NotPermitted`` if ``actor`` may not declare, or declares a
    restricted-by-default type unrestricted without being allowed to lift
    restrictions; ``DomainError`` for a blank title, a dedup key without an
    integration, or a detection or impact start in the future (or before 1970);
    ``OpenIncidentExists`` if the integration already has an open incident for
    ``dedup_key`` (a concurrent declare won the race: deferred, ``DedupRaceLost``).
    """
    now = now or timezone.now()
    detected_at = detected_at or now
    title = _check_declaration(
        actor, title, integration, dedup_key, detected_at, now, deferred
    )
    impact_started_at = _checked_impact_start(impact_started_at or detected_at, now)
    linked = [*(services or ()), *services_named(affected_services or ())]
    affected_services = [*(affected_services or ()), *(s.slug for s in linked)]
    cleared, _ = restriction_on_declare(
        actor=actor,
        restricted=restricted,
        incident_type=incident_type,
        suggested_type=None,
    )
    incident = Incident(
        title=title,
        description=description,
        impact=impact,
        status=Status.TRIAGE,
        created_at=now,
        detected_at=detected_at,
        impact_started_at=impact_started_at,
        customer_facing=customer_facing,
        data_exposed=data_exposed,
        regulatory=regulatory,
        affected_services=_tags(affected_services),
        affected_sites=_tags(affected_sites),
        affected_suppliers=_tags(affected_suppliers),
        restricted=cleared,
        incident_type=incident_type,
        reporter=actor,
        integration=integration,
        dedup_key=dedup_key,
    )
    if deferred:
        return _declare_deferred(
            incident=incident,
            now=now,
            suggested_severity=suggested_severity,
            rationale=suggestion_rationale,
        )
    return _declare_now(
        incident, actor, now, asked_restricted=restricted, services=linked
    )


def _check_declaration(
    actor, title, integration, dedup_key, detected_at, now, deferred
) -> str:
    """``incident_declare``'s preconditions; returns the stripped title."""
    _require(
        permissions.can_declare(actor, integration=integration),
        "You may not declare incidents.",
    )
    title = neutralise_bidi(title or "").strip()
    if not title:
        raise DomainError("An incident needs a title.", field="title")
    if dedup_key and integration is None:
        raise DomainError("A dedup key needs an integration.", field="dedup_key")
    if detected_at > now:
        raise DomainError(
            "Detection time cannot be in the future.", field="detected_at"
        )
    if integration is not None and dedup_key and not deferred:
        # (deferred: the caller looked under its lock; the constraint decides)
        existing = Incident.objects.open().filter(
            integration=integration, dedup_key=dedup_key
        )
        if existing.exists():
            raise OpenIncidentExists(existing.get())
    return title


def _checked_impact_start(impact_started_at: datetime, now: datetime) -> datetime:
    """``impact_started_at``, or ``DomainError`` when it is in the future or
    before 1970."""
    if impact_started_at > now:
        raise DomainError(
            "The impact cannot start in the future.", field="impact_started_at"
        )
    if impact_started_at.year < 1970:
        raise DomainError(
            "The impact cannot start before 1970.", field="impact_started_at"
        )
    return impact_started_at


@transaction.atomic
def _declare_now(
    incident: Incident,
    actor,
    now: datetime,
    *,
    asked_restricted: bool | None,
    services: list[Service] = (),
) -> Incident:
    """``incident_declare`` without ``deferred``: the triage suggestion, the
    reference, the row, its grants, both entries and the events, at once.
    ``asked_restricted``: what the reporter asked (the suggested type may
    restrict it)."""
    suggestion = triage_suggestion(incident)
    incident.reference = IncidentReferenceCounter.next_reference(now.year)
    incident.suggested_severity = SeverityLevel.objects.filter(
        code=suggestion.severity
    ).first()
    incident.suggested_type = IncidentType.objects.filter(
        slug=suggestion.incident_type
    ).first()
    # Fail-closed: a suggested type that is restricted by default restricts it.
    incident.restricted, why = restriction_on_declare(
        actor=actor,
        restricted=asked_restricted,
        incident_type=incident.incident_type,
        suggested_type=incident.suggested_type,
    )
    stored = suggestion.as_dict()
    if why:
        stored["rationale"] = "; ".join(filter(None, [stored["rationale"], why]))
    incident.suggestion = _json(stored)
    _insert_or_raise_duplicate(incident, actor)
    if incident.restricted:
        _grant_restricted_access(incident)
    incident_type = incident.incident_type
    integration = incident.integration
    timeline_record(
        incident=incident,
        actor=actor,
        occurred_at=now,
        entry=entries.declared(
            summary=f"{_label(actor)} declared {incident.reference}: {incident.title}",
            title=incident.title,
            incident_type=incident_type.slug if incident_type else None,
            customer_facing=incident.customer_facing,
            data_exposed=incident.data_exposed,
            regulatory=incident.regulatory,
            restricted=incident.restricted,
            detected_at=incident.detected_at,
            impact_started_at=incident.impact_started_at,
            integration=integration.name if integration else None,
            dedup_key=incident.dedup_key,
        ),
    )
    timeline_record(
        incident=incident,
        actor=None,
        occurred_at=now,
        entry=entries.severity_suggested(
            summary=_suggestion_summary(suggestion.severity, incident, suggestion)
            + (f" {why}" if why else ""),
            suggestion=stored,
        ),
    )
    if services:
        _link_services(
            incident=incident,
            services=services,
            actor=actor,
            source=IncidentService.Source.DECLARE,
            now=now,
        )
    events.incident_declared.send(sender=Incident, incident=incident, actor=actor)
    _changed(incident, "declared", actor, {"reference": incident.reference})
    return incident


EDITABLE_FIELDS = (
    "title",
    "description",
    "impact",
    "customer_facing",
    "data_exposed",
    "regulatory",
    "restricted",
    "affected_services",
    "affected_sites",
    "affected_suppliers",
    "incident_type",
    "resolution_summary",
)
REFUSED_FIELDS = {
    "severity": "Severity changes only when a person confirms it (confirm-severity).",
    "commander": "The commander changes only through a role assignment (assign-role).",
    "status": "Status changes only through a transition.",
}


def _display(value):
    if isinstance(value, IncidentType):
        return value.slug
    return value


@transaction.atomic
def incident_update(
    *, incident: Incident, actor, now: datetime | None = None, **fields: Any
) -> Incident:
    """Change plain fields: title, description, impact, the three impact flags,
    ``restricted``, the affected services/sites/suppliers tags, ``incident_type``
    and ``resolution_summary``.

    Changes: the incident (history records ``actor``), one ``field_change``
    timeline entry listing every change from/to; changed ``affected_services``
    tags link the catalog services they name and unlink those no tag names
    any more (``services`` timeline entries); making it restricted grants
    access to the reporter, role holders and the type's groups. A new type that
    is restricted by default restricts the incident (unless the same call lifts
    it and ``actor`` may). A new type on an
    open incident whose severity is confirmed applies the playbook for (new
    type, severity) once, as confirming the severity would have (see
    ``playbook_apply``; the type change is what is authorised here).
    Sends: ``incident_updated``, ``incident_changed("updated")`` (only if
    something changed), and the playbook's events when one is applied.
    Raises: ``DomainError`` for ``severity``, ``commander``, ``status`` or any
    other field (they change only through their own services), a blank title;
    ``NotPermitted`` if ``actor`` may not edit, or lifts a restriction (or
    keeps a restricted-by-default new type unrestricted) without being an
    incident manager.
    """
    return _incident_update(
        incident=incident, actor=actor, now=now, fields=fields, apply_playbook=True
    )


def _incident_update(
    *,
    incident: Incident,
    actor,
    now: datetime | None,
    fields: dict[str, Any],
    apply_playbook: bool,
) -> Incident:
    # ``incident_update``'s body; ``incident_classify`` leaves the playbook to
    # the confirmation that follows, so only the final pair's one applies.
    for name in fields:
        if name in REFUSED_FIELDS:
            raise DomainError(REFUSED_FIELDS[name], field=name, code="not_editable")
        if name not in EDITABLE_FIELDS:
            raise DomainError(
                f"{name} cannot be changed here.", field=name, code="not_editable"
            )
    _require(permissions.can_edit(actor, incident), "You may not edit this incident.")
    now = now or timezone.now()
    locked = _lock(incident)

    if "title" in fields:
        fields["title"] = neutralise_bidi(fields["title"] or "").strip()
        if not fields["title"]:
            raise DomainError("An incident needs a title.", field="title")
    for name in ("affected_services", "affected_sites", "affected_suppliers"):
        if name in fields:
            fields[name] = _tags(fields[name])
    restriction_on_type_change(actor=actor, locked=locked, fields=fields)
    if fields.get("restricted") is False and locked.restricted:
        _require(
            permissions.can_change_restriction(actor, locked),
            "Only an incident manager may lift a restriction.",
        )

    changes = model_update(locked, fields, shown=_display)
    if not changes:
        _refresh_into(incident, locked)
        return incident

    _save(locked, actor)
    if locked.restricted and ("restricted" in changes or "incident_type" in changes):
        _grant_restricted_access(locked)
    timeline_record(
        incident=locked,
        actor=actor,
        occurred_at=now,
        entry=entries.field_change(
            summary=f"{_label(actor)} changed "
            + ", ".join(name.replace("_", " ") for name in changes),
            changes=changes,
        ),
    )
    if "affected_services" in changes:
        _links_follow_tags(incident=locked, actor=actor, now=now)
    _refresh_into(incident, locked)
    if apply_playbook and "incident_type" in changes and incident.is_open:
        playbook = Playbook.for_incident(incident.incident_type, incident.severity)
        if playbook is not None:
            _playbook_apply(incident=incident, playbook=playbook, actor=actor, now=now)
    events.incident_updated.send(
        sender=Incident, incident=incident, changes=changes, actor=actor
    )
    _changed(incident, "updated", actor, {"changes": sorted(changes)})
    return incident
