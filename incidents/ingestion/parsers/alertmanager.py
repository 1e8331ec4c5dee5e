"""Prometheus Alertmanager's webhook body (version 4), and Grafana's (version 1).

Alertmanager: https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
("The Alertmanager will send HTTP POST requests in the following JSON format").
Grafana's alerting webhook contact point sends the same shape with
``"version": "1"`` and a few fields of its own (``orgId``, ``title``, ``state``,
``message``; per alert ``values``, ``valueString``, ``dashboardURL``,
``panelURL``, ``silenceURL``, ``imageURL``):
https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/

The group's identity is the whole ``groupKey``; the incident is named after the
group's common ``summary``, else its alert name; every alert is kept.
"""

from __future__ import annotations

from datetime import UTC, datetime

from rest_framework import serializers

from incidentops.parsers import check_json
from incidents.ingestion.batch import (
    ALERT_STATUSES,
    FIRING,
    NAME_LIMIT,
    RESOLVE,
    TITLE_LIMIT,
    TRIGGER,
    Alert,
    AlertBatch,
    JSONValueField,
    TextField,
    TextMapField,
    as_text,
    clip,
    clip_fingerprint,
    first_text,
    label_fingerprint,
    parse_time,
    validated,
)

KIND = "alertmanager"
LABEL = "Prometheus Alertmanager (webhook version 4) or Grafana (version 1)"
SEVERITY_LABELS = ("severity", "priority")
# Annotations that hold a link people follow from the alert table.
LINK_ANNOTATIONS = {
    "runbook_url": "Runbook",
    "runbook": "Runbook",
    "dashboard": "Dashboard",
    "dashboard_url": "Dashboard",
}
# Grafana's per-alert links.
GRAFANA_LINKS = {
    "dashboardURL": "Dashboard",
    "panelURL": "Panel",
    "silenceURL": "Silence",
    "imageURL": "Image",
}


class AlertmanagerAlertSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ALERT_STATUSES)
    labels = TextMapField(required=True)
    annotations = TextMapField()
    startsAt = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    endsAt = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    generatorURL = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True
    )
    fingerprint = serializers.CharField(required=False, allow_blank=True)
    # Grafana only
    values = JSONValueField(required=False, allow_null=True)
    valueString = TextField(required=False)  # noqa: N815
    dashboardURL = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    panelURL = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    silenceURL = serializers.CharField(required=False, allow_blank=True)  # noqa: N815
    imageURL = serializers.CharField(required=False, allow_blank=True)  # noqa: N815


class AlertmanagerPayloadSerializer(serializers.Serializer):
    """The Alertmanager webhook body, version 4, as Alertmanager sends it; or
    Grafana's alerting webhook body, version 1 (same shape, a few more fields).
    """

    version = serializers.ChoiceField(choices=["4", "1"])
    groupKey = serializers.CharField(trim_whitespace=False)  # noqa: N815
    truncatedAlerts = serializers.IntegerField(  # noqa: N815
        required=False, default=0, min_value=0
    )
    status = serializers.ChoiceField(choices=ALERT_STATUSES)
    receiver = serializers.CharField(required=False, allow_blank=True)
    groupLabels = TextMapField()  # noqa: N815
    commonLabels = TextMapField()  # noqa: N815
    commonAnnotations = TextMapField()  # noqa: N815
    externalURL = serializers.CharField(  # noqa: N815
        required=False, allow_blank=True
    )
    alerts = AlertmanagerAlertSerializer(many=True, allow_empty=False)
    # Grafana only
    orgId = serializers.IntegerField(required=False)  # noqa: N815
    title = TextField(required=False)
    state = TextField(required=False)
    message = TextField(required=False)


PayloadSerializer = AlertmanagerPayloadSerializer


# --- the fast path -------------------------------------------------------------
# Alertmanager and Grafana send their bodies in one canonical form. Validating
# that form with the serializer costs more than the rest of a delivery's Python
# work, so it is checked here directly and yields exactly what the serializer's
# ``validated_data`` would (tests/incidents/test_ingestion_parsers.py compares
# the two on generated bodies). Whatever is not plainly canonical returns None
# and goes through the serializer, which also words every refusal.

