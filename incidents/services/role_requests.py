"""Asking a person to take a role, and their answer."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidentops.exceptions import DomainError, NotPermitted
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import COMMANDER, Incident, Role, RoleRequest
from incidents.services.base import _label, _lock, _require
from incidents.services.roles import incident_assign_role
from incidents.services.timeline import timeline_record


@transaction.atomic
def role_request_create(
    *,
    incident: Incident,
    actor,
    role: Role,
    user,
    reason: str = "",
    now: datetime | None = None,
) -> RoleRequest:
    """Ask ``user`` to take ``role`` on ``incident`` ("Ask Sam to take command").

    Assigns nothing: ``user`` answers with ``role_request_accept`` or
    ``role_request_decline``. ``reason`` (why them, e.g. the suggestion's
    "On call now for Checkout") goes with the request.
    Changes: a pending ``RoleRequest`` (asking again while one waits returns
    it, writing nothing), a ``role`` timeline entry "Mia asked Sam to take
    command".
    Sends: ``role_requested`` (notifications tells ``user`` through the outbox,
    on the timeline).
    Raises: ``NotPermitted`` unless ``actor`` is a person who may declare or
    assign roles and sees the incident; ``DomainError`` if ``user`` is not an
    active person (a human-only role: always the commander), may not see the
    incident, already holds the role, or the incident is not open.
    """
    _require(
        permissions.can_request_role(actor, incident),
        "You may not ask people to take roles on this incident.",
    )
    if user is None or not user.is_active:
        raise DomainError("Only active accounts can be asked.", field="user")
    if role.requires_human and not user.is_human:
        raise DomainError(
            f"The {role.name.lower()} must be a person, not a service account.",
            field="user",
            code="not_human",
        )
    if not permissions.can_view(user, incident):
        raise DomainError(
            f"{user.display_name} may not see this incident.", field="user"
        )
    now = now or timezone.now()
    locked = _lock(incident)
    if not locked.is_open:
        raise DomainError("Only an open incident needs people for its roles.")
    if locked.assignments.filter(role=role, user=user, ended_at__isnull=True).exists():
        raise DomainError(
            f"{user.display_name} is already {role.name.lower()}.", field="user"
        )
    waiting = RoleRequest.objects.filter(
        incident=locked, role=role, user=user, status=RoleRequest.Status.PENDING
    ).first()
    if waiting is not None:
        return waiting
    try:
        with transaction.atomic():
            request = RoleRequest.objects.create(
                incident=locked,
                role=role,
                user=user,
                asked_by=actor,
                reason=(reason or "")[:300],
                created_at=now,
            )
    except IntegrityError:
        # A concurrent ask won: that request stands.
        return RoleRequest.objects.get(
            incident=locked, role=role, user=user, status=RoleRequest.Status.PENDING
        )
    timeline_record(
        incident=locked,
        actor=actor,
        occurred_at=now,
        entry=entries.role(
            summary=f"{_label(actor)} asked {user.display_name} to {role.ask_phrase}"
            + (f" ({request.reason})" if request.reason else ""),
            request=request.pk,
            role=role.slug,
            user=user.username,
            reason=request.reason,
            status="asked",
        ),
    )
    events.role_requested.send(sender=Incident, request=request, actor=actor)
    return request


def _answerable(request: RoleRequest, actor) -> RoleRequest:
    locked = RoleRequest.objects.select_for_update().get(pk=request.pk)
    if actor is None or locked.user_id != actor.pk:
        raise NotPermitted("Only the person asked may answer this request.")
    if not locked.is_pending:
        raise DomainError(
            f"This request was already answered ({locked.get_status_display()}).",
            code="answered",
        )
    return locked


@transaction.atomic
def role_request_accept(*, request: RoleRequest, actor, now: datetime | None = None):
    """The person asked accepts: they take the role (one click).

    The role is assigned through ``incident_assign_role``, on the authority of
    whoever asked if they still may assign it (an incident manager, the
    commander handing over), else as the person's own claim of command of an
    incident nobody commands.
    Changes: the request ``accepted``; the assignment and everything
    ``incident_assign_role`` changes; the other requests waiting for the same
    role on the incident ``cancelled``.
    Sends: what ``incident_assign_role`` sends.
    Returns the ``RoleAssignment``.
    Raises: ``NotPermitted`` unless ``actor`` is the person asked;
    ``DomainError`` when already answered or the incident is closed; a
    ``NotPermitted`` from the assignment when neither authority holds any more
    (nothing changes).
    """
    now = now or timezone.now()
    locked = _answerable(request, actor)
    incident = locked.incident
    asker = locked.asked_by
    note = f"{actor.display_name} accepted the request from {asker.display_name}"
    if permissions.can_assign_role(asker, incident, role=locked.role, assignee=actor):
        assigner = asker
    elif locked.role.slug == COMMANDER and permissions.can_claim_command(
        actor, incident
    ):
        assigner = actor
    else:
        raise NotPermitted(
            f"{asker.display_name} may no longer hand over this role; ask an "
            "incident manager or the commander."
        )
    assignment = incident_assign_role(
        incident=incident,
        actor=assigner,
        role=locked.role,
        user=actor,
        note=note,
        now=now,
    )
    locked.status = RoleRequest.Status.ACCEPTED
    locked.answered_at = now
    locked.save(update_fields=["status", "answered_at"])
    RoleRequest.objects.filter(
        incident=incident, role=locked.role, status=RoleRequest.Status.PENDING
    ).exclude(pk=locked.pk).update(status=RoleRequest.Status.CANCELLED, answered_at=now)
    request.status, request.answered_at = locked.status, locked.answered_at
    return assignment


@transaction.atomic
def role_request_decline(
    *, request: RoleRequest, actor, note: str = "", now: datetime | None = None
) -> RoleRequest:
    """The person asked declines.

    Changes: the request ``declined``; a ``role`` timeline entry "Sam declined
    to take command" (with ``note``, e.g. "on a flight until 14:00").
    Sends nothing. Raises: as ``role_request_accept``.
    """
    now = now or timezone.now()
    locked = _answerable(request, actor)
    locked.status = RoleRequest.Status.DECLINED
    locked.answered_at = now
    locked.save(update_fields=["status", "answered_at"])
    timeline_record(
        incident=locked.incident,
        actor=actor,
        occurred_at=now,
        entry=entries.role(
            summary=f"{_label(actor)} declined to {locked.role.ask_phrase}"
            + (f": {note}" if note else ""),
            request=locked.pk,
            role=locked.role.slug,
            user=actor.username,
            status="declined",
            note=note,
        ),
    )
    request.status, request.answered_at = locked.status, locked.answered_at
    return locked
