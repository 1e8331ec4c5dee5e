"""Correcting an incident's times: when the impact began, when it was detected,
acknowledged, mitigated and resolved, as people later establish them."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError
from incidentops.timezones import org_localtime
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

# Nothing an incident tool records happened earlier; older values are typos.
EARLIEST_YEAR = 1970
CORRECTABLE_TIMES = (
    "impact_started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
)
TIME_LABELS = {
    "impact_started_at": "impact started",
    "detected_at": "detected",
    "acknowledged_at": "acknowledged",
    "mitigated_at": "mitigated",
    "resolved_at": "resolved",
}
# (earlier, later): the first may not come after the second, where both are set.
_ORDER = (
    ("impact_started_at", "mitigated_at"),
    ("impact_started_at", "resolved_at"),
    ("detected_at", "acknowledged_at"),
    ("detected_at", "mitigated_at"),
    ("detected_at", "resolved_at"),
    ("mitigated_at", "resolved_at"),
    ("resolved_at", "closed_at"),
)


def times_order_problem(
    values: dict[str, datetime | None], changed: set[str] | frozenset = frozenset()
) -> tuple[str, str] | None:
    """The first pair of times out of order in ``values`` (field names), as
    ``(field, message)``, or None. Only pairs where both times are set count;
    the field named is the one in ``changed`` where only one of the pair is."""
    for earlier, later in _ORDER:
        first, second = values.get(earlier), values.get(later)
        if first and second and first > second:
            a, b = TIME_LABELS.get(earlier, "closed"), TIME_LABELS.get(later, "closed")
            if later in changed and earlier not in changed:
                return later, f"The {b} time cannot be before the {a} time."
            return earlier, f"The {a} time cannot be after the {b} time."
    return None


@transaction.atomic
def incident_correct_times(
    *,
    incident: Incident,
    actor,
    reason: str,
    now: datetime | None = None,
    **times: datetime,
) -> Incident:
    """Correct one or more of ``impact_started_at``, ``detected_at``,
    ``acknowledged_at``, ``mitigated_at`` and ``resolved_at`` (aware datetimes)
    to what people later established, for the record and the metrics.

    A time that is not set yet (an incident not mitigated has no
    ``mitigated_at``) cannot be corrected: the lifecycle sets it first; the
    impact start can always be set. The corrected times must keep their order
    (impact start and detection before acknowledgement, mitigation and
    resolution; mitigation before resolution, resolution before closing) and
    none may be in the future.
    Changes: the incident's times (history records ``actor``); one
    ``field_change`` timeline entry naming each time's old and new value and the
    reason (``data``: ``{"changes": {field: {"from", "to"}}, "reason",
    "correction": true}``). The status does not change.
    Sends: ``incident_updated``, ``incident_changed("updated")`` (only when a
    time changed).
    Raises: ``NotPermitted`` if ``actor`` may not run the incident
    (``permissions.can_correct_times``); ``DomainError`` for an unknown field,
    no reason, a time not set yet, a time in the future or out of order.
    """
    for name in times:
        if name not in CORRECTABLE_TIMES:
            raise DomainError(
                f"{name} cannot be corrected here.", field=name, code="not_editable"
            )
    _require(
        permissions.can_correct_times(actor, incident),
        "You may not correct this incident's times.",
    )
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the times are corrected.", field="reason")
    now = now or timezone.now()
    locked = _lock(incident)
    values = {name: getattr(locked, name) for name in (*CORRECTABLE_TIMES, "closed_at")}
    changes: dict[str, dict] = {}
    for name, value in times.items():
        if value is None:
            raise DomainError(f"Give the {TIME_LABELS[name]} time.", field=name)
        if value > now:
            raise DomainError(
                f"The {TIME_LABELS[name]} time cannot be in the future.", field=name
            )
        if value.year < EARLIEST_YEAR:
            raise DomainError(
                f"The {TIME_LABELS[name]} time is before {EARLIEST_YEAR}.", field=name
            )
        current = values[name]
        if current is None and name != "impact_started_at":
            raise DomainError(
                f"It has no {TIME_LABELS[name]} time yet to correct.", field=name
            )
        if current != value:
            changes[name] = {"from": current, "to": value}
            values[name] = value
    problem = times_order_problem(values, set(changes))
    if problem:
        raise DomainError(problem[1], field=problem[0])
    if not changes:
        _refresh_into(incident, locked)
        return incident
    for name, change in changes.items():
        setattr(locked, name, change["to"])
    _save(locked, actor)
    timeline_record(
        incident=locked,
        actor=actor,
        occurred_at=now,
        entry=entries.field_change(
            summary=f"{_label(actor)} corrected "
            + "; ".join(
                f"{TIME_LABELS[name]} from {_when(change['from'])} "
                f"to {_when(change['to'])}"
                for name, change in changes.items()
            )
            + f": {reason}",
            changes=changes,
            reason=reason,
            correction=True,
        ),
    )
    _refresh_into(incident, locked)
    events.incident_updated.send(
        sender=Incident, incident=incident, changes=changes, actor=actor
    )
    _changed(incident, "updated", actor, {"changes": sorted(changes)})
    return incident


def _when(value: datetime | None) -> str:
    if value is None:
        return "unset"
    return org_localtime(value).strftime("%Y-%m-%d %H:%M %Z")
