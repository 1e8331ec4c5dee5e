"""The generic JSON alert: one alert per delivery, keyed by ``dedup_key``.

``{"title", "description", "dedup_key", "severity_hint", "status":
"firing"|"resolved", "labels": {}}`` (CONTRACT.md, "Alert ingestion"). A title
over 200 characters is cut (the whole text opens the description); label values
of any JSON type are kept as text.
"""

from __future__ import annotations

from rest_framework import serializers

from incidents.ingestion.batch import (
    ALERT_STATUSES,
    FIRING,
    NAME_LIMIT,
    RESOLVE,
    TEXT_LIMIT,
    TITLE_LIMIT,
    TRIGGER,
    Alert,
    AlertBatch,
    TextField,
    TextMapField,
    clip,
    clip_fingerprint,
    first_text,
    validated,
)

KIND = "generic"
LABEL = "Generic JSON"
SEVERITY_LABELS = ("severity", "priority")


class GenericAlertSerializer(serializers.Serializer):
    """The generic JSON alert: one alert per delivery, keyed by ``dedup_key``."""

    title = TextField()
    description = TextField(required=False, default="")
    dedup_key = serializers.CharField(trim_whitespace=False)
    severity_hint = TextField(required=False, default="")
    status = serializers.ChoiceField(choices=ALERT_STATUSES, default=FIRING)
    labels = TextMapField()

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("A title is required.")
        return value.strip()


PayloadSerializer = GenericAlertSerializer


def parse(payload) -> AlertBatch:
    """Read a generic JSON alert. Raises ``MalformedAlert`` naming the first
    problem (no title, no ``dedup_key``, an unknown status)."""
    data = validated(GenericAlertSerializer, payload)
    title = data["title"]
    description = data["description"].strip()
    if len(title) > TITLE_LIMIT:
        description = "\n\n".join(filter(None, [title, description]))
    labels = data["labels"]
    alert = Alert(
        fingerprint=clip_fingerprint(data["dedup_key"]),
        status=data["status"],
        name=clip(title, NAME_LIMIT),
        labels=labels,
        annotations={
            k: v
            for k, v in (("summary", title), ("description", data["description"]))
            if v.strip()
        },
        severity_label=data["severity_hint"].strip()
        or first_text(labels, SEVERITY_LABELS),
    )
    return AlertBatch(
        group_key=data["dedup_key"],
        status=data["status"],
        title=clip(title, TITLE_LIMIT),
        description=clip(description, TEXT_LIMIT),
        alerts=(alert,),
        action=TRIGGER if data["status"] == FIRING else RESOLVE,
        source={"format": "generic"},
    )


SAMPLE = {
    "title": "Disk almost full on db-1",
    "description": "95% used on /var/lib/postgresql",
    "dedup_key": "db-1-disk",
    "severity_hint": "High",
    "status": "firing",
    "labels": {"host": "db-1", "replica": False, "disk_gb": 500},
}

SAMPLES = [
    (
        "generic firing alert with non-text label values",
        SAMPLE,
        AlertBatch(
            group_key="db-1-disk",
            status=FIRING,
            title="Disk almost full on db-1",
            description="95% used on /var/lib/postgresql",
            alerts=(
                Alert(
                    fingerprint="db-1-disk",
                    status=FIRING,
                    name="Disk almost full on db-1",
                    labels={"host": "db-1", "replica": "false", "disk_gb": "500"},
                    annotations={
                        "summary": "Disk almost full on db-1",
                        "description": "95% used on /var/lib/postgresql",
                    },
                    severity_label="High",
                ),
            ),
            source={"format": "generic"},
        ),
    ),
]
