"""Reviews' figures for ``GET /metrics`` (``incidentops.metrics``)."""

from __future__ import annotations


def collect():
    """Reviews overdue now (not published, past their due date)."""
    from prometheus_client.core import GaugeMetricFamily

    from reviews.models import Review

    overdue = GaugeMetricFamily(
        "incidentops_reviews_overdue", "Post-incident reviews past their due date"
    )
    overdue.add_metric([], Review.objects.overdue().count())
    yield overdue