MAX_DEPTH = 10_000  # the body's depth is capped before parsing (body.py)
_STATUSES = (FIRING, "resolved")  # a tuple: a list or dict value must not raise
_OPTIONAL_TEXT = ("receiver", "externalURL")
_ALERT_TEXT = (
    "startsAt",
    "endsAt",
    "generatorURL",
    "fingerprint",
    "dashboardURL",
    "panelURL",
    "silenceURL",
    "imageURL",
)


def _text_map(value):
    if not isinstance(value, dict):
        return None
    return {k: v if isinstance(v, str) else as_text(v) for k, v in value.items()}


def _copy_text(source: dict, target: dict, names) -> bool:
    for name in names:
        if name in source:
            value = source[name]
            # The serializer refuses null characters: such a body is not plain.
            if not isinstance(value, str) or "\x00" in value:
                return False
            target[name] = value.strip()
    return True


def _canonical_alert(alert) -> dict | None:
    if not isinstance(alert, dict) or alert.get("status") not in _STATUSES:
        return None
    labels = _text_map(alert.get("labels"))
    annotations = _text_map(alert.get("annotations", {}))
    if labels is None or annotations is None:
        return None
    data = {"status": alert["status"], "labels": labels, "annotations": annotations}
    if not _copy_text(alert, data, _ALERT_TEXT):
        return None
    if "values" in alert:
        data["values"] = alert["values"]
    if "valueString" in alert:
        data["valueString"] = as_text(alert["valueString"])
    return data


def _canonical(payload) -> dict | None:
    """``payload`` as the serializer would validate it, when it is in the
    canonical form; None otherwise (also when any key or string in it cannot be
    stored: the serializer refuses those, field by field, and says which)."""
    if not isinstance(payload, dict) or payload.get("version") not in ("4", "1"):
        return None
    if check_json(payload, max_depth=MAX_DEPTH):
        return None
    key, truncated = payload.get("groupKey"), payload.get("truncatedAlerts", 0)
    raw_alerts = payload.get("alerts")
    if (
        not isinstance(key, str)
        or not key.strip()
        or "\x00" in key  # refused by the serializer's CharField
        or payload.get("status") not in (_STATUSES)
    ):
        return None
    if type(truncated) is not int or truncated < 0:
        return None
    if not isinstance(raw_alerts, list) or not raw_alerts:
        return None
    data = {
        "version": payload["version"],
        "groupKey": key,
        "truncatedAlerts": truncated,
        "status": payload["status"],
    }
    for name in ("groupLabels", "commonLabels", "commonAnnotations"):
        data[name] = _text_map(payload.get(name, {}))
        if data[name] is None:
            return None
    if not _copy_text(payload, data, _OPTIONAL_TEXT):
        return None
    if "orgId" in payload:
        if type(payload["orgId"]) is not int:
            return None
        data["orgId"] = payload["orgId"]
    for name in ("title", "state", "message"):
        if name in payload:
            data[name] = as_text(payload[name])
    alerts = [_canonical_alert(alert) for alert in raw_alerts]
    if any(alert is None for alert in alerts):
        return None
    data["alerts"] = alerts
    return data


def _links(alert: dict, annotations: dict[str, str]) -> list[dict[str, str]]:
    links = []
    for name, text in LINK_ANNOTATIONS.items():
        href = annotations.get(name, "").strip()
        if href.startswith(("http://", "https://")):
            links.append({"href": href, "text": text})
    for name, text in GRAFANA_LINKS.items():
        href = (alert.get(name) or "").strip()
        if href:
            links.append({"href": href, "text": text})
    return links


