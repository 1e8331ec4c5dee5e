"""The PagerDuty Events API v2 body, so that any tool that can page PagerDuty
can send here by changing one URL.

Source: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ (and
the acknowledge and resolve pages beside it). ``event_action`` is ``trigger``,
``acknowledge`` or ``resolve``; ``dedup_key`` identifies the alert (required for
acknowledge and resolve; a trigger without one gets a new key, returned in the
reply as PagerDuty does); ``payload`` (trigger only) carries ``summary``,
``source``, ``severity`` (critical, error, warning, info), ``timestamp``,
``component``, ``group``, ``class`` and ``custom_details``; ``links`` and
``images`` become the alert's links. ``routing_key`` is the integration's secret
when the sender cannot set an ``Authorization`` header (see
``IntegrationBearerAuthentication``).

One event is one alert: the group is the dedup key, so its incident holds that
one alert, updated by every event with the key.
"""

from __future__ import annotations

import uuid

from rest_framework import serializers

from incidents.ingestion.batch import (
    ACKNOWLEDGE,
    FIRING,
    NAME_LIMIT,
    RESOLVE,
    RESOLVED,
    TITLE_LIMIT,
    TRIGGER,
    Alert,
    AlertBatch,
    JSONValueField,
    TextField,
    as_text,
    clip,
    clip_fingerprint,
    parse_time,
    validated,
)

KIND = "events-v2"
LABEL = "PagerDuty Events API v2"
ACTIONS = [TRIGGER, ACKNOWLEDGE, RESOLVE]
PAYLOAD_LABELS = ("source", "component", "group", "class")


class EventsV2PayloadFieldsSerializer(serializers.Serializer):
    summary = TextField()
    source = TextField(required=False, default="")
    severity = TextField(required=False, default="")
    timestamp = serializers.CharField(required=False, allow_blank=True)
    component = TextField(required=False, default="")
    group = TextField(required=False, default="")
    # ``class`` is a Python keyword, so the field is declared by name.
    locals()["class"] = TextField(required=False, default="")
    custom_details = JSONValueField(required=False, allow_null=True)

    def validate_summary(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A summary is required.")
        return value.strip()


class EventsV2LinkSerializer(serializers.Serializer):
    href = serializers.CharField()
    text = TextField(required=False, default="")


class EventsV2ImageSerializer(serializers.Serializer):
    src = serializers.CharField()
    href = serializers.CharField(required=False, allow_blank=True)
    alt = TextField(required=False, default="")


class EventsV2EventSerializer(serializers.Serializer):
    """A PagerDuty Events API v2 event."""

    routing_key = serializers.CharField(required=False, allow_blank=True)
    event_action = serializers.ChoiceField(choices=ACTIONS)
    dedup_key = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False
    )
    payload = EventsV2PayloadFieldsSerializer(required=False)
    client = TextField(required=False, default="")
    client_url = serializers.CharField(required=False, allow_blank=True)
    links = EventsV2LinkSerializer(many=True, required=False, default=list)
    images = EventsV2ImageSerializer(many=True, required=False, default=list)

    def validate(self, data):
        if data["event_action"] == TRIGGER and "payload" not in data:
            raise serializers.ValidationError(
                {"payload": "A trigger needs a payload with a summary."}
            )
        if data["event_action"] != TRIGGER and not data.get("dedup_key"):
            raise serializers.ValidationError(
                {"dedup_key": f"An {data['event_action']} event needs the dedup_key."}
            )
        return data


PayloadSerializer = EventsV2EventSerializer


def _links(data: dict) -> list[dict[str, str]]:
    links = [
        {"href": link["href"], "text": link["text"] or link["href"]}
        for link in data["links"]
    ]
    links += [
        {"href": image.get("href") or image["src"], "text": image["alt"] or "Image"}
        for image in data["images"]
    ]
    if data.get("client_url"):
        links.append({"href": data["client_url"], "text": data["client"] or "Source"})
    return links


