"""IncidentOps' own import format, as CSV (a header row, one incident per row) or
JSON (a list of objects, or ``{"incidents": [...]}``), with the same field names.
The column reference is ``docs/importing.md``; examples are in ``docs/examples/``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from incidents.importing.records import (
    FileError,
    ImportRecord,
    ReviewRecord,
    RowError,
    parse_bool,
    parse_list,
    parse_time,
    person,
    zone,
)

TIMES = (
    "declared_at",
    "impact_started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)
ROLE_COLUMNS = ("commander", "communications", "scribe", "operations")
COLUMNS = (
    "external_id",
    "title",
    "description",
    "impact",
    "type",
    "severity",
    "status",
    "customer_facing",
    "data_exposed",
    "regulatory",
    "restricted",
    "time_zone",
    *TIMES,
    "reporter",
    *ROLE_COLUMNS,
    "roles",
    "services",
    "sites",
    "suppliers",
    "resolution",
    "review_summary",
    "root_cause",
    "lessons",
    "follow_ups",
    "external_url",
)
FOLLOW_UP = re.compile(
    r"^(?P<title>.*?)\s*(\[(?P<status>[a-z_ ]+)\])?\s*(@(?P<owner>\S+))?$"
)


def read(data: bytes, *, tz: ZoneInfo) -> Iterator[tuple[int, ImportRecord | RowError]]:
    """Native CSV or JSON (decided by the first character): ``(line, record or
    error)`` per incident; CSV lines are the file's physical lines (the header
    is line 1), JSON lines the record's position (1, 2, ...).

    Raises ``FileError`` when the file is not UTF-8, not CSV with a header that
    has ``external_id`` and ``title``, or not JSON of the expected shape.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError("the file is not UTF-8 text") from None
    if text.lstrip()[:1] in ("[", "{"):
        yield from _read_json(text, tz=tz)
    else:
        yield from _read_csv(text, tz=tz)


def _read_json(text: str, *, tz: ZoneInfo):
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileError(f"not valid JSON: {exc}") from None
    if isinstance(body, dict):
        body = body.get("incidents")
    if not isinstance(body, list):
        raise FileError('expected a JSON list of incidents or {"incidents": [...]}')
    for index, row in enumerate(body, start=1):
        if not isinstance(row, dict):
            yield index, RowError("not a JSON object")
            continue
        yield index, _record(row, tz=tz)


def _read_csv(text: str, *, tz: ZoneInfo):
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = {"external_id", "title"} - set(header)
    if missing:
        raise FileError(
            "the CSV header lacks "
            + ", ".join(sorted(missing))
            + " (see docs/importing.md)"
        )
    unknown = [
        name for name in header if name not in COLUMNS and not name.startswith("role:")
    ]
    if unknown:
        raise FileError("unknown column(s): " + ", ".join(unknown))
    reader.fieldnames = header
    try:
        for row in reader:
            if not any(
                (value or "").strip()
                for value in row.values()
                if isinstance(value, str)
            ):
                continue
            if None in row:
                yield reader.line_num, RowError("more values than columns")
                continue
            yield reader.line_num, _record(row, tz=tz)
    except csv.Error as exc:
        raise FileError(f"line {reader.line_num}: {exc}") from None


def _text(row: dict, name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def _record(row: dict, *, tz: ZoneInfo) -> ImportRecord | RowError:
    try:
        return _parse(row, tz=tz)
    except RowError as exc:
        return exc


def _parse(row: dict, *, tz: ZoneInfo) -> ImportRecord:
    external_id = _text(row, "external_id")
    if not external_id:
        raise RowError("external_id is empty")
    title = _text(row, "title")
    if not title:
        raise RowError("title is empty")
    row_zone = zone(_text(row, "time_zone"), tz)
    times = {name: parse_time(row.get(name), tz=row_zone, name=name) for name in TIMES}
    roles = {}
    raw_roles = row.get("roles")
    if isinstance(raw_roles, dict):
        roles.update({str(k): person(v) for k, v in raw_roles.items()})
    elif raw_roles:
        for part in parse_list(raw_roles):
            slug, _, who = part.partition(":")
            roles[slug.strip()] = person(who)
    for name in ROLE_COLUMNS:
        if _text(row, name):
            roles[name] = person(_text(row, name))
    for name, value in row.items():
        if name.startswith("role:") and value and str(value).strip():
            roles[name[5:]] = person(value)
    restricted = _text(row, "restricted")
    return ImportRecord(
        source="native",
        external_id=external_id,
        title=title[:200],
        description=_text(row, "description"),
        impact=_text(row, "impact"),
        external_url=_text(row, "external_url"),
        incident_type=_text(row, "type"),
        severity=_text(row, "severity").upper(),
        status=_text(row, "status").lower(),
        customer_facing=parse_bool(row.get("customer_facing"), name="customer_facing"),
        data_exposed=parse_bool(row.get("data_exposed"), name="data_exposed"),
        regulatory=parse_bool(row.get("regulatory"), name="regulatory"),
        restricted=parse_bool(restricted, name="restricted") if restricted else None,
        reporter=person(_text(row, "reporter")),
        roles={slug: who for slug, who in roles.items() if who},
        services=parse_list(row.get("services")),
        sites=parse_list(row.get("sites")),
        suppliers=parse_list(row.get("suppliers")),
        resolution=_text(row, "resolution"),
        review=_review(row),
        **times,
    )


def _review(row: dict) -> ReviewRecord | None:
    summary = _text(row, "review_summary")
    root_cause = _text(row, "root_cause")
    lessons = _text(row, "lessons")
    follow_ups = []
    raw = row.get("follow_ups")
    items = raw if isinstance(raw, list) else parse_list(raw) if raw else []
    for item in items:
        if isinstance(item, dict):
            title = str(item.get("title") or "").strip()
            status = str(item.get("status") or "open").strip().lower()
            owner = str(item.get("owner") or "").strip()
        else:
            match = FOLLOW_UP.match(str(item).strip())
            title = match["title"].strip()
            status = (match["status"] or "open").strip().lower().replace(" ", "_")
            owner = match["owner"] or ""
        if not title:
            raise RowError("a follow-up has no title")
        if status not in ("open", "in_progress", "done", "cancelled"):
            raise RowError(f"follow-up {title!r}: unknown status {status!r}")
        follow_ups.append({"title": title[:200], "status": status, "owner": owner})
    if not (summary or root_cause or lessons or follow_ups):
        return None
    return ReviewRecord(
        summary=summary, root_cause=root_cause, lessons=lessons, follow_ups=follow_ups
    )
