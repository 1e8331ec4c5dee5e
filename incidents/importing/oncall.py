"""Grafana OnCall alert groups, as its public API lists them.

Source: Grafana OnCall HTTP API, ``GET /api/v1/alert_groups/`` (the ``results``
of its reply, or the bare list). Fields read per alert group: ``id`` (the
external id), ``title``, ``state`` (new, acknowledged, resolved, silenced),
``created_at``, ``acknowledged_at``, ``acknowledged_by``, ``resolved_at``,
``resolved_by``, ``permalinks.web`` (else the first permalink), ``labels``
(``[{"key": {"name"}, "value": {"name"}}]``; a ``service`` or ``severity`` label
is used), ``integration_id``. OnCall names users by id only: they become
placeholders ``oncall-<id>`` until someone maps them.
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

STATES = {
    "new": "triage",
    "firing": "triage",
    "acknowledged": "investigating",
    "silenced": "investigating",
    "resolved": "resolved",
}
SEVERITY_WORDS = {
    "critical": "SEV-1",
    "sev1": "SEV-1",
    "high": "SEV-2",
    "major": "SEV-2",
    "sev2": "SEV-2",
    "warning": "SEV-3",
    "medium": "SEV-3",
    "sev3": "SEV-3",
    "low": "SEV-4",
    "info": "SEV-4",
    "sev4": "SEV-4",
}


def read(data: bytes, *, tz: ZoneInfo) -> Iterator[tuple[int, ImportRecord | RowError]]:
    """``(position, record or error)`` per alert group.

    Raises ``FileError`` for a file that is not JSON or has no list of groups."""
    try:
        body = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FileError(f"not valid JSON: {exc}") from None
    if isinstance(body, dict):
        body = body.get("results")
    if not isinstance(body, list):
        raise FileError(
            'expected OnCall\'s {"results": [...]} or a list of alert groups'
        )
    for index, item in enumerate(body, start=1):
        try:
            if not isinstance(item, dict):
                raise RowError("not a JSON object")
            yield index, _record(item, tz=tz)
        except RowError as exc:
            yield index, exc


def _labels(item: dict) -> dict[str, str]:
    labels = {}
    for label in item.get("labels") or []:
        if not isinstance(label, dict):
            continue
        key = (
            (label.get("key") or {}).get("name")
            if isinstance(label.get("key"), dict)
            else label.get("key")
        )
        value = (
            (label.get("value") or {}).get("name")
            if isinstance(label.get("value"), dict)
            else label.get("value")
        )
        if key:
            labels[str(key).lower()] = str(value or "")
    return labels


def _record(item: dict, *, tz: ZoneInfo) -> ImportRecord:
    external_id = str(item.get("id") or "").strip()
    if not external_id:
        raise RowError("the alert group has no id")
    title = str(item.get("title") or "").strip() or f"Alert group {external_id}"
    state = str(item.get("state") or "").strip()
    if state not in STATES:
        raise RowError(f"unknown state {state!r}")
    created = parse_time(item.get("created_at"), tz=tz, name="created_at")
    if created is None:
        raise RowError("the alert group has no created_at")
    roles = {}
    for field in ("acknowledged_by", "resolved_by"):
        user_id = str(item.get(field) or "").strip()
        if user_id:
            roles["commander"] = Person(key=f"oncall-{user_id}")
            break
    links = item.get("permalinks") or {}
    url = links.get("web") or next((v for v in links.values() if v), "")
    labels = _labels(item)
    severity = SEVERITY_WORDS.get(labels.get("severity", "").lower(), "")
    return ImportRecord(
        source="oncall",
        external_id=external_id,
        title=title[:200],
        external_url=str(url or "")[:500],
        severity=severity,
        severity_basis=f"severity label {labels['severity']}" if severity else "",
        status=STATES[state],
        declared_at=created,
        detected_at=created,
        acknowledged_at=parse_time(
            item.get("acknowledged_at"), tz=tz, name="acknowledged_at"
        ),
        resolved_at=parse_time(item.get("resolved_at"), tz=tz, name="resolved_at"),
        roles=roles,
        services=[labels["service"]] if labels.get("service") else [],
    )