def parse(payload) -> AlertBatch:
    """Read an Events API v2 event. Raises ``MalformedAlert`` naming the first
    problem (no ``event_action``, a trigger without ``payload.summary``, an
    acknowledge or resolve without ``dedup_key``)."""
    data = validated(EventsV2EventSerializer, payload)
    action = data["event_action"]
    key = data.get("dedup_key") or uuid.uuid4().hex
    event = data.get("payload") or {}
    summary = event.get("summary", "")
    labels = {name: event[name] for name in PAYLOAD_LABELS if event.get(name)}
    if event.get("severity"):
        labels["severity"] = event["severity"]
    details = {}
    if event.get("custom_details") is not None:
        details["custom_details"] = event["custom_details"]
    annotations = {"summary": summary} if summary else {}
    if isinstance(event.get("custom_details"), str):
        annotations["description"] = event["custom_details"]
    occurred_at = parse_time(event.get("timestamp"))
    alert = Alert(
        fingerprint=clip_fingerprint(key),
        status=RESOLVED if action == RESOLVE else FIRING,
        name=clip(summary, NAME_LIMIT),
        labels=labels,
        annotations=annotations,
        starts_at=occurred_at if action == TRIGGER else None,
        generator_url=data.get("client_url") or "",
        severity_label=as_text(event.get("severity", "")).strip(),
        links=_links(data),
        details=details,
    )
    description = "\n\n".join(
        filter(
            None,
            [
                summary if len(summary) > TITLE_LIMIT else "",
                annotations.get("description", ""),
                ", ".join(f"{k}={v}" for k, v in labels.items() if k != "severity"),
            ],
        )
    )
    return AlertBatch(
        group_key=key,
        status=RESOLVED if action == RESOLVE else FIRING,
        title=clip(summary or "Event from PagerDuty Events API v2", TITLE_LIMIT),
        description=description,
        alerts=(alert,),
        action=action,
        source={"format": "events-v2", "client": data["client"]},
        occurred_at=occurred_at,
    )


SAMPLE = {
    "routing_key": "the-integration-secret",
    "event_action": "trigger",
    "dedup_key": "checkout/latency",
    "payload": {
        "summary": "Checkout p99 latency 4.2 s",
        "source": "checkout-api-7",
        "severity": "error",
        "timestamp": "2026-03-01T18:00:00.000+08:00",
        "component": "checkout",
        "group": "payments",
        "class": "latency",
        "custom_details": {"p99_ms": 4200, "threshold_ms": 800},
    },
    "client": "Synthetic monitor",
    "client_url": "https://monitor.example/checks/42",
    "links": [{"href": "https://runbooks.example/latency", "text": "Runbook"}],
    "images": [{"src": "https://monitor.example/42.png", "alt": "Latency graph"}],
}

SAMPLES = [
    (
        "events v2 trigger",
        SAMPLE,
        AlertBatch(
            group_key="checkout/latency",
            status=FIRING,
            title="Checkout p99 latency 4.2 s",
            description="source=checkout-api-7, component=checkout, "
            "group=payments, class=latency",
            alerts=(
                Alert(
                    fingerprint="checkout/latency",
                    status=FIRING,
                    name="Checkout p99 latency 4.2 s",
                    labels={
                        "source": "checkout-api-7",
                        "component": "checkout",
                        "group": "payments",
                        "class": "latency",
                        "severity": "error",
                    },
                    annotations={"summary": "Checkout p99 latency 4.2 s"},
                    starts_at=parse_time("2026-03-01T10:00:00Z"),
                    generator_url="https://monitor.example/checks/42",
                    severity_label="error",
                    links=[
                        {"href": "https://runbooks.example/latency", "text": "Runbook"},
                        {
                            "href": "https://monitor.example/42.png",
                            "text": "Latency graph",
                        },
                        {
                            "href": "https://monitor.example/checks/42",
                            "text": "Synthetic monitor",
                        },
                    ],
                    details={"custom_details": {"p99_ms": 4200, "threshold_ms": 800}},
                ),
            ),
            action=TRIGGER,
            source={"format": "events-v2", "client": "Synthetic monitor"},
            occurred_at=parse_time("2026-03-01T10:00:00Z"),
        ),
    ),
    (
        "events v2 acknowledge",
        {
            "routing_key": "k",
            "event_action": "acknowledge",
            "dedup_key": "checkout/latency",
        },
        AlertBatch(
            group_key="checkout/latency",
            status=FIRING,
            title="Event from PagerDuty Events API v2",
            description="",
            alerts=(Alert(fingerprint="checkout/latency", status=FIRING, name=""),),
            action=ACKNOWLEDGE,
            source={"format": "events-v2", "client": ""},
        ),
    ),
    (
        "events v2 resolve",
        {
            "routing_key": "k",
            "event_action": "resolve",
            "dedup_key": "checkout/latency",
        },
        AlertBatch(
            group_key="checkout/latency",
            status=RESOLVED,
            title="Event from PagerDuty Events API v2",
            description="",
            alerts=(Alert(fingerprint="checkout/latency", status=RESOLVED, name=""),),
            action=RESOLVE,
            source={"format": "events-v2", "client": ""},
        ),
    ),
]
