"""The incident core's figures for ``GET /metrics`` (``incidentops.metrics``)."""

from __future__ import annotations

from django.db.models import Count, Sum

_triage_seconds = None


def triage_seconds():
    """The histogram of triage suggestion latency, or None without
    ``prometheus-client``."""
    global _triage_seconds
    if _triage_seconds is None:
        try:
            from prometheus_client import Histogram
        except ImportError:  # pragma: no cover - a declared dependency
            return None
        _triage_seconds = Histogram(
            "incidentops_triage_suggestion_seconds",
            "Time to compute a triage suggestion (type, severity, similar)",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=None,
        )
    return _triage_seconds


def observe_triage(seconds: float) -> None:
    """Record one triage suggestion's duration in seconds."""
    histogram = triage_seconds()
    if histogram is not None:
        histogram.observe(seconds)


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
