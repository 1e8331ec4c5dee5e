"""The incident core's figures for ``GET /metrics`` (``incidentops.metrics``)."""

from __future__ import annotations

from django.db.models import Count, Sum


def collect():
    """Open incidents by severity and status; alerts received and stored."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    from incidents.models import Alert, AlertState, Incident

    open_incidents = GaugeMetricFamily(
        "incidentops_open_incidents",
        "Incidents not resolved or closed, by confirmed severity and status",
        labels=["severity", "status"],
    )
    for row in (
        Incident.objects.open()
        .order_by()
        .values("severity__code", "status")
        .annotate(n=Count("pk"))
    ):
        open_incidents.add_metric(
            [row["severity__code"] or "unconfirmed", row["status"]], row["n"]
        )
    yield open_incidents
    deliveries = AlertState.objects.aggregate(total=Sum("deliveries"))["total"] or 0
    received = CounterMetricFamily(
        "incidentops_alert_deliveries",
        "Alert deliveries (webhook bodies) received on incidents' alert groups",
    )
    received.add_metric([], deliveries)
    yield received
    stored = CounterMetricFamily(
        "incidentops_alerts", "Distinct alerts kept on incidents (per fingerprint)"
    )
    stored.add_metric([], Alert.objects.count())
    yield stored
