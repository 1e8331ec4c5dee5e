"""Importing many new past incidents at once (an import's batch of new rows).

The same records as ``incident_import`` writes one at a time, written in a few
statements per table for the whole batch: a 10,000-row history file would
otherwise cost a dozen savepointed statements per row.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from guardian.models import GroupObjectPermission, UserObjectPermission

from incidents import events
from incidents.models import (
    Incident,
    IncidentReferenceCounter,
    IncidentType,
    Role,
    RoleAssignment,
)
from incidents.services.importing import history_label, history_steps
from incidents.services.timeline import timeline_start_many


@dataclass
class NewImport:
    """One record to import as a new incident: ``fields`` already made whole
    and checked by ``import_fields``; ``roles`` role → user; ``review`` as for
    ``incident_import``."""

    source: str
    external_id: str
    digest: str
    fields: dict[str, Any]
    roles: dict[Role, Any]
    review: dict | None = None


@transaction.atomic
def incident_import_new(
    *, actor, items: list[NewImport], now: datetime | None = None
) -> list[Incident]:
    """Create an incident for each of ``items`` (none may exist yet), as
    ``incident_import`` creates one: references of their creation years,
    ``imported_at``, ``external_*``, role assignments, grants of restricted
    ones (reporter, role holders, the type's groups), timelines at their
    original times marked ``imported``, history rows naming ``actor``.
    Sends: ``incidents_imported`` once for the batch (``reviews`` stores the
    files' reviews as completed); nothing is sent to anyone.
    Raises: ``IntegrityError`` when one of them was imported meanwhile (the
    whole batch is rolled back).
    """
    if not items:
        return []
    now = now or timezone.now()
    years = Counter(item.fields["created_at"].year for item in items)
    references = {
        year: iter(IncidentReferenceCounter.next_references(year, count))
        for year, count in sorted(years.items())
    }
    incidents = [
        Incident(
            external_source=item.source,
            external_id=item.external_id,
            import_digest=item.digest,
            imported_at=now,
            reference=next(references[item.fields["created_at"].year]),
            **item.fields,
        )
        for item in items
    ]
    Incident.objects.bulk_create(incidents, batch_size=1000)
    Incident.history.bulk_history_create(
        incidents, default_user=actor, default_date=now
    )
    assignments = [
        RoleAssignment(
            incident=incident,
            role=role,
            user=user,
            assigned_by=actor,
            started_at=incident.acknowledged_at or incident.detected_at,
            note="imported",
        )
        for incident, item in zip(incidents, items, strict=True)
        for role, user in item.roles.items()
    ]
    RoleAssignment.objects.bulk_create(assignments, batch_size=1000)
    RoleAssignment.history.bulk_history_create(
        assignments, default_user=actor, default_date=now
    )
    _grant_restricted(
        [
            (incident, item.roles.values())
            for incident, item in zip(incidents, items, strict=True)
            if incident.restricted
        ]
    )
    timeline_start_many(
        {
            incident: history_steps(incident, roles=item.roles)
            for incident, item in zip(incidents, items, strict=True)
        },
        actor_label=history_label(actor),
    )
    events.incidents_imported.send(
        sender=Incident,
        imported=[
            (incident, item.review)
            for incident, item in zip(incidents, items, strict=True)
        ],
        actor=actor,
    )
    return incidents


def _grant_restricted(restricted: list[tuple[Incident, Any]]) -> None:
    """``_grant_restricted_access`` for many new incidents: view and change to
    the reporter and role holders, view to the type's restricted groups."""
    if not restricted:
        return
    content_type = ContentType.objects.get_for_model(Incident)
    perms = {
        p.codename: p
        for p in Permission.objects.filter(
            content_type=content_type,
            codename__in=["view_incident", "change_incident"],
        )
    }
    type_ids = {i.incident_type_id for i, _ in restricted if i.incident_type_id}
    groups: dict[int, list] = {}
    for incident_type in IncidentType.objects.filter(pk__in=type_ids).prefetch_related(
        "restricted_groups"
    ):
        groups[incident_type.pk] = list(incident_type.restricted_groups.all())
    user_rows, group_rows = [], []
    for incident, holders in restricted:
        people = {u.pk: u for u in (incident.reporter, *holders) if u is not None}
        for user in people.values():
            for codename in ("view_incident", "change_incident"):
                user_rows.append(
                    UserObjectPermission(
                        user=user,
                        permission=perms[codename],
                        content_type=content_type,
                        object_pk=str(incident.pk),
                    )
                )
        for group in groups.get(incident.incident_type_id, ()):
            group_rows.append(
                GroupObjectPermission(
                    group=group,
                    permission=perms["view_incident"],
                    content_type=content_type,
                    object_pk=str(incident.pk),
                )
            )
    UserObjectPermission.objects.bulk_create(user_rows, batch_size=1000)
    GroupObjectPermission.objects.bulk_create(group_rows, batch_size=1000)
