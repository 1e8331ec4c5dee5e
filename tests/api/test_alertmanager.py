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


def _config(url: str, secret: str) -> str:
    return json.dumps(  # JSON is YAML
        {
            "route": {
                "receiver": "incidentops",
                "group_by": ["alertname"],
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
def alertmanager(live_server, settings, tmp_path, capsys):
    settings.SITE_URL = live_server.url
    call_command("create_integration", "alertmanager-e2e", "--kind", "alertmanager")
    printed = json.loads(capsys.readouterr().out.strip())
    config = tmp_path / "alertmanager.yml"
    config.write_text(_config(printed["url"], printed["secret"]))
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
    request = urllib.request.Request(
        f"{base}/api/v2/alerts",
        data=json.dumps([alert]).encode(),
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
