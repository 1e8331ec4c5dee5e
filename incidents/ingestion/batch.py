"""The normalised shape every sender format is read into, and its small helpers.

A delivery becomes one ``AlertBatch``: the group's identity (the whole group key
or dedup key, of any length, and its SHA-256 for the database), what to call an
incident it opens, and every alert it carries as an ``Alert``. Parsers
(``incidents.ingestion.parsers``) build batches; ``alert_ingest`` stores them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidentops.exceptions import DomainError
from incidentops.parsers import bad_text, check_json

FIRING = "firing"
RESOLVED = "resolved"
ALERT_STATUSES = [(FIRING, "Firing"), (RESOLVED, "Resolved")]

# What a delivery asks for. Alertmanager, Grafana and generic bodies only ever
# say firing or resolved; an Events API v2 ``acknowledge`` says the sender's
# user has seen the alert (see ``alert_ingest`` for what that does and does not
# do).
TRIGGER = "trigger"
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"

TITLE_LIMIT = 200  # Incident.title
NAME_LIMIT = 200  # Alert.name
TEXT_LIMIT = 20_000  # a description built from a sender's text
FINGERPRINT_LIMIT = 128  # Alert.fingerprint; longer ones are hashed


class MalformedAlert(DomainError):
    """The delivery is not a body this integration understands."""

    code = "malformed"


@dataclass(frozen=True)
class Alert:
    """One alert of a delivery, whatever its source format.

    ``labels`` and ``annotations`` map names to text; ``starts_at``/``ends_at``
    are aware datetimes or None (Alertmanager's zero time is None);
    ``severity_label`` is the sender's own severity word, not yet mapped;
    ``links`` is a list of ``{"href", "text"}``; ``details`` keeps what the
    format carries beyond these (Grafana's ``values``, Events v2
    ``custom_details``), for people to read.
    """

    fingerprint: str
    status: str
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str = ""
    severity_label: str = ""
    links: list[dict[str, str]] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        """What the alert says, from the annotations people write most."""
        return first_text(self.annotations, ("summary", "description", "message"))


@dataclass(frozen=True)
class AlertBatch:
    """One delivery, whatever its source format.

    ``group_key`` is the sender's whole identity for the group (Alertmanager
    ``groupKey``, generic ``dedup_key``, Events v2 ``dedup_key``); ``dedup_key``
    is its SHA-256 (hex), which the database keeps unique per open incident, so
    keys of any length that differ anywhere never share an incident. ``status``
    is the group's (firing or resolved); ``action`` is ``trigger``,
    ``acknowledge`` or ``resolve``. ``truncated_alerts`` counts alerts the
    sender left out (Alertmanager ``max_alerts``).
    """

    group_key: str
    status: str
    title: str
    description: str
    alerts: tuple[Alert, ...]
    action: str = TRIGGER
    truncated_alerts: int = 0
    source: dict = field(default_factory=dict)
    occurred_at: datetime | None = None

    @property
    def dedup_key(self) -> str:
        return key_hash(self.group_key)

    @property
    def firing(self) -> list[Alert]:
        return [a for a in self.alerts if a.status == FIRING]

    def earliest_start(self) -> datetime | None:
        """The earliest ``startsAt`` of the firing alerts (or the event time)."""
        starts = [a.starts_at for a in self.firing if a.starts_at is not None]
        if not starts and self.occurred_at is not None:
            return self.occurred_at
        return min(starts, default=None)


# --- helpers shared by the parsers ---------------------------------------------


def key_hash(key: str) -> str:
    """SHA-256 (hex) of a whole group or dedup key: the stored dedup identity."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def as_text(value) -> str:
    """Any JSON value as text: strings unchanged, ``true``/``false``/numbers as
    JSON writes them, ``null`` as "", lists and objects as compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def text_map(value) -> dict[str, str]:
    """A JSON object as ``{name: text}``; anything else as an empty map."""
    if not isinstance(value, dict):
        return {}
    return {str(k): as_text(v) for k, v in value.items()}


def first_text(mapping: dict[str, str], names) -> str:
    for name in names:
        text = (mapping.get(name) or "").strip()
        if text:
            return text
    return ""


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def clip_fingerprint(value: str) -> str:
    return value if len(value) <= FINGERPRINT_LIMIT else key_hash(value)


def label_fingerprint(labels: dict[str, str]) -> str:
    """A stable fingerprint from the labels, for bodies that carry none."""
    canonical = json.dumps(labels, sort_keys=True, separators=(",", ":"))
    return key_hash(canonical)[:16]


# Alertmanager marks an unset time with Go's zero time.
_ZERO_YEAR = 1


def parse_time(value) -> datetime | None:
    """An RFC 3339 / ISO 8601 time with its offset, as an aware datetime.

    Go's zero time (``0001-01-01T00:00:00Z``), blanks and unreadable values are
    None: a time we cannot read is not a reason to lose the alert. A time
    without an offset is taken as UTC.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.year <= _ZERO_YEAR:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def first_error(errors) -> str:
    """The first validation message, as ``field: message``."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            return f"{key}: {first_error(value)}"
    if isinstance(errors, list):
        for value in errors:
            if value:
                return first_error(value)
    return str(errors)


def validated(serializer_class, payload) -> dict:
    """``payload`` checked by a validate-only serializer; ``MalformedAlert``
    naming the first problem otherwise."""
    if not isinstance(payload, dict):
        raise MalformedAlert("The body must be a JSON object.")
    serializer = serializer_class(data=payload)
    if not serializer.is_valid():
        raise MalformedAlert(first_error(serializer.errors))
    return serializer.validated_data


@extend_schema_field(OpenApiTypes.ANY)
class TextField(serializers.Field):
    """Any JSON value, read as text (``as_text``): label values may be numbers
    or booleans, and a sender that cannot retry must not lose its alert over
    that."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is None:  # JSON null is text too: ""
            return (True, "")
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        text = as_text(data)
        refuse_bad_text(text)
        return text

    def to_representation(self, value):
        return value


def refuse_bad_text(text: str, what: str = "The text") -> None:
    """``ValidationError`` when ``text`` cannot be stored (``bad_text``: a NUL
    character or a lone surrogate), as DRF's ``CharField`` refuses them: every
    text field of every sender goes through this or that."""
    problem = bad_text(text)
    if problem:
        raise serializers.ValidationError(f"{what} {problem}.")


class TextMapField(serializers.DictField):
    """A JSON object whose values are kept as text, whatever their JSON type.
    Keys and values that cannot be stored (``bad_text``) are refused."""

    child = TextField()

    def __init__(self, **kwargs):
        if not kwargs.get("required"):
            kwargs.setdefault("required", False)
            kwargs.setdefault("default", dict)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            for key in data:
                refuse_bad_text(str(key), "A key")
        return super().to_internal_value(data)


class JSONValueField(serializers.JSONField):
    """Any JSON value kept as it is (Grafana's ``values``, Events v2
    ``custom_details``), refused when a key or string in it cannot be stored
    (``check_json``: a NUL character or a lone surrogate)."""

    def to_internal_value(self, data):
        problem = check_json(data, max_depth=10_000)
        if problem:
            raise serializers.ValidationError(f"Refused: {problem}.")
        return super().to_internal_value(data)
