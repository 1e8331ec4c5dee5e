"""Every write in the incident core, one function per verb.

Each service takes keyword arguments only, checks its permission rule
(``incidents.permissions``) and preconditions once, raises a domain error
(``incidentops.exceptions``) with a reason a person can read, writes its rows with
the acting user recorded in history, appends its timeline entries and publishes
its domain events (``incidents.events``).

``now`` parameters let history be back-dated (the demo seed, imports); they
default to the real time. ``actor=None`` means the system.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from incidentops.exceptions import DomainError, InvalidTransition, NotPermitted
from incidents import events, permissions
from incidents.models import (
    COMMANDER,
    ActionItem,
    Incident,
    IncidentReferenceCounter,
    IncidentType,
    Integration,
    Playbook,
    PlaybookApplication,
    Role,
    RoleAssignment,
    SeverityLevel,
    StakeholderUpdate,
    TimelineEntry,
)
from incidents.triage import suggest_for

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


# --- helpers ------------------------------------------------------------------


def _save(instance, actor, **kwargs) -> None:
    # simple-history reads the acting user from here outside a request (tasks,
    # commands, services called from a service).
    instance._history_user = actor
    instance.save(**kwargs)


def _label(user) -> str:
    if user is None:
        return "IncidentOps"
    return user.display_name


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
    """Reporter, current role holders and the type's groups may see it."""
    if incident.reporter_id:
        _grant(incident.reporter, incident)
    for assignment in incident.current_assignments():
        _grant(assignment.user, incident)
    if incident.incident_type_id:
        for group in incident.incident_type.restricted_groups.all():
            assign_perm("incidents.view_incident", group, incident)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise NotPermitted(message)


# --- the timeline -------------------------------------------------------------


