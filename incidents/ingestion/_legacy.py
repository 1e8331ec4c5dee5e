"""Alert ingestion: parse what monitoring systems post, and turn it into incidents.

``parse_alert_batch`` reads a delivery (Prometheus Alertmanager webhook body
version 4, or the generic JSON shape) into an ``AlertBatch``; ``alert_ingest``
attaches it to the integration's open incident for its key, declaring one when
there is none. The database decides races: the partial unique constraint on
(integration, dedup_key) over open incidents lets exactly one concurrent declare
win; the others attach to the winner.

An alert storm must not flood the timeline: an ``AlertState`` row per incident
counts deliveries, and only new alerts, status changes and at most one "N
repeats" summary per ``REPEAT_SUMMARY_INTERVAL`` become timeline entries.

``rate_limit_hit`` is the per-integration fixed-window budget, kept in the
shared cache so that it holds across processes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from incidentops.exceptions import DomainError
from incidents import services
from incidents.models import (
    AlertState,
    Incident,
    Integration,
    SeverityLevel,
    TimelineEntry,
)

MAX_BODY_BYTES = 1024 * 1024
REPEAT_SUMMARY_INTERVAL = timedelta(minutes=5)
FIRING = "firing"
RESOLVED = "resolved"
ALERT_STATUSES = [(FIRING, "Firing"), (RESOLVED, "Resolved")]
_TEXT_LIMIT = 10_000


class MalformedAlert(DomainError):
    """The delivery is not a body this integration understands."""

    code = "malformed"


# --- the two bodies, as validate-only serializers (also the OpenAPI shapes) -----


class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ALERT_STATUSES)
    labels = serializers.DictField(child=serializers.CharField(allow_blank=True))
    annotations = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    startsAt = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    endsAt = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    generatorURL = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True
    )
    fingerprint = serializers.CharField(required=False, allow_blank=True)


class AlertmanagerPayloadSerializer(serializers.Serializer):
    """The Prometheus Alertmanager webhook body, version 4, as Alertmanager sends it."""

    version = serializers.ChoiceField(choices=["4"])
    groupKey = serializers.CharField(max_length=10_000)  # noqa: N815
    truncatedAlerts = serializers.IntegerField(  # noqa: N815
        required=False, default=0, min_value=0
    )
    status = serializers.ChoiceField(choices=ALERT_STATUSES)
    receiver = serializers.CharField(required=False, allow_blank=True)
    groupLabels = serializers.DictField(  # noqa: N815
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    commonLabels = serializers.DictField(  # noqa: N815
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    commonAnnotations = serializers.DictField(  # noqa: N815
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )
    externalURL = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True
    )
    alerts = AlertmanagerAlertSerializer(many=True, allow_empty=False)


class GenericAlertSerializer(serializers.Serializer):
    """The generic JSON alert: one alert per delivery, keyed by ``dedup_key``."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=_TEXT_LIMIT
    )
    dedup_key = serializers.CharField(max_length=255)
    severity_hint = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=60
    )
    status = serializers.ChoiceField(choices=ALERT_STATUSES, default=FIRING)
    labels = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False, default=dict
    )


class AlertAcceptedSerializer(serializers.Serializer):
    incident = serializers.CharField(
        allow_null=True,
        help_text="The incident's reference; null for a resolved notification "
        "about a key that never had an incident.",
    )
    created = serializers.BooleanField()


# --- parsing ------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    status: str
    name: str


@dataclass(frozen=True)
class AlertBatch:
    """One delivery, whatever its source format."""

    dedup_key: str
    status: str
    title: str
    description: str
    severity_hint: str
    alerts: list[Alert] = field(default_factory=list)
    source: dict = field(default_factory=dict)


def _first_error(errors) -> str:
    if isinstance(errors, dict):
        for key, value in errors.items():
            return f"{key}: {_first_error(value)}"
    if isinstance(errors, list):
        for value in errors:
            if value:
                return _first_error(value)
    return str(errors)


def _validated(serializer_class, payload) -> dict:
    if not isinstance(payload, dict):
        raise MalformedAlert("The body must be a JSON object.")
    serializer = serializer_class(data=payload)
    if not serializer.is_valid():
        raise MalformedAlert(_first_error(serializer.errors))
    return serializer.validated_data


