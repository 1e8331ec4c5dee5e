"""Restriction follows the type, fail-closed; restricting and lifting by hand.

Whenever a type is set — declared with one, left to triage and suggested by
it, confirmed, changed through the portal, the API or alert intake — a type
that is restricted by default restricts the incident before anything about it
is sent. Only people who may lift a restriction
(``permissions.can_lift_restrictions``) may leave such an incident
unrestricted; the others' "unrestricted" is refused (an explicit type) or
overruled (a type only suggested by triage), never silently obeyed.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError
from incidents import events, permissions
from incidents import timeline_entries as entries
from incidents.models import Incident, IncidentType
from incidents.services.base import (
    _changed,
    _grant_restricted_access,
    _label,
    _lock,
    _refresh_into,
    _require,
    _save,
)
from incidents.services.timeline import timeline_record


def suggested_restriction_reason(suggested_type: IncidentType | None) -> str:
    """The rationale's sentence when a suggested type restricts an incident."""
    name = suggested_type.name if suggested_type else "?"
    return (
        f"Restricted because triage suggests “{name}”, a type restricted by "
        "default; an incident manager may lift the restriction."
    )


def restriction_on_declare(
    *,
    actor,
    restricted: bool | None,
    incident_type: IncidentType | None,
    suggested_type: IncidentType | None,
) -> tuple[bool, str]:
    """Whether a new incident is restricted, and why when triage decided it.

    ``restricted`` is what the reporter asked (None: let the type decide).
    Returns ``(restricted, reason)``; ``reason`` is non-empty only when the
    suggested type restricted it. Raises ``NotPermitted`` when someone who may
    not lift restrictions declares a restricted-by-default type unrestricted.
    """
    # Asked only where it decides (it reads the actor's permissions: two queries
    # on every alert that opens an incident otherwise).
    if incident_type is not None and incident_type.restricted_by_default:
        if restricted is False:
            _require(
                permissions.can_lift_restrictions(actor),
                f"Only an incident manager may declare a “{incident_type.name}” "
                "incident unrestricted; it is restricted by default.",
            )
            return False, ""
        return True, ""
    if restricted:
        return True, ""
    suggested = (
        incident_type is None
        and suggested_type is not None
        and suggested_type.restricted_by_default
    )
    if suggested and not (
        restricted is False and permissions.can_lift_restrictions(actor)
    ):
        return True, suggested_restriction_reason(suggested_type)
    return False, ""


def restriction_on_type_change(*, actor, locked: Incident, fields: dict) -> None:
    """Adjust ``fields`` (an ``incident_update``) for a new type: a type that is
    restricted by default restricts the incident, unless ``fields`` also lifts
    the restriction and ``actor`` may lift it (refused otherwise)."""
    if "incident_type" not in fields:
        return
    new_type = fields["incident_type"]
    if (
        new_type is None
        or not new_type.restricted_by_default
        or new_type.pk == locked.incident_type_id
    ):
        return
    if fields.get("restricted") is False:
        _require(
            permissions.can_change_restriction(actor, locked),
            f"Only an incident manager may leave a “{new_type.name}” incident "
            "unrestricted; the type is restricted by default.",
        )
        return
    fields["restricted"] = True


@transaction.atomic
def incident_set_restriction(
    *,
    incident: Incident,
    actor,
    restricted: bool,
    reason: str,
    now: datetime | None = None,
) -> Incident:
    """Restrict an incident, or lift its restriction, with a reason.

    Changes: ``restricted``; restricting grants the reporter, the role holders
    and the type's restricted groups (``_grant_restricted_access``); one
    ``field_change`` timeline entry with the change and ``reason``. Nothing when
    it already is as asked.
    Sends: ``incident_updated``, ``incident_changed("updated")``.
    Raises: ``DomainError`` for a blank reason; ``NotPermitted`` unless
    ``actor`` may edit the incident (restricting) or is an incident manager
    who may see it (lifting).
    """
    reason = (reason or "").strip()
    if restricted:
        _require(
            permissions.can_restrict(actor, incident),
            "You may not restrict this incident.",
        )
    else:
        _require(
            permissions.can_change_restriction(actor, incident),
            "Only an incident manager may lift a restriction.",
        )
    if not reason:
        raise DomainError("Say why.", field="reason")
    now = now or timezone.now()
    locked = _lock(incident)
    if locked.restricted == restricted:
        _refresh_into(incident, locked)
        return incident
    locked.restricted = restricted
    _save(locked, actor)
    if restricted:
        _grant_restricted_access(locked)
    changes = {"restricted": {"from": not restricted, "to": restricted}}
    verb = "restricted the incident" if restricted else "lifted the restriction"
    timeline_record(
        incident=locked,
        actor=actor,
        occurred_at=now,
        entry=entries.field_change(
            summary=f"{_label(actor)} {verb}: {reason}", changes=changes, reason=reason
        ),
    )
    _refresh_into(incident, locked)
    events.incident_updated.send(
        sender=Incident, incident=incident, changes=changes, actor=actor
    )
    _changed(incident, "updated", actor, {"changes": ["restricted"]})
    return incident