@transaction.atomic
def timeline_record(
    *,
    incident: Incident,
    kind: str,
    summary: str,
    actor=None,
    data: dict | None = None,
    occurred_at: datetime | None = None,
    actor_label: str | None = None,
) -> TimelineEntry:
    """Append one entry to the incident's hash-chained timeline.

    The one public way to write the timeline; notifications and reviews call it to
    log communications, reminders and review events. It checks no permission (the
    caller's service did). Changes: one ``TimelineEntry``. Sends nothing.
    Locks the incident row, so entries of one incident are numbered and chained
    one at a time even under concurrency.
    """
    list(
        Incident.objects.select_for_update()
        .filter(pk=incident.pk)
        .values_list("pk", flat=True)
    )
    last = (
        TimelineEntry.objects.filter(incident_id=incident.pk)
        .order_by("-sequence")
        .values_list("sequence", "hash")
        .first()
    )
    sequence, prev_hash = (
        (last[0] + 1, last[1]) if last else (1, TimelineEntry.GENESIS_HASH)
    )
    entry = TimelineEntry(
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
    entry.hash = entry.compute_hash()
    entry.save()
    return entry


# --- declare and edit ---------------------------------------------------------


@transaction.atomic
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
    detected_at: datetime | None = None,
    now: datetime | None = None,
    integration: Integration | None = None,
    dedup_key: str = "",
) -> Incident:
    """Declare an incident: it starts in ``triage``.

    Changes: a new ``Incident`` with the next ``INC-<year>-<nnnn>`` reference
    (year of ``now``), the triage suggestion stored on it (type, severity,
    confidence, rationale, similar), timeline entries ``declared`` and
    ``severity_suggested``; when restricted (default: the type's
    ``restricted_by_default``), guardian grants to the reporter and the type's
    groups. ``detected_at``/``now`` back-date it. ``integration``/``dedup_key``
    come from alert ingestion.
    Sends: ``incident_declared``, ``incident_changed("declared")``.
    Raises: ``NotPermitted`` if ``actor`` may not declare; ``DomainError`` for a
    blank title or a dedup key without an integration; ``OpenIncidentExists`` if
    the integration already has an open incident for ``dedup_key`` (also when a
    concurrent declare won the race).
    """
    now = now or timezone.now()
    detected_at = detected_at or now
    _require(
        permissions.can_declare(actor, integration=integration),
        "You may not declare incidents.",
    )
    title = (title or "").strip()
    if not title:
        raise DomainError("An incident needs a title.", field="title")
    if dedup_key and integration is None:
        raise DomainError("A dedup key needs an integration.", field="dedup_key")
    if detected_at > now:
        raise DomainError(
            "Detection time cannot be in the future.", field="detected_at"
        )
    if integration is not None and dedup_key:
        existing = Incident.objects.open().filter(
            integration=integration, dedup_key=dedup_key
        )
        if existing.exists():
            raise OpenIncidentExists(existing.get())
    if restricted is None:
        restricted = bool(incident_type and incident_type.restricted_by_default)

    suggestion = suggest_for(
        title=title,
        description=description,
        impact=impact,
        customer_facing=customer_facing,
        data_exposed=data_exposed,
        regulatory=regulatory,
        incident_type=incident_type.slug if incident_type else None,
        affected_services=affected_services or (),
        affected_sites=affected_sites or (),
        affected_suppliers=affected_suppliers or (),
    )
    incident = Incident(
        reference=IncidentReferenceCounter.next_reference(now.year),
        title=title,
        description=description,
        impact=impact,
        status=Status.TRIAGE,
        created_at=now,
        detected_at=detected_at,
        customer_facing=customer_facing,
        data_exposed=data_exposed,
        regulatory=regulatory,
        affected_services=_tags(affected_services),
        affected_sites=_tags(affected_sites),
        affected_suppliers=_tags(affected_suppliers),
        restricted=restricted,
        incident_type=incident_type,
        suggested_severity=SeverityLevel.objects.filter(
            code=suggestion.severity
        ).first(),
        suggested_type=IncidentType.objects.filter(
            slug=suggestion.incident_type
        ).first(),
        suggestion=_json(suggestion.as_dict()),
        reporter=actor,
        integration=integration,
        dedup_key=dedup_key,
    )
    try:
        # A savepoint, so a lost race on the dedup constraint leaves the outer
        # transaction usable for the caller's lookup.
        with transaction.atomic():
            _save(incident, actor)
    except IntegrityError:
        if integration is None or not dedup_key:
            raise
        winner = Incident.objects.open().filter(
            integration=integration, dedup_key=dedup_key
        )
        raise OpenIncidentExists(winner.get()) from None

    if restricted:
        _grant_restricted_access(incident)
    timeline_record(
        incident=incident,
        kind=Kind.DECLARED,
        actor=actor,
        occurred_at=now,
        summary=f"{_label(actor)} declared {incident.reference}: {title}",
        data={
            "title": title,
            "incident_type": incident_type.slug if incident_type else None,
            "customer_facing": customer_facing,
            "data_exposed": data_exposed,
            "regulatory": regulatory,
            "restricted": restricted,
            "detected_at": detected_at,
            "integration": integration.name if integration else None,
            "dedup_key": dedup_key,
        },
    )
    timeline_record(
        incident=incident,
        kind=Kind.SEVERITY_SUGGESTED,
        actor=None,
        occurred_at=now,
        summary=(
            f"Triage suggests {suggestion.severity or 'no severity'}"
            " and type "
            + (
                f"“{incident.suggested_type.name}”"
                if incident.suggested_type
                else suggestion.incident_type or "unknown"
            )
            + f" ({suggestion.confidence:.0%} confidence); a person must confirm."
        ),
        data=suggestion.as_dict(),
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
    timeline entry listing every change from/to; making it restricted grants
    access to the reporter, role holders and the type's groups. A new type on an
    open incident whose severity is confirmed applies the playbook for (new
    type, severity) once, as confirming the severity would have (see
    ``playbook_apply``; the type change is what is authorised here).
    Sends: ``incident_updated``, ``incident_changed("updated")`` (only if
    something changed), and the playbook's events when one is applied.
    Raises: ``DomainError`` for ``severity``, ``commander``, ``status`` or any
    other field (they change only through their own services), a blank title;
    ``NotPermitted`` if ``actor`` may not edit, or lifts a restriction without
    being an incident manager.
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
        fields["title"] = (fields["title"] or "").strip()
        if not fields["title"]:
            raise DomainError("An incident needs a title.", field="title")
    for name in ("affected_services", "affected_sites", "affected_suppliers"):
        if name in fields:
            fields[name] = _tags(fields[name])
    if fields.get("restricted") is False and locked.restricted:
        _require(
            permissions.can_change_restriction(actor, locked),
            "Only an incident manager may lift a restriction.",
        )

    changes: dict[str, dict] = {}
    for name, value in fields.items():
        current = getattr(locked, name)
        if current != value:
            changes[name] = {"from": _display(current), "to": _display(value)}
            setattr(locked, name, value)
    if not changes:
        _refresh_into(incident, locked)
        return incident

    _save(locked, actor)
    if locked.restricted and ("restricted" in changes or "incident_type" in changes):
        _grant_restricted_access(locked)
    timeline_record(
        incident=locked,
        kind=Kind.FIELD_CHANGE,
        actor=actor,
        occurred_at=now,
        summary=f"{_label(actor)} changed "
        + ", ".join(name.replace("_", " ") for name in changes),
        data={"changes": changes},
    )
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


# --- severity -----------------------------------------------------------------


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
        kind=Kind.SEVERITY_CONFIRMED,
        actor=actor,
        occurred_at=now,
        summary=f"{_label(actor)} {verb} severity {severity.code}"
        + (f" (was {previous.code})" if previous and verb != "re-confirmed" else "")
        + (f": {reason}" if reason else ""),
        data={
            "severity": severity.code,
            "previous": previous.code if previous else None,
            "suggested": suggested,
            "matches_suggestion": suggested == severity.code,
            "reason": reason,
        },
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


@transaction.atomic
def incident_record_suggestion(
    *,
    incident: Incident,
    severity: SeverityLevel,
    rationale: str,
    label: str,
    actor,
    now: datetime | None = None,
) -> Incident:
    """An alert's label suggests a severity; only a person confirms one
    (control 2), so this touches the suggestion alone.

    Changes: under the incident's row lock, ``suggested_severity`` and the
    stored ``suggestion`` (its severity, and ``rationale`` prefixed to the one
    already stored), with ``actor`` (the integration's account) in the history;
    a ``severity_suggested`` timeline entry. Nothing if the locked row already
    suggests ``severity``.
    Sends: nothing beyond the timeline entry's own signal.
    Raises: nothing of its own.
    """
    now = now or timezone.now()
    locked = _lock(incident)
    if locked.suggested_severity_id == severity.pk:
        _refresh_into(incident, locked)
        return incident
    previous = locked.suggested_severity.code if locked.suggested_severity else None
    suggestion = dict(locked.suggestion or {})
    suggestion["severity"] = severity.code
    suggestion["rationale"] = "; ".join(
        filter(None, [rationale, suggestion.get("rationale", "")])
    )
    locked.suggested_severity = severity
    locked.suggestion = suggestion
    _save(locked, actor, update_fields=["suggested_severity", "suggestion"])
    timeline_record(
        incident=locked,
        kind=Kind.SEVERITY_SUGGESTED,
        actor=None,
        occurred_at=now,
        summary=f"The alert suggests {severity.code} (was {previous or 'none'}); "
        "a person must confirm.",
        data={"severity": severity.code, "previous": previous, "label": label},
    )
    _refresh_into(incident, locked)
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


# --- playbooks and actions ----------------------------------------------------


@transaction.atomic
def playbook_apply(
    *,
    incident: Incident,
    playbook: Playbook,
    actor,
    now: datetime | None = None,
) -> PlaybookApplication | None:
    """Apply a playbook once: its steps become action items.

    Changes: a ``PlaybookApplication`` (unique per incident and playbook), one
    ``ActionItem`` per step (owner = the current holder of the step's role, due
    = severity confirmation + the step's offset), a ``playbook`` timeline entry
    naming the required roles. Returns None, changing nothing, if the playbook
    was already applied.
    Sends: ``playbook_applied``, ``action_changed`` per action,
    ``incident_changed("playbook_applied")``.
    Raises: ``NotPermitted`` if ``actor`` may not manage actions;
    ``DomainError`` if the playbook belongs to another incident type.
    """
    _require(
        permissions.can_apply_playbook(actor, incident),
        "You may not apply playbooks to this incident.",
    )
    return _playbook_apply(incident=incident, playbook=playbook, actor=actor, now=now)


def _playbook_apply(
    *, incident: Incident, playbook: Playbook, actor, now: datetime | None
) -> PlaybookApplication | None:
    # ``playbook_apply`` without its permission check, for services whose own
    # authorised change has the playbook as its consequence (a new type).
    if playbook.incident_type_id != incident.incident_type_id:
        raise DomainError("This playbook is for another incident type.")
    now = now or timezone.now()
    _lock(incident)
    try:
        with transaction.atomic():
            application = PlaybookApplication.objects.create(
                incident=incident,
                playbook=playbook,
                severity=incident.severity,
                applied_at=now,
                applied_by=actor,
            )
    except IntegrityError:
        return None

    holders = {a.role_id: a.user for a in incident.current_assignments()}
    base = incident.severity_confirmed_at or now
    actions = []
    for step in playbook.steps.select_related("owner_role"):
        action = ActionItem(
            incident=incident,
            title=step.title,
            description=step.description,
            role=step.owner_role,
            owner=holders.get(step.owner_role_id),
            due_at=base + step.due_offset if step.due_offset is not None else None,
            priority=step.priority,
            playbook_step=step,
            created_by=actor,
            created_at=now,
        )
        _save(action, actor)
        actions.append(action)
    required = list(playbook.required_roles.values_list("slug", flat=True))
    timeline_record(
        incident=incident,
        kind=Kind.PLAYBOOK,
        actor=actor,
        occurred_at=now,
        summary=f"Playbook “{playbook.name}” applied: {len(actions)} action(s)"
        + (f"; roles needed: {', '.join(required)}" if required else ""),
        data={
            "playbook": playbook.pk,
            "name": playbook.name,
            "severity": incident.severity.code if incident.severity else None,
            "actions": [a.pk for a in actions],
            "required_roles": required,
        },
    )
    events.playbook_applied.send(
        sender=Incident, application=application, actions=actions, actor=actor
    )
    for action in actions:
        events.action_changed.send(
            sender=Incident, action=action, actor=actor, created=True
        )
    _changed(incident, "playbook_applied", actor, {"playbook": playbook.name})
    return application


@transaction.atomic
def action_create(
    *,
    incident: Incident,
    actor,
    title: str,
    description: str = "",
    owner=None,
    role: Role | None = None,
    due_at: datetime | None = None,
    priority: str = ActionItem.Priority.MEDIUM,
    now: datetime | None = None,
) -> ActionItem:
    """Add an action item to an incident.

    Changes: a new ``ActionItem`` (history records ``actor``), an ``action``
    timeline entry. Sends: ``action_changed(created=True)``, ``incident_changed``.
    Raises: ``NotPermitted`` if ``actor`` may not manage the incident's actions;
    ``DomainError`` for a blank title, an unknown priority or an inactive owner.
    """
    _require(
        permissions.can_manage_actions(actor, incident),
        "You may not manage this incident's actions.",
    )
    title = (title or "").strip()
    if not title:
        raise DomainError("An action needs a title.", field="title")
    if priority not in ActionItem.Priority.values:
        raise DomainError(f"Unknown priority {priority!r}.", field="priority")
    if owner is not None and not owner.is_active:
        raise DomainError("The owner's account is inactive.", field="owner")
    now = now or timezone.now()
    action = ActionItem(
        incident=incident,
        title=title,
        description=description,
        owner=owner,
        role=role,
        due_at=due_at,
        priority=priority,
        created_by=actor,
        created_at=now,
    )
    _save(action, actor)
    timeline_record(
        incident=incident,
        kind=Kind.ACTION,
        actor=actor,
        occurred_at=now,
        summary=f"{_label(actor)} added action “{title}”"
        + (f" for {_label(owner)}" if owner else ""),
        data={"action": action.pk, "change": "created", "title": title},
    )
    events.action_changed.send(
        sender=Incident, action=action, actor=actor, created=True
    )
    _changed(incident, "action_changed", actor, {"action": action.pk})
    return action


ACTION_EDITABLE = (
    "title",
    "description",
    "owner",
    "role",
    "due_at",
    "priority",
    "status",
)


def _action_display(value):
    if hasattr(value, "username"):
        return value.username
    if isinstance(value, Role):
        return value.slug
    return value


@transaction.atomic
def action_update(
    *, action: ActionItem, actor, now: datetime | None = None, **fields: Any
) -> ActionItem:
    """Change an action item: title, description, owner, role, due_at, priority,
    status (``done`` sets completed_at/by; leaving ``done`` clears them).

    Changes: the action (history records ``actor``), an ``action`` timeline entry
    listing the changes. Sends: ``action_changed(created=False)``,
    ``incident_changed`` (if something changed).
    Raises: ``NotPermitted`` if ``actor`` may not manage the incident's actions;
    ``DomainError`` for other fields, an unknown status or priority, a blank
    title.
    """
    for name in fields:
        if name not in ACTION_EDITABLE:
            raise DomainError(f"{name} cannot be changed here.", field=name)
    incident = action.incident
    _require(
        permissions.can_manage_actions(actor, incident),
        "You may not manage this incident's actions.",
    )
    if "status" in fields and fields["status"] not in ActionItem.Status.values:
        raise DomainError(f"Unknown status {fields['status']!r}.", field="status")
    if "priority" in fields and fields["priority"] not in ActionItem.Priority.values:
        raise DomainError(f"Unknown priority {fields['priority']!r}.", field="priority")
    if "title" in fields:
        fields["title"] = (fields["title"] or "").strip()
        if not fields["title"]:
            raise DomainError("An action needs a title.", field="title")
    now = now or timezone.now()
    _lock(incident)
    action = ActionItem.objects.select_for_update().get(pk=action.pk)

    changes: dict[str, dict] = {}
    for name, value in fields.items():
        current = getattr(action, name)
        if current != value:
            changes[name] = {
                "from": _action_display(current),
                "to": _action_display(value),
            }
            setattr(action, name, value)
    if not changes:
        return action
    if "status" in changes:
        if action.status == ActionItem.Status.DONE:
            action.completed_at, action.completed_by = now, actor
        else:
            action.completed_at, action.completed_by = None, None
    _save(action, actor)
    timeline_record(
        incident=incident,
        kind=Kind.ACTION,
        actor=actor,
        occurred_at=now,
        summary=f"{_label(actor)} updated action “{action.title}”: "
        + ", ".join(name.replace("_", " ") for name in changes),
        data={"action": action.pk, "change": "updated", "changes": changes},
    )
    events.action_changed.send(
        sender=Incident, action=action, actor=actor, created=False
    )
    _changed(incident, "action_changed", actor, {"action": action.pk})
    return action


def action_complete(
    *, action: ActionItem, actor, now: datetime | None = None
) -> ActionItem:
    """Mark an action done (see ``action_update``: completed_at/by, timeline,
    ``action_changed``). Raises ``DomainError`` if it is already done or
    cancelled; ``NotPermitted`` as ``action_update``."""
    if action.is_finished:
        raise DomainError(f"This action is already {action.get_status_display()}.")
    return action_update(
        action=action, actor=actor, now=now, status=ActionItem.Status.DONE
    )


# --- roles --------------------------------------------------------------------


@transaction.atomic
def incident_assign_role(
    *,
    incident: Incident,
    actor,
    role: Role,
    user,
    note: str = "",
    now: datetime | None = None,
) -> RoleAssignment:
    """Give ``user`` a role on the incident, handing over from the current holder.

    Changes: the current assignment (if any) is ended, kept; a new current
    ``RoleAssignment``; guardian view/change on the incident for ``user``; the
    first commander sets ``acknowledged_at``; a ``role`` timeline entry.
    Sends: ``incident_role_assigned``, ``incident_changed("role_assigned")``.
    Raises: ``DomainError`` if a human-only role (always the commander) goes to a
    service account or an inactive user, if ``user`` already holds it, or the
    incident is closed; ``NotPermitted`` unless ``actor`` is an incident
    manager, the commander, or a responder taking command of an incident nobody
    commands.
    """
    if user is None or not user.is_active:
        raise DomainError("Roles go to active accounts only.", field="user")
    if role.requires_human and not user.is_human:
        raise DomainError(
            f"The {role.name.lower()} must be a person, not a service account.",
            field="user",
            code="not_human",
        )
    _require(
        permissions.can_assign_role(actor, incident, role=role, assignee=user),
        "Only an incident manager or the incident's commander may assign roles.",
    )
    now = now or timezone.now()
    locked = _lock(incident)
    if locked.status == Status.CLOSED:
        raise DomainError("Roles cannot change on a closed incident; reopen it.")
    previous = (
        RoleAssignment.objects.select_for_update()
        .filter(incident=locked, role=role, ended_at__isnull=True)
        .select_related("user")
        .first()
    )
    if previous is not None and previous.user_id == user.pk:
        raise DomainError(f"{_label(user)} already holds this role.", field="user")
    if previous is not None:
        previous.ended_at = now
        _save(previous, actor)
    assignment = RoleAssignment(
        incident=locked,
        role=role,
        user=user,
        assigned_by=actor,
        started_at=now,
        note=note,
    )
    _save(assignment, actor)
    _grant(user, locked)
    if role.slug == COMMANDER and locked.acknowledged_at is None:
        locked.acknowledged_at = now
        _save(locked, actor)

    summary = f"{_label(user)} is now {role.name.lower()}"
    if previous is not None:
        summary += f", taking over from {_label(previous.user)}"
    if actor is not None and actor.pk != user.pk:
        summary += f" (assigned by {_label(actor)})"
    timeline_record(
        incident=locked,
        kind=Kind.ROLE,
        actor=actor,
        occurred_at=now,
        summary=summary + (f": {note}" if note else ""),
        data={
            "role": role.slug,
            "user": user.username,
            "previous": previous.user.username if previous else None,
            "note": note,
        },
    )
    _refresh_into(incident, locked)
    assignment.incident = incident
    events.incident_role_assigned.send(
        sender=Incident,
        assignment=assignment,
        previous_assignment=previous,
        actor=actor,
    )
    _changed(
        incident, "role_assigned", actor, {"role": role.slug, "user": user.username}
    )
    return assignment


# --- lifecycle ----------------------------------------------------------------


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
    now: datetime | None = None,
) -> Incident:
    """Move the incident along its lifecycle (``Incident.TRANSITIONS``).

    Changes: ``status`` and its timestamp: ``mitigated_at``; ``resolved_at`` (and
    ``mitigated_at`` if unset); ``closed_at``. Resolving stores
    ``resolution_summary`` (or the note, if none is given). Reopening (resolved
    or closed → investigating, or mitigated → investigating) clears the later
    timestamps, since the incident is no longer in that state; the earlier
    values stay in the history and on the timeline. A ``status`` timeline entry
    with the note.
    Sends: ``incident_status_changed``; ``incident_resolved`` when resolving;
    ``incident_changed("status_changed")``.
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
    if status not in Status.values:
        raise InvalidTransition(f"Unknown status {status!r}.", field="status")
    if not locked.can_transition_to(status):
        raise InvalidTransition(
            f"An incident cannot go from {previous} to {status}.", field="status"
        )
    if previous == Status.TRIAGE:
        problems = _leave_triage_problems(locked)
        if problems:
            raise InvalidTransition(
                "It cannot leave triage: " + " and ".join(problems) + ".",
                field="status",
            )

    locked.status = status
    if status == Status.INVESTIGATING:
        if previous in (Status.MITIGATED, Status.RESOLVED, Status.CLOSED):
            locked.mitigated_at = locked.resolved_at = locked.closed_at = None
        if locked.acknowledged_at is None:
            locked.acknowledged_at = now
    elif status == Status.MITIGATED:
        locked.mitigated_at = now
    elif status == Status.RESOLVED:
        locked.resolved_at = now
        locked.mitigated_at = locked.mitigated_at or now
        summary_text = resolution_summary if resolution_summary is not None else note
        if summary_text:
            locked.resolution_summary = summary_text
    elif status == Status.CLOSED:
        locked.closed_at = now
    reopening = (
        previous in Incident.CLOSED_STATUSES and status not in Incident.CLOSED_STATUSES
    )
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
    verb = "reopened" if reopening else "moved"
    timeline_record(
        incident=locked,
        kind=Kind.STATUS,
        actor=actor,
        occurred_at=now,
        summary=f"{_label(actor)} {verb} it from {previous} to {status}"
        + (f": {note}" if note else ""),
        data={"from": previous, "to": status, "note": note},
    )
    _refresh_into(incident, locked)
    events.incident_status_changed.send(
        sender=Incident, incident=incident, previous_status=previous, actor=actor
    )
    if status == Status.RESOLVED:
        events.incident_resolved.send(sender=Incident, incident=incident, actor=actor)
    _changed(incident, "status_changed", actor, {"from": previous, "to": status})
    return incident


def _refuse_second_open_for_alert(incident: Incident, *, fallback=False) -> None:
    # Reopening an alert-raised incident while a newer one is open for the same
    # (integration, dedup_key) would break incident_one_open_per_dedup_key.
    other = (
        Incident.objects.filter(
            integration_id=incident.integration_id, dedup_key=incident.dedup_key
        )
        .exclude(pk=incident.pk)
        .exclude(status__in=Incident.CLOSED_STATUSES)
        .order_by("-created_at")
        .first()
    )
    if other is not None:
        raise InvalidTransition(
            f"It cannot be reopened: {other.reference} is open for the same alert "
            f"({incident.dedup_key}); work on that one instead.",
            field="status",
        )
    if fallback:
        raise InvalidTransition(
            "It cannot be reopened: another incident is open for the same alert "
            f"({incident.dedup_key}).",
            field="status",
        )


# --- notes and stakeholder updates ----------------------------------------------


@transaction.atomic
def incident_add_note(
    *, incident: Incident, actor, body: str, now: datetime | None = None
) -> TimelineEntry:
    """Add a note to the timeline.

    Changes: a ``note`` timeline entry. Sends nothing.
    Raises: ``NotPermitted`` if ``actor`` may not add notes; ``DomainError`` for
    an empty note.
    """
    _require(
        permissions.can_add_note(actor, incident),
        "You may not add notes to this incident.",
    )
    body = (body or "").strip()
    if not body:
        raise DomainError("A note cannot be empty.", field="body")
    return timeline_record(
        incident=incident,
        kind=Kind.NOTE,
        actor=actor,
        occurred_at=now,
        summary=body,
        data={},
    )


@transaction.atomic
def stakeholder_update_post(
    *, incident: Incident, actor, body: str, now: datetime | None = None
) -> StakeholderUpdate:
    """Post an update for stakeholders.

    Changes: a ``StakeholderUpdate``, a ``stakeholder_update`` timeline entry.
    Sends: ``stakeholder_update_posted`` (notifications fans it out to the
    incident's lists and logs each delivery), ``incident_changed``.
    Raises: ``NotPermitted`` if ``actor`` may not post updates; ``DomainError``
    for an empty body.
    """
    _require(
        permissions.can_post_update(actor, incident),
        "You may not post updates on this incident.",
    )
    body = (body or "").strip()
    if not body:
        raise DomainError("An update cannot be empty.", field="body")
    now = now or timezone.now()
    update = StakeholderUpdate(
        incident=incident, body=body, author=actor, created_at=now
    )
    _save(update, actor)
    timeline_record(
        incident=incident,
        kind=Kind.STAKEHOLDER_UPDATE,
        actor=actor,
        occurred_at=now,
        summary=f"{_label(actor)} posted a stakeholder update: {body}",
        data={"update": update.pk},
    )
    events.stakeholder_update_posted.send(sender=Incident, update=update, actor=actor)
    _changed(incident, "stakeholder_update", actor, {"update": update.pk})
    return update


# --- integrations -------------------------------------------------------------


@transaction.atomic
def integration_create(
    *,
    actor,
    name: str,
    kind: str,
    service_account,
    default_incident_type: IncidentType | None = None,
    severity_label_map: dict[str, str] | None = None,
    resolve_moves_to_mitigated: bool = False,
    rate_limit_per_minute: int = 1200,
) -> tuple[Integration, str]:
    """Create an alert integration; returns it and its secret, shown only now.

    Changes: a new ``Integration`` storing only the secret's hash. Sends nothing.
    Raises: ``NotPermitted`` unless ``actor`` may manage integrations
    (``actor=None``: the system, e.g. a management command); ``DomainError`` for
    an unknown kind, a duplicate name, an account that is not a service account
    or a label map naming unknown severities.
    """
    if actor is not None:
        _require(
            permissions.can_manage_integrations(actor),
            "You may not manage integrations.",
        )
    if kind not in Integration.Kind.values:
        raise DomainError(f"Unknown integration kind {kind!r}.", field="kind")
    if not service_account.is_service_account:
        raise DomainError(
            "An integration acts through a service account.", field="service_account"
        )
    if Integration.objects.filter(name=name).exists():
        raise DomainError(f"An integration named {name!r} exists.", field="name")
    label_map = dict(severity_label_map or {})
    unknown = set(label_map.values()) - set(
        SeverityLevel.objects.values_list("code", flat=True)
    )
    if unknown:
        raise DomainError(
            "Unknown severities in the label map: " + ", ".join(sorted(unknown)),
            field="severity_label_map",
        )
    secret = Integration.generate_secret()
    integration = Integration(
        name=name,
        kind=kind,
        service_account=service_account,
        default_incident_type=default_incident_type,
        severity_label_map=label_map,
        resolve_moves_to_mitigated=resolve_moves_to_mitigated,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    integration.set_secret(secret)
    _save(integration, actor)
    return integration, secret


@transaction.atomic
def integration_rotate_secret(*, integration: Integration, actor) -> str:
    """Replace an integration's secret; returns the new one, shown only now.

    Changes: ``secret_hash``. Sends nothing. Raises ``NotPermitted`` unless
    ``actor`` may manage integrations (``None``: the system).
    """
    if actor is not None:
        _require(
            permissions.can_manage_integrations(actor),
            "You may not manage integrations.",
        )
    secret = Integration.generate_secret()
    integration.set_secret(secret)
    _save(integration, actor)
    return secret
