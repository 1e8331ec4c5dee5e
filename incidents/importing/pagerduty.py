"""PagerDuty incidents, as the REST API v2 lists them.

Source: PagerDuty REST API v2, ``GET /incidents`` (the ``incidents`` array of its
reply; several pages may be concatenated into one list, or saved as one reply
each and imported one after the other). Fields read per incident: ``id`` (the
external id), ``incident_number``, ``title``, ``description``, ``html_url``,
``created_at``, ``status`` (triggered, acknowledged, resolved),
``resolved_at`` (else ``last_status_change_at`` of a resolved incident),
``urgency`` (high, low), ``priority.summary`` (P1..P5, when priorities are on),
``service.summary`` (the affected service), ``assignments[].assignee`` and
``acknowledgements[].{at, acknowledger}`` (role holders and the acknowledgement
time; PagerDuty empties both once an incident is resolved), ``body.details``.
Users are matched by ``email`` when the export carries it (``include[]=users``),
else by a placeholder ``pagerduty-<id>`` named after their ``summary``.

Severity comes from an editable table (``DEFAULT_SEVERITY``, whose entries a
JSON file given to the command replaces): a priority first (``"P1": "SEV-1"``),
then the urgency (``"urgency:high": "SEV-2"``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from incidents.importing.records import (
    FileError,
    ImportRecord,
    Person,
    RowError,
    parse_time,
)

DEFAULT_SEVERITY = {
    "P1": "SEV-1",
    "P2": "SEV-2",
    "P3": "SEV-3",
    "P4": "SEV-4",
    "P5": "SEV-4",
    "urgency:high": "SEV-2",
    "urgency:low": "SEV-3",
}
STATUSES = {
    "triggered": "triage",
    "acknowledged": "investigating",
    "resolved": "resolved",
}


def read(
    data: bytes, *, tz: ZoneInfo, severity_map: dict[str, str] | None = None
) -> Iterator[tuple[int, ImportRecord | RowError]]:
    """``(position, record or error)`` per incident of the list.

    Raises ``FileError`` for a file that is not JSON, or has no incident list
    (a reply ``{"incidents": [...]}`` or the bare list)."""
    try:
        body = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileError(f"not valid JSON: {exc}") from None
    if isinstance(body, dict):
        body = body.get("incidents")
    if not isinstance(body, list):
        raise FileError(
            'expected PagerDuty\'s {"incidents": [...]} or a list of incidents'
        )
    table = {**DEFAULT_SEVERITY, **(severity_map or {})}
    for index, item in enumerate(body, start=1):
        try:
            if not isinstance(item, dict):
                raise RowError("not a JSON object")
            yield index, _record(item, tz=tz, table=table)
        except RowError as exc:
            yield index, exc


def _who(ref) -> Person | None:
    if not isinstance(ref, dict):
        return None
    email = str(ref.get("email") or "").strip()
    name = str(ref.get("summary") or ref.get("name") or "").strip()
    if email:
        return Person(key=email, name=name)
    if ref.get("id"):
        return Person(key=f"pagerduty-{ref['id']}", name=name)
    return None


def _record(item: dict, *, tz: ZoneInfo, table: dict[str, str]) -> ImportRecord:
    external_id = str(item.get("id") or "").strip()
    if not external_id:
        raise RowError("the incident has no id")
    title = str(item.get("title") or item.get("summary") or "").strip()
    if not title:
        raise RowError("the incident has no title")
    status = str(item.get("status") or "").strip()
    if status not in STATUSES:
        raise RowError(f"unknown status {status!r}")
    created = parse_time(item.get("created_at"), tz=tz, name="created_at")
    if created is None:
        raise RowError("the incident has no created_at")
    resolved = parse_time(item.get("resolved_at"), tz=tz, name="resolved_at")
    if status == "resolved" and resolved is None:
        resolved = parse_time(
            item.get("last_status_change_at"), tz=tz, name="last_status_change_at"
        )
    acks = [a for a in item.get("acknowledgements") or [] if isinstance(a, dict)]
    ack_times = [
        parse_time(a.get("at"), tz=tz, name="acknowledgements.at") for a in acks
    ]
    acknowledged = min((t for t in ack_times if t), default=None)
    roles = {}
    commander = next(
        (_who(a.get("acknowledger")) for a in acks if _who(a.get("acknowledger"))), None
    ) or next(
        (
            _who(a.get("assignee"))
            for a in item.get("assignments") or []
            if isinstance(a, dict) and _who(a.get("assignee"))
        ),
        None,
    )
    if commander:
        roles["commander"] = commander
    priority = item.get("priority") or {}
    priority_code = str(priority.get("summary") or priority.get("name") or "").strip()
    urgency = str(item.get("urgency") or "").strip()
    severity = table.get(priority_code) or table.get(f"urgency:{urgency}") or ""
    basis = ", ".join(
        part
        for part in (
            f"priority {priority_code}" if priority_code else "",
            f"urgency {urgency}" if urgency else "",
        )
        if part
    )
    service = item.get("service") or {}
    details = (
        (item.get("body") or {}).get("details")
        if isinstance(item.get("body"), dict)
        else ""
    )
    description = str(item.get("description") or "").strip()
    if description == title:
        description = ""
    if details:
        description = (description + "\n\n" + str(details)).strip()
    return ImportRecord(
        source="pagerduty",
        external_id=external_id,
        title=title[:200],
        description=description,
        external_url=str(item.get("html_url") or "")[:500],
        severity=severity,
        severity_basis=basis,
        status=STATUSES[status],
        declared_at=created,
        detected_at=created,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
        roles=roles,
        services=[str(service["summary"])] if service.get("summary") else [],
    )
