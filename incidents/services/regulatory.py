"""Recording that a regulator or authority was told about an incident: when, by
whom, how, under which reference, and whether within the legal deadline."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError
from incidentops.text import neutralise_bidi
from incidentops.timezones import org_localtime
from incidents import permissions, timeline_entries
from incidents.models import Incident, RegulatoryNotification
from incidents.services.base import _changed, _label, _lock, _require, _save
from incidents.services.timeline import timeline_record

# ``deadline_at`` not given: the incident type's deadline (hours from detection).
TYPE_DEADLINE = object()


@transaction.atomic
def regulatory_notification_record(
    *,
    incident: Incident,
    actor,
    notified_at: datetime,
    method: str,
    authority: str = "",
    notified_by=None,
    deadline_at: datetime | None | object = TYPE_DEADLINE,
    reference: str = "",
    notes: str = "",
    now: datetime | None = None,
) -> RegulatoryNotification:
    """Record that ``authority`` (blank: the incident type's
    ``notification_authority``) was told about ``incident`` at ``notified_at``
    (an aware datetime, stored in UTC) by ``notified_by`` (a person; None: the
    ``actor``), by ``method`` (``RegulatoryNotification.Method``), with the
    authority's ``reference`` if it gave one.

    ``deadline_at``: the legal deadline (aware, UTC); not given, the type's
    deadline (``Incident.notification_deadline``: its hours counted from
    detection); None when no deadline applies. Whether the notification was in
    time is computed (``RegulatoryNotification.in_time``), never entered.
    Changes: one ``RegulatoryNotification`` (history records ``actor``); one
    ``regulatory`` timeline entry naming the authority, the time, the method,
    the reference and whether it was in time (``data``: ``{"notification",
    "authority", "notified_at", "notified_by", "method", "reference",
    "deadline_at", "in_time"}``, times as ISO 8601 UTC).
    Sends: ``incident_changed("regulatory_notification")``; no message (the
    notification itself went out of band).
    Raises: ``NotPermitted`` unless ``actor`` runs the incident
    (``permissions.can_record_regulatory_notification``); ``DomainError`` for no
    authority, an unknown method, a notifier who is not a person who may see
    the incident, a time in the future or before detection, a deadline before
    detection, or text over the field lengths. Nothing is stored on refusal.
    """
    _require(
        permissions.can_record_regulatory_notification(actor, incident),
        "You may not record regulatory notifications of this incident.",
    )
    now = now or timezone.now()
    locked = _lock(incident)
    row = _validated(
        locked,
        actor=actor,
        authority=authority,
        notified_at=notified_at,
        notified_by=notified_by,
        method=method,
        deadline_at=deadline_at,
        reference=reference,
        notes=notes,
        now=now,
    )
    _save(row, actor)
    timeline_record(
        incident=locked,
        actor=actor,
        occurred_at=now,
        entry=timeline_entries.regulatory(
            summary=_summary(row, actor),
            notification=row.pk,
            authority=row.authority,
            notified_at=row.notified_at,
            notified_by=row.notified_by.username,
            method=row.method,
            reference=row.reference,
            deadline_at=row.deadline_at,
            in_time=row.in_time,
        ),
    )
    _changed(
        locked,
        "regulatory_notification",
        actor,
        {"authority": row.authority, "in_time": row.in_time},
    )
    return row


def _validated(incident: Incident, *, actor, now, **values) -> RegulatoryNotification:
    authority = neutralise_bidi(
        values["authority"] or incident.notification_authority
    ).strip()
    if not authority:
        raise DomainError("Name the authority that was told.", field="authority")
    method = values["method"]
    if method not in RegulatoryNotification.Method.values:
        raise DomainError(
            "Say how the authority was told: "
            + ", ".join(RegulatoryNotification.Method.values)
            + ".",
            field="method",
        )
    notified_by = values["notified_by"] or actor
    if not (
        notified_by.is_active
        and notified_by.is_human
        and permissions.can_view(notified_by, incident)
    ):
        raise DomainError(
            "The one who told the authority must be a person who may see this "
            "incident.",
            field="notified_by",
        )
    notified_at = values["notified_at"]
    if notified_at is None:
        raise DomainError("Say when the authority was told.", field="notified_at")
    if notified_at > now:
        raise DomainError(
            "The notification time cannot be in the future.", field="notified_at"
        )
    if notified_at < incident.detected_at:
        raise DomainError(
            "The notification time cannot be before the incident was detected.",
            field="notified_at",
        )
    deadline_at = values["deadline_at"]
    if deadline_at is TYPE_DEADLINE:
        deadline_at = incident.notification_deadline
    if deadline_at is not None and deadline_at < incident.detected_at:
        raise DomainError(
            "The deadline cannot be before the incident was detected.",
            field="deadline_at",
        )
    row = RegulatoryNotification(
        incident=incident,
        authority=authority,
        deadline_at=deadline_at,
        notified_at=notified_at,
        notified_by=notified_by,
        method=method,
        reference=neutralise_bidi(values["reference"]).strip(),
        notes=neutralise_bidi(values["notes"]).strip(),
        recorded_by=actor,
        recorded_at=now,
    )
    for name in ("authority", "reference"):
        limit = RegulatoryNotification._meta.get_field(name).max_length
        if len(getattr(row, name)) > limit:
            raise DomainError(f"At most {limit} characters.", field=name)
    return row


def _when(value: datetime) -> str:
    return org_localtime(value).strftime("%Y-%m-%d %H:%M %Z")


def _summary(row: RegulatoryNotification, actor) -> str:
    who = (
        "they"
        if row.notified_by_id == getattr(actor, "pk", None)
        else row.notified_by.display_name
    )
    text = (
        f"{_label(actor)} recorded that {who} notified {row.authority} at "
        f"{_when(row.notified_at)} ({row.get_method_display().lower()}"
        + (f", reference {row.reference}" if row.reference else "")
        + ")"
    )
    if row.in_time is True:
        text += f": in time, before the deadline of {_when(row.deadline_at)}"
    elif row.in_time is False:
        text += f": late, after the deadline of {_when(row.deadline_at)}"
    return text + "."
