"""Role suggestions and requests in the API and the portal."""

import pytest

from incidentops import groups
from incidents import services
from incidents.models import RoleAssignment, TeamMembership
from tests.api.conftest import client_for
from tests.api.openapi import assert_conforms
from tests.factories import ServiceFactory, TeamFactory, UserFactory


@pytest.fixture
def setup(db):
    mia = UserFactory(
        username="mia", groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS]
    )
    sam = UserFactory(username="sam", first_name="Sam", groups=[groups.RESPONDERS])
    robot = UserFactory(
        username="robot", service_account=True, groups=[groups.RESPONDERS]
    )
    team = TeamFactory(name="Checkout", slug="checkout")
    TeamMembership.objects.create(team=team, user=sam)
    TeamMembership.objects.create(team=team, user=robot)
    api = ServiceFactory(slug="checkout-api", name="checkout-api", team=team, tier=1)
    incident = services.incident_declare(
        actor=mia, title="Checkout failing", services=[api]
    )
    return {"mia": mia, "sam": sam, "incident": incident}


def test_role_suggestions_endpoint_and_the_incident_carry_them(setup):
    client = client_for(setup["mia"])
    incident = setup["incident"]

    listed = client.get(f"/api/v1/incidents/{incident.pk}/role-suggestions/")
    detail = client.get(f"/api/v1/incidents/{incident.pk}/")

    assert listed.status_code == 200
    assert listed.json() == [
        {
            "role": "commander",
            "user": "sam",
            "name": "Sam Tester",
            "reason": "Member of Checkout, which owns checkout-api",
        }
    ]
    assert detail.json()["role_suggestions"] == listed.json()
    assert_conforms(listed, "/api/v1/incidents/{id}/role-suggestions/", "get")
    assert_conforms(detail, "/api/v1/incidents/{id}/", "get")
    assert not RoleAssignment.objects.filter(incident=incident).exists()


def test_a_hidden_incident_has_no_suggestions_for_outsiders(setup):
    secret = services.incident_declare(
        actor=setup["mia"], title="Card data in logs", restricted=True
    )
    outsider = client_for(UserFactory(username="otto", groups=[groups.RESPONDERS]))

    response = outsider.get(f"/api/v1/incidents/{secret.pk}/role-suggestions/")

    assert response.status_code == 404


def test_ask_then_accept_through_the_api(setup):
    incident = setup["incident"]
    asked = client_for(setup["mia"]).post(
        f"/api/v1/incidents/{incident.pk}/role-requests/",
        {"role": "commander", "user": "sam", "reason": "Member of Checkout"},
        format="json",
    )
    sam = client_for(setup["sam"])

    mine = sam.get("/api/v1/role-requests/", {"status": "pending"})
    accepted = sam.post(f"/api/v1/role-requests/{asked.json()['id']}/accept/")
    again = sam.post(f"/api/v1/role-requests/{asked.json()['id']}/accept/")

    assert asked.status_code == 201, asked.json()
    assert_conforms(asked, "/api/v1/incidents/{id}/role-requests/", "post")
    assert [r["id"] for r in mine.json()["results"]] == [asked.json()["id"]]
    assert accepted.status_code == 201
    assert accepted.json()["user"] == "sam"
    assert again.status_code == 400
    incident.refresh_from_db()
    assert incident.commander == setup["sam"]


def test_others_cannot_answer_and_service_accounts_cannot_be_asked(setup):
    incident = setup["incident"]
    mia = client_for(setup["mia"])
    asked = mia.post(
        f"/api/v1/incidents/{incident.pk}/role-requests/",
        {"role": "commander", "user": "sam"},
        format="json",
    )

    robot = mia.post(
        f"/api/v1/incidents/{incident.pk}/role-requests/",
        {"role": "commander", "user": "robot"},
        format="json",
    )
    by_mia = mia.post(f"/api/v1/role-requests/{asked.json()['id']}/accept/")

    assert robot.status_code == 400
    assert by_mia.status_code == 404  # not hers: her list has only her requests


def test_portal_ask_and_accept(client, setup):
    incident = setup["incident"]
    client.force_login(setup["mia"])

    page = client.get(f"/incidents/{incident.reference}/").text
    asked = client.post(
        f"/incidents/{incident.reference}/roles/ask/",
        {"role": "commander", "user": "sam", "reason": "Member of Checkout"},
    )
    client.force_login(setup["sam"])
    sams_page = client.get(f"/incidents/{incident.reference}/").text
    request_id = incident.role_requests.get().pk
    accepted = client.post(
        f"/incidents/{incident.reference}/roles/requests/{request_id}/",
        {"answer": "accept"},
    )

    assert "Ask Sam to take command" in page
    assert "Member of Checkout, which owns checkout-api" in page
    assert asked.status_code == 302
    assert "asks you to take command" in sams_page
    assert accepted.status_code == 302
    incident.refresh_from_db()
    assert incident.commander == setup["sam"]
