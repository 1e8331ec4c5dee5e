"""Rendering a notification: the incident's context, the templates, the JSON.

Templates live in ``templates/notifications/<kind>.subject.txt``, ``<kind>.txt``
and ``<kind>.html``; a kind without its own templates uses ``generic.*``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import select_template
from django.utils import timezone

from incidentops.text import neutralise_bidi
from incidentops.timezones import org_zone
from incidents.models import Incident


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


def incident_link(incident: Incident) -> str:
    return settings.SITE_URL + incident.get_absolute_url()


def incident_summary(incident: Incident) -> dict:
    """The incident as webhooks see it (JSON-able)."""
    commander = incident.commander
    return {
        "id": incident.pk,
        "reference": incident.reference,
        "title": incident.title,
        "status": incident.status,
        "severity": incident.severity.code if incident.severity_id else None,
        "suggested_severity": (
            incident.suggested_severity.code if incident.suggested_severity_id else None
        ),
        "incident_type": (
            incident.incident_type.slug if incident.incident_type_id else None
        ),
        "impact": incident.impact,
        "commander": commander.username if commander else None,
        "restricted": incident.restricted,
        "url": incident_link(incident),
    }


def incident_context(incident: Incident) -> dict:
    """What every message says about its incident."""
    commander = incident.commander
    severity = incident.severity
    return {
        "incident": incident,
        "reference": incident.reference,
        "title": incident.title,
        "severity": f"{severity.code} {severity.name}" if severity else "unconfirmed",
        "severity_code": severity.code if severity else "",
        "status": incident.get_status_display(),
        "impact": incident.impact,
        "commander": commander.display_name if commander else "nobody yet",
        "next_update_due": incident.next_update_due_at(),
        "link": incident_link(incident),
    }


def _render(names: list[str], context: dict) -> str:
    return select_template(names).render(context)


def render(kind: str, context: dict) -> RenderedMessage:
    """Render the subject, plain text and HTML of a ``kind`` message. Times are
    shown in the organisation's zone (``INCIDENTOPS_TIME_ZONE``), as the portal
    shows them, whatever zone the process (a worker) runs in."""

    def names(suffix: str) -> list[str]:
        return [f"notifications/{kind}.{suffix}", f"notifications/generic.{suffix}"]

    with timezone.override(org_zone()):
        # No bidirectional overrides in a subject, whatever a title held before.
        subject = " ".join(
            neutralise_bidi(_render(names("subject.txt"), context)).split()
        )
        text = _render(names("txt"), context).strip() + "\n"
        html = _render(names("html"), context)
    return RenderedMessage(subject=subject[:300], text=text, html=html)


def to_json(value) -> object:
    """``value`` as it reads back from a JSONField."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def webhook_payload(
    *,
    event: str,
    incident: Incident,
    data: dict,
    occurred_at: datetime | None = None,
) -> dict:
    """The documented webhook body (docs/notifications.md)."""
    return to_json(
        {
            "event": event,
            "incident": incident_summary(incident),
            "data": data,
            "occurred_at": occurred_at or timezone.now(),
        }
    )
