"""Role assignment and handover."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidentops.exceptions import Conflict, DomainError
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import (
    COMMANDER,
    ActionItem,
    Incident,
    Role,
    RoleAssignment,
)
from incidents.services.base import (
    Status,
    _changed,
    _grant,
    _label,
    _lock,
    _refresh_into,
    _require,
    _save,
)
from incidents.services.timeline import timeline_record

# ``expected_holder`` not given: no expectation (an ordinary hand-over).
ANY_HOLDER: object = object()


def _first_one_wins(role: Role, previous, expected_holder) -> None:
    if expected_holder is ANY_HOLDER:
        return
    holder = previous.user if previous is not None else None
    if (holder.username if holder else None) == (expected_holder or None):
        return
    if holder is None:
        raise Conflict(
            f"Nobody is {role.name.lower()} any more; look again before assigning.",
            field="expected_holder",
        )
    raise Conflict(
        f"{_label(holder)} is already {role.name.lower()} (since "
        f"{previous.started_at:%H:%M:%S} UTC); ask them to hand over.",
        holder=holder.username,
        field="expected_holder",
    )


@transaction.atomic
def incident_assign_role(
    *,
    incident: Incident,
    actor,
    role: Role,
    user,
    note: str = "",
    now: datetime | None = None,
    expected_holder: str | None | object = ANY_HOLDER,
) -> RoleAssignment:
    """Give ``user`` a role on the incident, handing over from the current holder.

    Changes: the current assignment (if any) is ended, kept; a new current
    ``RoleAssignment``; guardian view/change on the incident for ``user``; the
    first commander sets ``acknowledged_at`` and ``acknowledged_by``; open
    actions that belong to the role follow it (``_actions_follow_role``: those
    unassigned or owned by the previous holder become ``user``'s; one a person
    gave to someone else stays); a ``role`` timeline entry naming them.
    Sends: ``incident_role_assigned``, ``action_changed`` per action that
    followed, ``incident_changed("role_assigned")``.
    First one wins: ``expected_holder`` is the username the caller believes
    holds the role now (None or "": nobody); if another holds it when the
    incident is locked, ``Conflict`` names them and nothing changes. Taking
    command yourself without ``expected_holder`` expects the commander of
    ``incident`` as the caller loaded it (nobody, for a responder's claim), so
    of concurrent claims exactly one succeeds. Assigning someone else without
    ``expected_holder`` hands over from whoever holds the role, as before.
    Raises: ``Conflict`` as above; ``DomainError`` if a human-only role (always
    the commander) goes to a service account or an inactive user, if ``user``
    already holds it, or the incident is closed; ``NotPermitted`` unless
    ``actor`` is an incident manager, the commander, or a responder taking
    command of an incident nobody commands.
    """
    expected_holder = _check_assignment(
        incident=incident,
        actor=actor,
        role=role,
        user=user,
        expected_holder=expected_holder,
    )
    now = now or timezone.now()
    locked = _lock(incident)
    if locked.status == Status.CLOSED:
        raise DomainError("Roles cannot change on a closed incident; reopen it.")
    previous = _handing_over(locked, role, user, expected_holder)
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
        locked.acknowledged_by = user
        _save(locked, actor)

    followed = _actions_follow_role(
        incident=locked, role=role, user=user, previous=previous, actor=actor
    )

    timeline_record(
        incident=locked,
        actor=actor,
        occurred_at=now,
        entry=entries.role(
            summary=_assignment_summary(
                role=role, user=user, previous=previous, actor=actor, followed=followed
            )
            + (f": {note}" if note else ""),
            role=role.slug,
            user=user.username,
            previous=previous.user.username if previous else None,
            note=note,
            actions=[action.pk for action in followed] if followed else entries.ABSENT,
        ),
    )
    _refresh_into(incident, locked)
    assignment.incident = incident
    events.incident_role_assigned.send(
        sender=Incident,
        assignment=assignment,
        previous_assignment=previous,
        actor=actor,
    )
    for action in followed:
        events.action_changed.send(
            sender=Incident, action=action, actor=actor, created=False
        )
    _changed(
        incident, "role_assigned", actor, {"role": role.slug, "user": user.username}
    )
    return assignment


def _handing_over(incident: Incident, role: Role, user, expected_holder):
    """The current assignment of ``role`` on the locked ``incident`` (locked
    too), or None; ``Conflict`` if it is not held by ``expected_holder``,
    ``DomainError`` if ``user`` already holds it."""
    previous = (
        RoleAssignment.objects.select_for_update()
        .filter(incident=incident, role=role, ended_at__isnull=True)
        .select_related("user")
        .first()
    )
    _first_one_wins(role, previous, expected_holder)
    if previous is not None and previous.user_id == user.pk:
        raise DomainError(f"{_label(user)} already holds this role.", field="user")
    return previous


def _check_assignment(*, incident: Incident, actor, role: Role, user, expected_holder):
    """The preconditions of ``incident_assign_role`` that need no lock; returns
    the holder the assignment expects (see there). Raises ``DomainError`` or
    ``NotPermitted`` as documented there."""
    if user is None or not user.is_active:
        raise DomainError("Roles go to active accounts only.", field="user")
    if role.requires_human and not user.is_human:
        raise DomainError(
            f"The {role.name.lower()} must be a person, not a service account.",
            field="user",
            code="not_human",
        )
    claim = role.slug == COMMANDER and actor is not None and user.pk == actor.pk
    if claim and permissions.can_claim_command(actor, incident):
        # A responder taking command: only of an incident nobody commands,
        # checked under the lock below (a lost race is a Conflict, not a 403).
        expected_holder = None
    else:
        _require(
            permissions.can_assign_role(actor, incident, role=role, assignee=user),
            "Only an incident manager or the incident's commander may assign roles.",
        )
    if claim and expected_holder is ANY_HOLDER:
        # Taking command yourself: against the commander you saw, so a racing
        # claim cannot displace the winner silently.
        seen = incident.commander
        expected_holder = seen.username if seen else None
    return expected_holder


def _assignment_summary(*, role: Role, user, previous, actor, followed) -> str:
    """The role timeline entry's sentence: who holds it now, from whom, by whom,
    and how many open actions followed."""
    summary = f"{_label(user)} is now {role.name.lower()}"
    if previous is not None:
        summary += f", taking over from {_label(previous.user)}"
    if actor is not None and actor.pk != user.pk:
        summary += f" (assigned by {_label(actor)})"
    if followed:
        summary += f"; {len(followed)} open action(s) of the role are now theirs"
    return summary


def _actions_follow_role(
    *, incident: Incident, role: Role, user, previous, actor
) -> list[ActionItem]:
    """Open actions of ``role`` on the incident that follow the role to ``user``:
    the unassigned ones and those the previous holder owned (an action a person
    gave to someone else is theirs and stays). The caller holds the incident's
    row lock and logs the change on the role's timeline entry."""
    owners = Q(owner__isnull=True)
    if previous is not None:
        owners |= Q(owner_id=previous.user_id)
    actions = list(
        ActionItem.objects.select_for_update()
        .filter(
            incident=incident,
            role=role,
            status__in=(ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS),
        )
        .filter(owners)
        .order_by("pk")
    )
    for action in actions:
        action.owner = user
        _save(action, actor)
    return actions
