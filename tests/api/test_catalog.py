"""/api/v1/teams/ and /api/v1/services/, and incidents naming services."""

import pytest

from incidentops import groups
from incidents.models import Incident, Service, Team
from tests.api.conftest import client_for
from tests.api.openapi import assert_conforms
from tests.factories import ServiceFactory, TeamFactory, UserFactory

TEAMS = "/api/v1/teams/"
SERVICES = "/api/v1/services/"


@pytest.fixture
def configurator(db):
    return UserFactory(username="cora", groups=[groups.CONFIGURATORS])


@pytest.fixture
def as_configurator(configurator):
    return client_for(configurator)


@pytest.fixture
def catalog(db, manager):
    team = TeamFactory(name="Checkout", slug="checkout", manager=manager)
    team.memberships.create(user=UserFactory(username="sam"))
    database = ServiceFactory(slug="postgres-primary", name="postgres-primary", tier=1)
    api = ServiceFactory(slug="checkout-api", name="checkout-api", team=team, tier=1)
    api.depends_on.add(database)
    return team, api, database


def test_responders_read_teams_with_members_services_and_channels(
    as_responder, catalog
):
    response = as_responder.get(TEAMS)

    assert response.status_code == 200
    (team,) = response.json()["results"]
    assert team["slug"] == "checkout"
    assert team["manager"] == "mia"
    assert [m["username"] for m in team["members"]] == ["sam"]
    assert team["services"] == ["checkout-api"]
    assert team["channels"] == []
    assert_conforms(response, TEAMS, "get")


def test_services_carry_the_contract_fields(as_responder, catalog):
    response = as_responder.get(SERVICES + "checkout-api/")

    body = response.json()
    assert response.status_code == 200
    assert {"slug", "name", "team", "tier", "alert_labels"} <= set(body)
    assert body["team"] == "checkout"
    assert body["alert_labels"] == {"service": "checkout-api"}
    assert body["depends_on"] == ["postgres-primary"]
    assert_conforms(response, "/api/v1/services/{slug}/", "get")
    database = as_responder.get(SERVICES + "postgres-primary/").json()
    assert database["dependents"] == ["checkout-api"]


def test_services_filter_by_team_and_tier(as_responder, catalog):
    by_team = as_responder.get(SERVICES, {"team": "checkout"}).json()["results"]
    assert [s["slug"] for s in by_team] == ["checkout-api"]
    assert as_responder.get(SERVICES, {"tier": "9"}).status_code == 400


def test_anonymous_is_refused(anonymous, catalog):
    assert anonymous.get(TEAMS).status_code == 401
    assert anonymous.get(SERVICES).status_code == 401


def test_a_user_without_a_group_sees_no_catalog(db, catalog):
    nobody = client_for(UserFactory(username="nobody"))
    assert nobody.get(SERVICES).status_code == 403


def test_responders_may_not_create_or_change(as_responder, catalog):
    assert as_responder.post(TEAMS, {"name": "Rogue"}).status_code == 403
    response = as_responder.patch(
        SERVICES + "checkout-api/", {"tier": 4}, format="json"
    )
    assert response.status_code == 403
    assert Service.objects.get(slug="checkout-api").tier == 1


def test_configurator_creates_a_team_and_a_service(as_configurator, db):
    UserFactory(username="lena")
    UserFactory(username="sam")

    team = as_configurator.post(
        TEAMS,
        {"name": "Payments", "manager": "lena", "members": ["sam", "lena"]},
        format="json",
    )
    database = as_configurator.post(
        SERVICES, {"name": "postgres-primary", "tier": 1}, format="json"
    )
    service = as_configurator.post(
        SERVICES,
        {
            "name": "Payments gateway",
            "team": "payments",
            "tier": 1,
            "runbook_url": "https://runbooks.example/payments",
            "alert_labels": {"service": "payments-gateway"},
            "depends_on": ["postgres-primary"],
        },
        format="json",
    )

    assert team.status_code == 201, team.json()
    assert [m["username"] for m in team.json()["members"]] == ["lena", "sam"]
    assert database.status_code == 201
    assert service.status_code == 201, service.json()
    assert service.json()["slug"] == "payments-gateway"
    assert service.json()["depends_on"] == ["postgres-primary"]
    assert_conforms(service, SERVICES, "post")


def test_configurator_changes_a_service(as_configurator, catalog):
    response = as_configurator.patch(
        SERVICES + "checkout-api/",
        {"tier": 2, "alert_labels": {"app": "checkout"}},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["tier"] == 2
    assert response.json()["alert_labels"] == {"app": "checkout"}
    assert response.json()["depends_on"] == ["postgres-primary"]


def test_a_dependency_cycle_is_refused(as_configurator, catalog):
    response = as_configurator.patch(
        SERVICES + "postgres-primary/", {"depends_on": ["checkout-api"]}, format="json"
    )

    assert response.status_code == 400
    assert "depends_on" in response.json()["errors"]
    assert not Service.objects.get(slug="postgres-primary").depends_on.exists()


def test_bad_input_is_refused_and_nothing_stored(as_configurator, db):
    robot = UserFactory(username="robot", service_account=True)

    responses = [
        as_configurator.post(TEAMS, {"name": "Bots", "members": [robot.username]}),
        as_configurator.post(TEAMS, {"name": "X", "colour": "red"}),
        as_configurator.post(
            SERVICES, {"name": "api", "alert_labels": ["a"]}, format="json"
        ),
        as_configurator.post(SERVICES, {"name": "api", "tier": 7}, format="json"),
        as_configurator.post(
            SERVICES, {"name": "api", "depends_on": ["nope"]}, format="json"
        ),
    ]

    assert [r.status_code for r in responses] == [400] * 5
    assert not Team.objects.exists()
    assert not Service.objects.exists()


def test_declare_names_services_by_slug(as_responder, catalog):
    response = as_responder.post(
        "/api/v1/incidents/",
        {"title": "Checkout failing", "services": ["checkout-api"]},
        format="json",
    )

    assert response.status_code == 201, response.json()
    (service,) = response.json()["services"]
    assert service["slug"] == "checkout-api"
    assert service["team"] == "checkout"
    assert service["tier"] == 1
    assert service["source"] == "declare"
    assert_conforms(response, "/api/v1/incidents/", "post")


def test_declare_with_an_unknown_service_stores_nothing(as_responder, catalog):
    response = as_responder.post(
        "/api/v1/incidents/",
        {"title": "Checkout failing", "services": ["checkout-api", "nope"]},
        format="json",
    )

    assert response.status_code == 400
    assert "nope" in response.json()["detail"]
    assert not Incident.objects.exists()


def test_patch_sets_the_services(as_responder, catalog, responder):
    created = as_responder.post(
        "/api/v1/incidents/",
        {"title": "Checkout failing", "services": ["checkout-api"]},
        format="json",
    ).json()

    response = as_responder.patch(
        f"/api/v1/incidents/{created['id']}/",
        {"services": ["postgres-primary"]},
        format="json",
    )

    assert response.status_code == 200
    assert [s["slug"] for s in response.json()["services"]] == ["postgres-primary"]
    assert response.json()["affected_services"] == ["postgres-primary"]
    listed = as_responder.get("/api/v1/incidents/").json()["results"][0]
    assert [s["slug"] for s in listed["services"]] == ["postgres-primary"]