def _fingerprint(labels: dict) -> str:
    # Alertmanager always sends one; a hand-made body may not.
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _parse_alertmanager(payload) -> AlertBatch:
    data = _validated(AlertmanagerPayloadSerializer, payload)
    common_labels = data["commonLabels"]
    common_annotations = data["commonAnnotations"]
    first = data["alerts"][0]
    name = common_labels.get("alertname") or first["labels"].get("alertname", "")
    title = (
        common_annotations.get("summary")
        or first["annotations"].get("summary")
        or name
        or "Alert from Alertmanager"
    )
    description = (
        common_annotations.get("description")
        or first["annotations"].get("description")
        or ""
    )
    group = ", ".join(f"{k}={v}" for k, v in sorted(data["groupLabels"].items()))
    if group:
        description = (description + "\n\n" if description else "") + (
            f"Alert group: {group}"
        )
    alerts = [
        Alert(
            fingerprint=alert.get("fingerprint") or _fingerprint(alert["labels"]),
            status=alert["status"],
            name=alert["labels"].get("alertname", name),
        )
        for alert in data["alerts"]
    ]
    return AlertBatch(
        dedup_key=data["groupKey"][:255],
        status=data["status"],
        title=title[:200],
        description=description[:_TEXT_LIMIT],
        severity_hint=common_labels.get("severity")
        or first["labels"].get("severity", ""),
        alerts=alerts,
        source={
            "receiver": data.get("receiver", ""),
            "externalURL": data.get("externalURL", ""),
            "truncatedAlerts": data["truncatedAlerts"],
            "commonLabels": common_labels,
        },
    )


def _parse_generic(payload) -> AlertBatch:
    data = _validated(GenericAlertSerializer, payload)
    return AlertBatch(
        dedup_key=data["dedup_key"],
        status=data["status"],
        title=data["title"],
        description=data["description"],
        severity_hint=data["severity_hint"] or data["labels"].get("severity", ""),
        alerts=[
            Alert(
                fingerprint=data["dedup_key"],
                status=data["status"],
                name=data["title"],
            )
        ],
        source={"labels": data["labels"]},
    )


def parse_alert_batch(*, integration: Integration, payload) -> AlertBatch:
    """Read a decoded JSON delivery in the integration's format.

    Raises ``MalformedAlert`` (with the first problem found) when it does not fit.
    """
    if integration.kind == Integration.Kind.ALERTMANAGER:
        return _parse_alertmanager(payload)
    return _parse_generic(payload)


# --- the rate limit -------------------------------------------------------------


