"""Notifications' figures for ``GET /metrics`` (``incidentops.metrics``)."""

from __future__ import annotations

from django.db.models import Count, Min
from django.utils import timezone


def collect():
    """Deliveries by channel kind and outcome; the outbox backlog and the age
    of its oldest pending delivery."""
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    from notifications.models import Delivery

    by_outcome = CounterMetricFamily(
        "incidentops_deliveries",
        "Deliveries by channel kind and outcome (pending, sent, failed)",
        labels=["channel", "outcome"],
    )
    for row in (
        Delivery.objects.order_by()
        .values("channel__kind", "status")
        .annotate(n=Count("pk"))
    ):
        by_outcome.add_metric([row["channel__kind"], row["status"]], row["n"])
    yield by_outcome
    pending = Delivery.objects.filter(status=Delivery.Status.PENDING).aggregate(
        n=Count("pk"), oldest=Min("created_at")
    )
    backlog = GaugeMetricFamily(
        "incidentops_outbox_pending", "Deliveries waiting to be sent"
    )
    backlog.add_metric([], pending["n"])
    yield backlog
    age = GaugeMetricFamily(
        "incidentops_outbox_oldest_pending_seconds",
        "Age of the oldest pending delivery (0 when none is pending)",
    )
    oldest = pending["oldest"]
    age.add_metric([], (timezone.now() - oldest).total_seconds() if oldest else 0.0)
    yield age
