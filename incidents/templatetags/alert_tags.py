"""The incident page's alert panel: every alert the incident's integration sent,
firing first and worst first (``Alert.objects.for_table``)."""

from __future__ import annotations

from django import template

register = template.Library()

SHOWN_ALERTS = 100


@register.inclusion_tag("incidents/panels/_alerts.html")
def alert_panel(incident, limit: int = SHOWN_ALERTS):
    """Context for ``panels/_alerts.html``: nothing for an incident no alert
    raised; else its ingestion state, counts and the first ``limit`` alerts."""
    if not incident.integration_id:
        return {"incident": incident, "state": None}
    from incidents.models import Alert, AlertState

    state = AlertState.objects.filter(incident=incident).first()
    alerts = Alert.objects.filter(incident=incident)
    firing = alerts.filter(status=Alert.Status.FIRING).count()
    total = alerts.count()
    return {
        "incident": incident,
        "state": state,
        "alerts": list(alerts.for_table()[:limit]),
        "firing": firing,
        "total": total,
        "hidden": max(0, total - limit),
    }
