"""Live pages: the board and the incident page answer their own polls with ETags,
304 while nothing changed, 401 (not a login page) once the session has ended."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents import live, services
from incidents.live import incident_revision
from incidents.models import IncidentRevision

pytestmark = pytest.mark.django_db

POLL = {"X-Live-Poll": "1"}


@pytest.fixture(autouse=True)
def one_minute(monkeypatch):
    """The polls of a test fall in one minute, however slow the machine (the
    ETag changes each minute, tested below)."""
    monkeypatch.setattr(live, "_minute", lambda: 29_000_000)


def _poll(client, url, etag=None):
    headers = dict(POLL)
    if etag:
        headers["If-None-Match"] = etag
    return client.get(url, headers=headers)


def test_every_timeline_entry_bumps_the_incident_revision(incident, responder):
    # given
    before = incident_revision(incident)

    # when
    services.incident_add_note(incident=incident, actor=responder, body="Looking")

    # then
    assert before >= 1  # declaring wrote entries
    assert incident_revision(incident) == before + 1
    assert IncidentRevision.objects.get(incident=incident).changed_at is not None


def test_incident_touch_creates_the_counter_when_missing(incident):
    IncidentRevision.objects.filter(incident=incident).delete()

    services.incident_touch(incident_id=incident.pk)
    services.incident_touch(incident_id=incident.pk)

    assert incident_revision(incident) == 2


def test_an_unchanged_incident_page_answers_304(client, manager, incident):
    client.force_login(manager)
    url = incident.get_absolute_url()

    first = _poll(client, url)
    second = _poll(client, url, first["ETag"])

    assert first.status_code == 200
    assert first["ETag"].startswith('"')
    assert "no-cache" in first["Cache-Control"]
    assert second.status_code == 304
    assert second.content == b""


def test_a_change_by_anyone_gives_the_page_a_new_etag(
    client, manager, responder, incident
):
    client.force_login(manager)
    url = incident.get_absolute_url()
    etag = _poll(client, url)["ETag"]

    services.action_create(
        incident=incident, actor=manager, title="Roll back the deploy"
    )
    changed = _poll(client, url, etag)

    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert "Roll back the deploy" in changed.content.decode()


def test_a_page_load_is_always_rendered_and_unlabelled(client, manager, incident):
    client.force_login(manager)
    url = incident.get_absolute_url()
    etag = _poll(client, url)["ETag"]

    page = client.get(url, headers={"If-None-Match": etag})

    assert page.status_code == 200
    assert "ETag" not in page


def test_the_etag_differs_per_user(client, manager, responder, incident):
    client.force_login(manager)
    etag = _poll(client, incident.get_absolute_url())["ETag"]
    client.force_login(responder)

    other = _poll(client, incident.get_absolute_url(), etag)

    assert other.status_code == 200


def test_a_poll_without_a_session_gets_401_not_a_login_page(client, incident):
    for url in ("/", incident.get_absolute_url()):
        response = _poll(client, url)

        assert response.status_code == 401
        assert response.json()["login"] == "/accounts/login/"


def test_a_page_load_without_a_session_still_goes_to_the_login_page(client, incident):
    response = client.get(incident.get_absolute_url())

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_restricted_incident_is_404_to_a_poll_too(client, outsider, secret_incident):
    client.force_login(outsider)

    assert _poll(client, secret_incident.get_absolute_url()).status_code == 404


def test_a_poll_does_not_consume_a_message_meant_for_the_next_page(
    client, manager, incident
):
    client.force_login(manager)
    url = incident.get_absolute_url()
    # A success message waits for the page the redirect leads to.
    posted = client.post(f"{url}notes/", {"body": "Checked the load balancer"})
    assert posted.status_code == 302

    polled = _poll(client, url).content.decode()
    page = client.get(url).content.decode()

    assert "Note added to the timeline." not in polled
    assert "Note added to the timeline." in page


def test_the_board_answers_304_until_an_incident_changes(
    client, manager, responder, incident
):
    client.force_login(manager)
    etag = _poll(client, "/")["ETag"]

    unchanged = _poll(client, "/", etag)
    services.incident_declare(actor=responder, title="Warehouse scanners offline")
    changed = _poll(client, "/", etag)

    assert unchanged.status_code == 304
    assert changed.status_code == 200
    body = changed.content.decode()
    assert "Warehouse scanners offline" in body
    assert "<html" not in body


def test_the_board_etag_changes_when_an_incident_leaves_the_board(
    client, manager, incident
):
    client.force_login(manager)
    etag = _poll(client, "/")["ETag"]

    services.incident_add_note(incident=incident, actor=manager, body="Still on it")

    assert _poll(client, "/", etag).status_code == 200


def test_an_unchanged_poll_costs_a_few_small_queries(client, manager, incident):
    client.force_login(manager)
    board_etag = _poll(client, "/")["ETag"]
    page_etag = _poll(client, incident.get_absolute_url())["ETag"]

    with CaptureQueriesContext(connection) as board:
        assert _poll(client, "/", board_etag).status_code == 304
    with CaptureQueriesContext(connection) as page:
        assert _poll(client, incident.get_absolute_url(), page_etag).status_code == 304

    # session + user + the aggregate; the page adds the visibility check.
    assert len(board) <= 3, [q["sql"] for q in board]
    assert len(page) <= 6, [q["sql"] for q in page]


def test_the_etag_changes_each_minute(client, manager, incident, monkeypatch):
    client.force_login(manager)
    url = incident.get_absolute_url()
    etag = _poll(client, url)["ETag"]

    monkeypatch.setattr(live, "_minute", lambda: 29_000_001)

    assert _poll(client, url, etag).status_code == 200
