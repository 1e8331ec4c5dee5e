"""The normalised record every reader produces, and the small parsers they share.

A reader turns a file into ``(line, ImportRecord | RowError)`` pairs; the runner
(``incidents.importing.runner``) resolves names and writes through
``incidents.services.incident_import``. Times are aware datetimes (UTC or any
zone); a time written without a zone is read in the row's ``time_zone``, else the
file's, else the organisation's (``settings.INCIDENTOPS_TIME_ZONE``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class RowError(Exception):
    """A row that cannot be imported; ``str()`` is the reason a person reads."""


class FileError(Exception):
    """A file that cannot be read at all: nothing from it is imported."""


@dataclass(frozen=True)
class Person:
    """Someone named in a record: by username, e-mail, or a source's user id.

    ``key`` is what identifies them here: an e-mail (matched to ``User.email``)
    or a username; ``name`` is a display name for a placeholder account."""

    key: str
    name: str = ""


@dataclass
class ReviewRecord:
    summary: str = ""
    root_cause: str = ""
    lessons: str = ""
    # [{"title", "status" (open|in_progress|done|cancelled), "owner" (Person key)}]
    follow_ups: list[dict] = field(default_factory=list)


@dataclass
class ImportRecord:
    """One past incident, as read from a file, before names are resolved."""

    source: str
    external_id: str
    title: str
    description: str = ""
    impact: str = ""
    external_url: str = ""
    incident_type: str = ""  # slug, or "" for unclassified
    severity: str = ""  # a level's code (SEV-2), or ""
    status: str = ""  # "" means: resolved if it has a resolution time, else open
    customer_facing: bool = False
    data_exposed: bool = False
    regulatory: bool = False
    restricted: bool | None = None  # None: the type's default
    declared_at: datetime | None = None
    impact_started_at: datetime | None = None
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reporter: Person | None = None
    # role slug → person (commander, communications, scribe, operations, ...)
    roles: dict[str, Person] = field(default_factory=dict)
    services: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)
    suppliers: list[str] = field(default_factory=list)
    resolution: str = ""
    review: ReviewRecord | None = None
    # what the source said about severity (shown in the severity reason)
    severity_basis: str = ""

    def digest(self) -> str:
        """A stable hash of everything imported: equal digests, nothing to do."""
        body = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


def zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    if not name:
        return default
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise RowError(f"unknown time zone {name!r}") from None


def parse_time(value, *, tz: ZoneInfo, name: str) -> datetime | None:
    """ISO 8601 (``2026-03-02T14:05:00Z``, ``2026-03-02 14:05+01:00``,
    ``2026-03-02 14:05`` read in ``tz``); empty is None."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(f"{name}: {value!r} is not an ISO 8601 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed


TRUE = {"1", "true", "yes", "y", "t", "on"}
FALSE = {"0", "false", "no", "n", "f", "off", ""}


def parse_bool(value, *, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise RowError(f"{name}: {value!r} is not yes or no")


def parse_list(value) -> list[str]:
    """A JSON list, or text separated by ``;`` (or ``,``)."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value)
    separator = ";" if ";" in text else ","
    return [part.strip() for part in text.split(separator) if part.strip()]


def person(value, name: str = "") -> Person | None:
    if value is None:
        return None
    key = str(value).strip()
    return Person(key=key, name=name) if key else None
