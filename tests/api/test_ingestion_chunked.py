"""Alert deliveries without a Content-Length (``Transfer-Encoding: chunked``),
sent over a real socket with ``http.client``.

Django's test client always sets Content-Length, so these go through a real
server. Not ``live_server``: Django's development server does not decode a
chunked body (its WSGI input is cut at Content-Length, i.e. at nothing), so no
application could read one there. Gunicorn, the production server (Procfile),
de-chunks and hands the application a WSGI input without Content-Length, which
is the case the view must read correctly. It runs ``tests.settings`` against the
test database.
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from incidents.models import Alert, AlertState, Incident, TimelineEntry
from tests import workers
from tests.factories import INTEGRATION_SECRET, IntegrationFactory

pytestmark = pytest.mark.django_db(transaction=True)

PATH = "/api/v1/integrations/{id}/alerts/"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path) -> Iterator[int]:
    """A gunicorn serving the project on a free local port; yields the port."""
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": workers.test_database_url(),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "gunicorn", "incidentops.wsgi",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "30",
    ]  # fmt: skip
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=workers.ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail("gunicorn did not start:\n" + log.read_text())
                    time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def post_chunked(port: int, path: str, chunks: list[bytes]) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            path,
            body=iter(chunks),
            headers={
                "Authorization": f"Bearer {INTEGRATION_SECRET}",
                "Content-Type": "application/json",
            },
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def counts():
    return (
        Incident.objects.count(),
        TimelineEntry.objects.count(),
        AlertState.objects.count(),
        Alert.objects.count(),
    )


def test_a_small_chunked_delivery_is_read_and_opens_an_incident(gunicorn):
    integration = IntegrationFactory(name="chunked-hook")
    body = json.dumps(
        {
            "title": "Disk almost full on db-1",
            "dedup_key": "db-1-disk",
            "status": "firing",
            "labels": {"host": "db-1"},
        }
    ).encode()

    status, reply = post_chunked(
        gunicorn, PATH.format(id=integration.pk), [body[:17], body[17:40], body[40:]]
    )

    assert status == 202, reply
    assert reply["created"] is True
    incident = Incident.objects.get(reference=reply["incident"])
    assert incident.title == "Disk almost full on db-1"


def test_a_chunked_delivery_over_10_mib_is_413_and_stores_nothing(gunicorn):
    integration = IntegrationFactory(name="chunked-hook")
    before = counts()
    body = json.dumps(
        {"title": "Huge", "dedup_key": "k", "description": "x" * (10 * 1024 * 1024)}
    ).encode()
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]

    status, reply = post_chunked(gunicorn, PATH.format(id=integration.pk), chunks)

    assert status == 413, reply
    assert reply["code"] == "too_large"
    assert counts() == before
