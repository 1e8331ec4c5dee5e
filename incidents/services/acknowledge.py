"""Acknowledging an incident: a person says they are on it."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import Conflict, DomainError
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import Incident
from incidents.services.base import (
    _changed,
    _label,
    _lock,
    _refresh_into,
    _require,
    _save,
)
from incidents.services.timeline import timeline_record


@transaction.atomic
def incident_acknowledge(
    *, incident: Incident, user, now: datetime | None = None, via: str = ""
) -> Incident:
    """``user`` acknowledges the incident: a person is on it, stop paging.

    Changes: ``acknowledged_at`` (``now``, UTC) and ``acknowledged_by`` (``user``),
    once; an ``acknowledged`` timeline entry naming them and ``via`` (how: "the
    page's link", "the portal", "the API"). The status is unchanged (leaving
    triage still needs a confirmed severity and a commander).
    Sends: ``incident_acknowledged`` (escalations stop on it),
    ``incident_changed("acknowledged")``.
    First one wins: if it was acknowledged already (by this service, by the
    first commander or by the move to investigating), ``Conflict`` names who
    (``holder``) and when, and nothing changes.
    Raises: ``Conflict`` as above; ``DomainError`` if the incident is resolved
    or closed; ``NotPermitted`` unless ``user`` is an active person (not a
    service account) who may see the incident.
    """
    _require(
        permissions.can_acknowledge(user, incident),
        "Only a person who may see this incident can acknowledge it.",
    )
    now = now or timezone.now()
    locked = _lock(incident)
    if locked.acknowledged_at is not None:
        who = locked.acknowledged_by
        raise Conflict(
            f"{_label(who) if who else 'Someone'} already acknowledged it "
            f"(at {locked.acknowledged_at:%H:%M:%S} UTC).",
            holder=who.username if who else None,
        )
    if locked.status in Incident.ENDED_STATUSES:
        raise DomainError(
            f"It is {locked.get_status_display().lower()}; there is nothing "
            "to acknowledge."
        )
    locked.acknowledged_at = now
    locked.acknowledged_by = user
    _save(locked, user, update_fields=["acknowledged_at", "acknowledged_by"])
    timeline_record(
        incident=locked,
        actor=user,
        occurred_at=now,
        entry=entries.acknowledged(
            summary=f"{_label(user)} acknowledged it" + (f" ({via})" if via else ""),
            user=user.username,
            via=via,
        ),
    )
    _refresh_into(incident, locked)
    events.incident_acknowledged.send(sender=Incident, incident=incident, actor=user)
    _changed(incident, "acknowledged", user, {"user": user.username, "via": via})
    return incident
