"""``GET /metrics``: Prometheus text that prometheus_client's own parser reads,
with the open incidents, deliveries, outbox and overdue reviews; guarded by a
token or the allowed networks."""

import pytest

from incidents import services
from tests.factories import UserFactory

prometheus = pytest.importorskip("prometheus_client")  # a project dependency

pytestmark = pytest.mark.django_db


def _families(text: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families

    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_parse_and_count_open_incidents(client):
    reporter = UserFactory(username="rita", groups=["Responders"])
    services.incident_declare(actor=reporter, title="Checkout down")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    families = _families(response.content.decode())
    samples = families["incidentops_open_incidents"].samples
    assert [(s.labels, s.value) for s in samples] == [
        ({"severity": "unconfirmed", "status": "triage"}, 1.0)
    ]
    for name in (
        "incidentops_deliveries",
        "incidentops_outbox_pending",
        "incidentops_outbox_oldest_pending_seconds",
        "incidentops_reviews_overdue",
        "incidentops_alert_deliveries",
        "incidentops_alerts",
    ):
        assert name in families, name
    # the declaration's triage suggestion was timed
    latency = families["incidentops_triage_suggestion_seconds"]
    count = next(s for s in latency.samples if s.name.endswith("_count"))
    assert count.value >= 1


def test_a_token_is_required_when_set(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.status_code == 401
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret")
    assert right.status_code == 200


def test_other_networks_are_refused_without_a_token(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