def rate_limit_hit(*, integration: Integration, now: float | None = None) -> int:
    """Count one delivery against the integration's per-minute budget.

    Returns 0 when within budget, else the seconds until the window ends (for
    ``Retry-After``). A fixed window in the shared cache (``add`` then ``incr``,
    both atomic in Redis), so every process counts against one budget.
    """
    now = time.time() if now is None else now
    window = int(now // 60)
    key = f"incidentops:ingest-rate:{integration.pk}:{window}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=90)
        count = 1
    if count <= integration.rate_limit_per_minute:
        return 0
    return max(1, (window + 1) * 60 - int(now))


# --- ingestion ------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    incident: Incident | None
    created: bool


def _suggested_severity(integration: Integration, hint: str) -> SeverityLevel | None:
    if not hint:
        return None
    code = integration.severity_label_map.get(hint) or hint
    return SeverityLevel.objects.filter(code=code).first()


def _apply_label_suggestion(
    incident: Incident, integration: Integration, batch: AlertBatch, now: datetime
) -> None:
    # A label may SUGGEST a severity; only a person confirms one (DESIGN.md,
    # control 2), so this touches the suggestion fields alone.
    level = _suggested_severity(integration, batch.severity_hint)
    if level is None or incident.suggested_severity_id == level.pk:
        return
    services.incident_record_suggestion(
        incident=incident,
        severity=level,
        rationale=(
            f"the alert's severity label {batch.severity_hint!r} maps to "
            f"{level.code} in integration {integration.name}"
        ),
        label=batch.severity_hint,
        actor=integration.service_account,
        now=now,
    )


def _latest_for_key(integration: Integration, dedup_key: str) -> Incident | None:
    return (
        Incident.objects.filter(integration=integration, dedup_key=dedup_key)
        .order_by("-created_at", "-pk")
        .first()
    )


def _alert_names(alerts: list[Alert]) -> str:
    names = sorted({a.name or a.fingerprint for a in alerts})
    shown = ", ".join(names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _record_delivery(
    *,
    incident: Incident,
    integration: Integration,
    batch: AlertBatch,
    created: bool,
    now: datetime,
) -> None:
    """Count the delivery on the incident's AlertState and log what is new."""
    state, _ = AlertState.objects.get_or_create(
        incident=incident, defaults={"first_seen_at": now, "last_seen_at": now}
    )
    state = AlertState.objects.select_for_update().get(pk=state.pk)
    known = dict(state.alerts)
    new = [a for a in batch.alerts if a.fingerprint not in known]
    changed = [
        a
        for a in batch.alerts
        if a.fingerprint in known and known[a.fingerprint]["status"] != a.status
    ]
    for alert in batch.alerts:
        known[alert.fingerprint] = {"status": alert.status, "name": alert.name}
    group_changed = state.status != batch.status and not created

    state.alerts = known
    state.deliveries += 1
    state.last_seen_at = now
    actor = integration.service_account
    kind = TimelineEntry.Kind.ALERT
    if new:
        firing = [a for a in new if a.status == FIRING]
        services.timeline_record(
            incident=incident,
            kind=kind,
            actor=actor,
            occurred_at=now,
            summary=f"{len(new)} new alert(s) from {integration.name}"
            + (f", {len(firing)} firing" if firing else "")
            + f": {_alert_names(new)}",
            data={
                "fingerprints": [a.fingerprint for a in new],
                "status": batch.status,
                "dedup_key": batch.dedup_key,
                **batch.source,
            },
        )
    if changed and not group_changed:
        services.timeline_record(
            incident=incident,
            kind=kind,
            actor=actor,
            occurred_at=now,
            summary=f"{len(changed)} alert(s) changed status: "
            + ", ".join(f"{a.name or a.fingerprint} {a.status}" for a in changed[:5]),
            data={"changed": {a.fingerprint: a.status for a in changed}},
        )
    if not new and not changed and not group_changed:
        state.repeats_unreported += 1
    due = state.last_summary_at is None or now - state.last_summary_at >= (
        REPEAT_SUMMARY_INTERVAL
    )
    if state.repeats_unreported and due:
        services.timeline_record(
            incident=incident,
            kind=kind,
            actor=actor,
            occurred_at=now,
            summary=f"{state.repeats_unreported} repeat notification(s) from "
            f"{integration.name} ({state.deliveries} deliveries in all)",
            data={
                "repeats": state.repeats_unreported,
                "deliveries": state.deliveries,
                "first_seen_at": state.first_seen_at,
            },
        )
        state.repeats_unreported = 0
        state.last_summary_at = now
    if group_changed:
        state.status = batch.status
    state.save()
    if group_changed:
        _record_group_status(
            incident=incident, integration=integration, batch=batch, now=now
        )


def _record_group_status(
    *, incident: Incident, integration: Integration, batch: AlertBatch, now: datetime
) -> None:
    actor = integration.service_account
    if batch.status == FIRING:
        services.timeline_record(
            incident=incident,
            kind=TimelineEntry.Kind.ALERT,
            actor=actor,
            occurred_at=now,
            summary=f"{integration.name} reports the alert firing again.",
            data={"status": FIRING, "dedup_key": batch.dedup_key},
        )
        return
    services.timeline_record(
        incident=incident,
        kind=TimelineEntry.Kind.ALERT,
        actor=actor,
        occurred_at=now,
        summary=f"{integration.name} reports the alert resolved"
        + ("; a person confirms the resolution." if incident.is_open else "."),
        data={"status": RESOLVED, "dedup_key": batch.dedup_key},
    )
    # A monitor going quiet is evidence, not a resolution: at most it moves the
    # incident to mitigated, and only from investigating. A person resolves.
    if (
        integration.resolve_moves_to_mitigated
        and incident.status == Incident.Status.INVESTIGATING
    ):
        services.incident_transition(
            incident=incident,
            actor=actor,
            status=Incident.Status.MITIGATED,
            note=f"{integration.name} reports the alert resolved.",
            now=now,
        )


@transaction.atomic
def alert_ingest(
    *, integration: Integration, batch: AlertBatch, now: datetime | None = None
) -> IngestResult:
    """Attach a parsed delivery to the integration's open incident for its key,
    declaring one (as the integration's service account) when there is none.

    Changes: firing with no open incident → a new incident through
    ``incident_declare`` (the integration's default type; a severity label may
    set the *suggested* severity, never the confirmed one); every delivery → its
    ``AlertState`` counters; timeline ``alert`` entries for new alerts, status
    changes, the group resolving or firing again, and at most one repeat summary
    per ``REPEAT_SUMMARY_INTERVAL``. A resolved group moves an investigating
    incident to mitigated when ``resolve_moves_to_mitigated`` is set — never
    further. A resolved notification for a key without an open incident is
    recorded on the key's latest incident, if any; it opens nothing.
    Sends: what ``incident_declare`` / ``incident_transition`` send.
    Raises: ``NotPermitted`` if the integration is inactive.
    """
    now = now or timezone.now()
    incident = (
        Incident.objects.open()
        .filter(integration=integration, dedup_key=batch.dedup_key)
        .first()
    )
    created = False
    if incident is None and batch.status == RESOLVED:
        latest = _latest_for_key(integration, batch.dedup_key)
        if latest is not None:
            _record_delivery(
                incident=latest,
                integration=integration,
                batch=batch,
                created=False,
                now=now,
            )
        return IngestResult(incident=latest, created=False)
    if incident is None:
        try:
            incident = services.incident_declare(
                actor=integration.service_account,
                title=batch.title,
                description=batch.description,
                incident_type=integration.default_incident_type,
                integration=integration,
                dedup_key=batch.dedup_key,
                now=now,
            )
            created = True
        except services.OpenIncidentExists as race:
            # A concurrent delivery of this key won the insert: attach to it.
            incident = race.incident
    if created:
        _apply_label_suggestion(incident, integration, batch, now)
    _record_delivery(
        incident=incident,
        integration=integration,
        batch=batch,
        created=created,
        now=now,
    )
    return IngestResult(incident=incident, created=created)