def _alert(alert: dict, fallback_name: str) -> Alert:
    labels = alert["labels"]
    annotations = alert["annotations"]
    details = {}
    if alert.get("values") is not None:
        details["values"] = alert["values"]
    if alert.get("valueString"):
        details["valueString"] = alert["valueString"]
    return Alert(
        fingerprint=clip_fingerprint(
            alert.get("fingerprint") or label_fingerprint(labels)
        ),
        status=alert["status"],
        name=clip(labels.get("alertname") or fallback_name, NAME_LIMIT),
        labels=labels,
        annotations=annotations,
        starts_at=parse_time(alert.get("startsAt")),
        ends_at=parse_time(alert.get("endsAt")),
        generator_url=alert.get("generatorURL") or "",
        severity_label=first_text(labels, SEVERITY_LABELS),
        links=_links(alert, annotations),
        details=details,
    )


def parse(payload) -> AlertBatch:
    """Read an Alertmanager (v4) or Grafana (v1) webhook body.

    Raises ``MalformedAlert`` naming the first problem (no ``groupKey``, no
    alerts, an unknown version or status).
    """
    data = _canonical(payload)
    if data is None:  # anything unusual: the serializer decides, and says why
        data = validated(AlertmanagerPayloadSerializer, payload)
    common_labels = data["commonLabels"]
    common = data["commonAnnotations"]
    raw = data["alerts"]
    name = (
        common_labels.get("alertname")
        or data["groupLabels"].get("alertname")
        or raw[0]["labels"].get("alertname", "")
    )
    alerts = tuple(_alert(a, name or "alert") for a in raw)
    single = alerts[0].annotations if len(alerts) == 1 else {}
    title = (
        first_text(common, ("summary",))
        or first_text(single, ("summary",))
        or name
        or (data.get("title") or "").strip()
        or "Alert from Alertmanager"
    )
    description = first_text(common, ("description", "message")) or first_text(
        single, ("description", "message")
    )
    if not description and data.get("message"):
        description = data["message"].strip()
    if len(title) > TITLE_LIMIT:
        description = "\n\n".join(filter(None, [title, description]))
    group = ", ".join(f"{k}={v}" for k, v in sorted(data["groupLabels"].items()))
    if group:
        description = "\n\n".join(filter(None, [description, f"Alert group: {group}"]))
    source = {
        "format": "grafana" if data["version"] == "1" else "alertmanager",
        "receiver": data.get("receiver", ""),
        "externalURL": data.get("externalURL", ""),
    }
    if data.get("orgId") is not None:
        source["orgId"] = data["orgId"]
    return AlertBatch(
        group_key=data["groupKey"],
        status=data["status"],
        title=clip(title, TITLE_LIMIT),
        description=description,
        alerts=alerts,
        action=TRIGGER if data["status"] == FIRING else RESOLVE,
        truncated_alerts=data["truncatedAlerts"],
        source=source,
    )


# --- samples: what each sender posts, and what it must read as -----------------

SAMPLE_ALERTMANAGER = {
    "version": "4",
    "groupKey": '{}/{severity=~"critical|warning"}:{alertname="HighErrorRate"}',
    "truncatedAlerts": 2,
    "status": "firing",
    "receiver": "incidentops",
    "groupLabels": {"alertname": "HighErrorRate"},
    "commonLabels": {"alertname": "HighErrorRate", "job": "checkout"},
    "commonAnnotations": {"runbook_url": "https://runbooks.example/errors"},
    "externalURL": "http://alertmanager.example:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "job": "checkout",
                "instance": "web-1",
                "severity": "Warning",
            },
            "annotations": {
                "summary": "5xx above 5% on web-1",
                "runbook_url": "https://runbooks.example/errors",
            },
            "startsAt": "2026-03-01T18:00:00.123456789+08:00",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example/graph?g0.expr=errors",
            "fingerprint": "a1b2c3d4e5f60718",
        },
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "job": "checkout",
                "instance": "web-2",
                "severity": "critical",
            },
            "annotations": {"message": "5xx at 31% on web-2"},
            "startsAt": "2026-03-01T10:02:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": "0f1e2d3c4b5a6978",
        },
    ],
}

