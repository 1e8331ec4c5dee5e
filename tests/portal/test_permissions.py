"""Nothing in the portal without a login; nothing restricted without a grant."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/my/",
        "/incidents/new/",
        "/incidents/suggest/?title=down",
        "/incidents/INC-2026-0001/",
    ],
)
def test_portal_pages_redirect_anonymous_users_to_the_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_posting_to_an_incident_anonymously_redirects_to_the_login(client, incident):
    response = client.post(
        f"/incidents/{incident.reference}/status/", {"status": "investigating"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    incident.refresh_from_db()
    assert incident.status == "triage"


def test_a_restricted_incident_is_a_404_without_a_grant(
    client, outsider, secret_incident
):
    client.force_login(outsider)

    response = client.get(secret_incident.get_absolute_url())

    assert response.status_code == 404
    assert secret_incident.title not in response.content.decode()


def test_commands_on_a_restricted_incident_are_404_without_a_grant(
    client, outsider, secret_incident
):
    client.force_login(outsider)

    response = client.post(
        f"/incidents/{secret_incident.reference}/actions/", {"title": "Peek"}
    )

    assert response.status_code == 404
    assert not secret_incident.actions.exists()


def test_a_restricted_incident_is_visible_to_its_reporter(
    client, manager, secret_incident
):
    client.force_login(manager)

    response = client.get(secret_incident.get_absolute_url())

    assert response.status_code == 200
    assert secret_incident.title in response.content.decode()


def test_the_board_and_its_search_never_show_a_restricted_title(
    client, outsider, incident, secret_incident
):
    client.force_login(outsider)

    board = client.get("/").content.decode()
    live = client.get("/", headers={"HX-Request": "true"}).content.decode()
    search = client.get("/", {"q": "Payroll"}).content.decode()
    mine = client.get("/my/").content.decode()

    assert incident.title in board
    for html in (board, live, search, mine):
        assert secret_incident.title not in html
        assert secret_incident.reference not in html
    assert "1 active incident" in board


def test_the_triage_suggestion_lists_no_restricted_similar_incident(
    client, outsider, secret_incident
):
    client.force_login(outsider)

    response = client.post(
        "/incidents/suggest/", {"title": "Payroll export mailed to wrong supplier"}
    )

    assert response.status_code == 200
    assert secret_incident.title not in response.content.decode()


def test_a_responder_without_rights_sees_no_severity_control(
    client, outsider, incident
):
    client.force_login(outsider)

    html = client.get(incident.get_absolute_url()).content.decode()

    assert 'aria-label="Confirm severity"' not in html
