"""Notes and stakeholder updates."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import (
    Incident,
    StakeholderUpdate,
    TimelineEntry,
)
from incidents.services.base import (
    _changed,
    _label,
    _require,
    _save,
)
from incidents.services.timeline import timeline_record


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
        actor=actor,
        occurred_at=now,
        entry=entries.note(body=body),
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
        actor=actor,
        occurred_at=now,
        entry=entries.stakeholder_update(
            summary=f"{_label(actor)} posted a stakeholder update: {body}",
            update=update.pk,
        ),
    )
    events.stakeholder_update_posted.send(sender=Incident, update=update, actor=actor)
    _changed(incident, "stakeholder_update", actor, {"update": update.pk})
    return update