SAMPLE_GRAFANA = {
    "receiver": "incidentops",
    "status": "firing",
    "orgId": 1,
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "DiskFull", "grafana_folder": "Storage"},
            "annotations": {"summary": "Disk at 97% on db-1"},
            "startsAt": "2026-03-01T10:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://grafana.example/alerting/grafana/abc/view",
            "fingerprint": "57c6d9296de2ad39",
            "silenceURL": "https://grafana.example/alerting/silence/new",
            "dashboardURL": "https://grafana.example/d/storage",
            "panelURL": "https://grafana.example/d/storage?viewPanel=3",
            "values": {"B": 97.2, "C": 1},
            "valueString": "[ var='B' labels={} value=97.2 ]",
        }
    ],
    "groupLabels": {"alertname": "DiskFull"},
    "commonLabels": {"alertname": "DiskFull", "grafana_folder": "Storage"},
    "commonAnnotations": {"summary": "Disk at 97% on db-1"},
    "externalURL": "https://grafana.example/",
    "version": "1",
    "groupKey": '{}/{__grafana_autogenerated__="true"}:{alertname="DiskFull"}',
    "truncatedAlerts": 0,
    "title": "[FIRING:1] DiskFull Storage",
    "state": "alerting",
    "message": "**Firing**\n\nValue: B=97.2\nLabels:\n - alertname = DiskFull\n",
}

SAMPLES = [
    (
        "alertmanager v4, two alerts of mixed severity, two left out",
        SAMPLE_ALERTMANAGER,
        AlertBatch(
            group_key=SAMPLE_ALERTMANAGER["groupKey"],
            status=FIRING,
            title="HighErrorRate",
            description="Alert group: alertname=HighErrorRate",
            alerts=(
                Alert(
                    fingerprint="a1b2c3d4e5f60718",
                    status=FIRING,
                    name="HighErrorRate",
                    labels=SAMPLE_ALERTMANAGER["alerts"][0]["labels"],
                    annotations=SAMPLE_ALERTMANAGER["alerts"][0]["annotations"],
                    starts_at=datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC),
                    generator_url="http://prometheus.example/graph?g0.expr=errors",
                    severity_label="Warning",
                    links=[
                        {"href": "https://runbooks.example/errors", "text": "Runbook"}
                    ],
                ),
                Alert(
                    fingerprint="0f1e2d3c4b5a6978",
                    status=FIRING,
                    name="HighErrorRate",
                    labels=SAMPLE_ALERTMANAGER["alerts"][1]["labels"],
                    annotations={"message": "5xx at 31% on web-2"},
                    starts_at=datetime(2026, 3, 1, 10, 2, tzinfo=UTC),
                    severity_label="critical",
                ),
            ),
            truncated_alerts=2,
            source={
                "format": "alertmanager",
                "receiver": "incidentops",
                "externalURL": "http://alertmanager.example:9093",
            },
        ),
    ),
    (
        "grafana v1 contact point",
        SAMPLE_GRAFANA,
        AlertBatch(
            group_key=SAMPLE_GRAFANA["groupKey"],
            status=FIRING,
            title="Disk at 97% on db-1",
            description=SAMPLE_GRAFANA["message"].strip()
            + "\n\nAlert group: alertname=DiskFull",
            alerts=(
                Alert(
                    fingerprint="57c6d9296de2ad39",
                    status=FIRING,
                    name="DiskFull",
                    labels={"alertname": "DiskFull", "grafana_folder": "Storage"},
                    annotations={"summary": "Disk at 97% on db-1"},
                    starts_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
                    generator_url="https://grafana.example/alerting/grafana/abc/view",
                    links=[
                        {
                            "href": "https://grafana.example/d/storage",
                            "text": "Dashboard",
                        },
                        {
                            "href": "https://grafana.example/d/storage?viewPanel=3",
                            "text": "Panel",
                        },
                        {
                            "href": "https://grafana.example/alerting/silence/new",
                            "text": "Silence",
                        },
                    ],
                    details={
                        "values": {"B": 97.2, "C": 1},
                        "valueString": "[ var='B' labels={} value=97.2 ]",
                    },
                ),
            ),
            source={
                "format": "grafana",
                "receiver": "incidentops",
                "externalURL": "https://grafana.example/",
                "orgId": 1,
            },
        ),
    ),
]
