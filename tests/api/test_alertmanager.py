"""A real Prometheus Alertmanager posting to a running server."""

import json
import socket
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from incidents.models import Incident, Integration

pytestmark = [pytest.mark.alertmanager, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _config(url: str, secret: str, group_by: list[str]) -> str:
    return json.dumps(  # JSON is YAML
        {
            "route": {
                "receiver": "incidentops",
                "group_by": group_by,
                "group_wait": "1s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [
                {
                    "name": "incidentops",
                    "webhook_configs": [
                        {
                            "url": url,
                            "send_resolved": True,
                            "http_config": {"authorization": {"credentials": secret}},
                        }
                    ],
                }
            ],
        }
    )


@pytest.fixture
def group_by():
    return ["alertname"]


@pytest.fixture
def alertmanager(live_server, settings, tmp_path, capsys, group_by):
    settings.SITE_URL = live_server.url
    call_command("create_integration", "alertmanager-e2e", "--kind", "alertmanager")
    printed = json.loads(capsys.readouterr().out.strip())
    config = tmp_path / "alertmanager.yml"
    config.write_text(_config(printed["url"], printed["secret"], group_by))
    port = _free_port()
    log = open(tmp_path / "alertmanager.log", "w")
    process = subprocess.Popen(
        [
            "prometheus-alertmanager",
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    try:
        _wait_for(ready, what="Alertmanager to start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _post_alert(base: str, *, ends_at: datetime | None = None) -> None:
    now = datetime.now(UTC)
    alert = {
        "labels": {"alertname": "DiskAlmostFull", "severity": "critical"},
        "annotations": {"summary": "Disk almost full on db-1"},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
    }
    if ends_at is not None:
        alert["endsAt"] = ends_at.isoformat()
    _post_alerts(base, [alert])


def _post_alerts(base: str, alerts: list[dict]) -> None:
    request = urllib.request.Request(
        f"{base}/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def test_alertmanager_opens_an_incident_and_records_the_resolution(alertmanager):
    # when: an alert fires
    _post_alert(alertmanager)

    # then: one incident in triage, severity suggested from the label only
    incident = _wait_for(
        lambda: Incident.objects.filter(integration__name="alertmanager-e2e").first(),
        what="the incident",
    )
    assert incident.title == "Disk almost full on db-1"
    assert incident.status == "triage"
    assert incident.suggested_severity.code == "SEV-1"
    assert incident.severity is None
    assert Integration.objects.get().incidents.count() == 1

    # when: the alert ends
    _post_alert(alertmanager, ends_at=datetime.now(UTC) - timedelta(seconds=1))

    # then: the resolution is on the timeline; only a person resolves
    entry = _wait_for(
        lambda: incident.timeline.filter(data__status="resolved").first(),
        what="the resolved notification",
    )
    assert "resolved" in entry.summary
    incident.refresh_from_db()
    assert incident.status == "triage"
    assert Incident.objects.count() == 1


# --- group_by: ['...']: every label set is its own group --------------------------------


def _checkout_alert(instance: str, severity: str, **extra) -> dict:
    return {
        "labels": {
            "alertname": "CheckoutErrors",
            "cluster": "eu-west-1-production-main",
            "namespace": "payments",
            "service": "checkout-api",
            "prometheus": "monitoring/k8s-production-eu-west-1",
            "job": "checkout-api-http-metrics",
            "instance": instance,
            "severity": severity,
        },
        "annotations": {
            "summary": f"Checkout errors on {instance}",
            "runbook_url": "https://runbooks.example/checkout",
        },
        "startsAt": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        **extra,
    }


@pytest.mark.parametrize("group_by", [["..."]])
def test_group_by_every_label_keeps_groups_apart_with_their_own_alerts(
    alertmanager, group_by
):
    from incidents.models import Alert

    # when: three alerts of mixed severity, differing only in the last labels
    alerts = [
        _checkout_alert("web-1:8080", "warning"),
        _checkout_alert("web-2:8080", "Critical"),
        _checkout_alert("web-3:8080", "page"),
    ]
    _post_alerts(alertmanager, alerts)

    # then: one incident per group, each with its alert and its severity
    incidents = _wait_for(
        lambda: (lambda found: found if len(found) == 3 else None)(
            list(Incident.objects.filter(integration__name="alertmanager-e2e"))
        ),
        what="three incidents",
    )
    keys = [i.alert_state.group_key for i in incidents]
    assert len(set(keys)) == 3
    assert all(len(key) > 200 for key in keys)
    by_instance = {
        a.labels["instance"]: a for a in Alert.objects.select_related("incident")
    }
    assert set(by_instance) == {"web-1:8080", "web-2:8080", "web-3:8080"}
    assert by_instance["web-1:8080"].incident.suggested_severity.code == "SEV-3"
    assert by_instance["web-2:8080"].incident.suggested_severity.code == "SEV-1"
    assert by_instance["web-3:8080"].incident.suggested_severity.code == "SEV-1"
    assert all(i.severity is None for i in incidents)
    for alert in by_instance.values():
        assert alert.links == [
            {"href": "https://runbooks.example/checkout", "text": "Runbook"}
        ]
        assert alert.incident.detected_at == alert.starts_at
        assert alert.deliveries == 1
        listed = _alerts_api(alert.incident)
        assert [row["fingerprint"] for row in listed] == [alert.fingerprint]
        assert listed[0]["labels"]["severity"] == alert.labels["severity"]

    # when: a fourth label set fires: a fourth group, the others untouched
    _post_alerts(alertmanager, [_checkout_alert("web-4:8080", "major")])
    fourth = _wait_for(
        lambda: Alert.objects.filter(labels__instance="web-4:8080").first(),
        what="the fourth group's alert",
    )
    assert fourth.incident.suggested_severity.code == "SEV-2"
    assert Incident.objects.count() == 4
    assert Alert.objects.count() == 4

    # when: one group resolves
    resolved = _checkout_alert(
        "web-2:8080",
        "Critical",
        endsAt=(datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
    )
    _post_alerts(alertmanager, [resolved])

    # then: only its own incident hears of it
    _wait_for(
        lambda: Alert.objects.filter(
            labels__instance="web-2:8080", status="resolved"
        ).exists(),
        what="the resolved alert",
    )
    assert Alert.objects.filter(status="firing").count() == 3
    others = [
        by_instance["web-1:8080"].incident,
        by_instance["web-3:8080"].incident,
        fourth.incident,
    ]
    for incident in others:
        assert not incident.timeline.filter(data__status="resolved").exists()
    assert Incident.objects.count() == 4


def _alerts_api(incident) -> list[dict]:
    from tests.api.conftest import client_for
    from tests.factories import UserFactory

    reader = UserFactory(groups=["Incident managers", "Responders"])
    response = client_for(reader).get(f"/api/v1/incidents/{incident.pk}/alerts/")
    assert response.status_code == 200
    return response.json()["results"]


def test_one_group_of_mixed_severities_keeps_every_alert_and_follows_the_worst(
    alertmanager,
):
    # when: a warning fires, then a critical alert of the same group joins
    _post_alerts(alertmanager, [_checkout_alert("web-1:8080", "warning")])
    incident = _wait_for(
        lambda: Incident.objects.filter(integration__name="alertmanager-e2e").first(),
        what="the incident",
    )
    assert incident.suggested_severity.code == "SEV-3"
    _post_alerts(
        alertmanager,
        [
            _checkout_alert("web-1:8080", "warning"),
            _checkout_alert("web-2:8080", "critical"),
        ],
    )

    # then: the same incident holds both alerts; the suggestion rose, nothing
    # was confirmed
    _wait_for(lambda: incident.alerts.count() == 2, what="the second alert")
    incident.refresh_from_db()
    assert Incident.objects.count() == 1
    assert incident.suggested_severity.code == "SEV-1"
    assert incident.severity is None
    entry = incident.timeline.filter(kind="severity_suggested").latest("sequence")
    assert entry.data["alert"]["labels"]["instance"] == "web-2:8080"

    assert [row["labels"]["instance"] for row in _alerts_api(incident)] == [
        "web-2:8080",
        "web-1:8080",
    ]  # firing, worst first


def test_an_alert_that_started_sooner_moves_the_detection_time_earlier(alertmanager):
    now = datetime.now(UTC)
    # when: a warning that started 5 minutes ago fires
    _post_alerts(
        alertmanager,
        [
            _checkout_alert(
                "web-1:8080",
                "warning",
                startsAt=(now - timedelta(minutes=5)).isoformat(),
            )
        ],
    )
    incident = _wait_for(
        lambda: Incident.objects.filter(integration__name="alertmanager-e2e").first(),
        what="the incident",
    )
    first_detected = incident.detected_at

    # and: an alert of the group that started 20 minutes ago joins it
    sooner = now - timedelta(minutes=20)
    _post_alerts(
        alertmanager,
        [_checkout_alert("web-2:8080", "error", startsAt=sooner.isoformat())],
    )

    # then: the incident's detection time moves back to it, said on the timeline
    entry = _wait_for(
        lambda: incident.timeline.filter(kind="field_change").first(),
        what="the detection time to move",
    )
    incident.refresh_from_db()
    assert abs(incident.detected_at - sooner) < timedelta(seconds=1)
    assert incident.detected_at < first_detected
    assert "web-2:8080" in json.dumps(entry.data["alert"]["labels"])
    assert Incident.objects.count() == 1
