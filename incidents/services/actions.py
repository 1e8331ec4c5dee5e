"""Playbooks and the action items they create."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidentops.exceptions import DomainError
from incidentops.services import model_update
from incidentops.text import neutralise_bidi
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import (
    ActionItem,
    Incident,
    Playbook,
    PlaybookApplication,
    Role,
)
from incidents.services.base import (
    _changed,
    _label,
    _lock,
    _require,
    _save,
)
from incidents.services.timeline import timeline_record


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
            title=neutralise_bidi(step.title).strip(),
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
        actor=actor,
        occurred_at=now,
        entry=entries.playbook(
            summary=f"Playbook “{playbook.name}” applied: {len(actions)} action(s)"
            + (f"; roles needed: {', '.join(required)}" if required else ""),
            playbook=playbook.pk,
            name=playbook.name,
            severity=incident.severity.code if incident.severity else None,
            actions=[a.pk for a in actions],
            required_roles=required,
        ),
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
    title = neutralise_bidi(title or "").strip()
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
        actor=actor,
        occurred_at=now,
        entry=entries.action(
            summary=f"{_label(actor)} added action “{title}”"
            + (f" for {_label(owner)}" if owner else ""),
            change="created",
            action=action.pk,
            title=title,
        ),
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
        fields["title"] = neutralise_bidi(fields["title"] or "").strip()
        if not fields["title"]:
            raise DomainError("An action needs a title.", field="title")
    now = now or timezone.now()
    _lock(incident)
    action = ActionItem.objects.select_for_update().get(pk=action.pk)

    changes = model_update(action, fields, shown=_action_display)
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
        actor=actor,
        occurred_at=now,
        entry=entries.action(
            summary=f"{_label(actor)} updated action “{action.title}”: "
            + ", ".join(name.replace("_", " ") for name in changes),
            change="updated",
            action=action.pk,
            changes=changes,
        ),
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
