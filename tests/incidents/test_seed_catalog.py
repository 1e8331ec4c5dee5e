"""The demo's teams and services."""

import io

import pytest

from incidentops.seed import seed_accounts
from incidents.demo.catalog import seed_catalog
from incidents.models import Service, Team
from tests.factories import ServiceFactory, TeamFactory


@pytest.fixture
def accounts(db):
    seed_accounts(stdout=io.StringIO())


def test_two_teams_with_people_and_services_with_labels_and_dependencies(accounts):
    seed_catalog(stdout=io.StringIO())

    checkout = Team.objects.get(slug="checkout")
    platform = Team.objects.get(slug="platform")
    assert checkout.manager.username == "mia"
    assert set(checkout.members.values_list("username", flat=True)) == {
        "mia",
        "rita",
        "omar",
    }
    assert platform.manager.username == "omar"
    api = Service.objects.get(slug="checkout-api")
    assert (api.team, api.tier) == (checkout, 1)
    assert api.alert_labels == {"service": "checkout-api"}
    assert set(api.depends_on.values_list("slug", flat=True)) == {
        "payments-gateway",
        "basket-service",
        "postgres-primary",
    }
    assert Service.objects.get(slug="postgres-primary").team == platform


def test_a_second_run_changes_nothing(accounts):
    seed_catalog(stdout=io.StringIO())
    before = [
        (s.slug, s.team_id, s.tier, s.history.count()) for s in Service.objects.all()
    ]

    teams, services = seed_catalog(stdout=io.StringIO())

    assert (teams, services) == ([], [])
    assert [
        (s.slug, s.team_id, s.tier, s.history.count()) for s in Service.objects.all()
    ] == before


def test_what_people_made_is_left_alone(accounts):
    theirs = TeamFactory(slug="checkout", name="Checkout")
    their_service = ServiceFactory(slug="checkout-api", tier=3, alert_labels={})
    their_service.history.create(
        history_date=their_service.created_at,
        history_type="+",
        name=their_service.name,
        slug=their_service.slug,
        tier=3,
        alert_labels={},
        created_at=their_service.created_at,
        id=their_service.pk,
    )

    seed_catalog(stdout=io.StringIO())

    theirs.refresh_from_db()
    their_service.refresh_from_db()
    assert theirs.manager is None and not theirs.members.exists()
    assert (their_service.tier, their_service.alert_labels) == (3, {})
    assert Team.objects.filter(slug="platform").exists()


def test_a_service_migrated_from_a_tag_is_left_alone(accounts):
    # the tag it came from may be on people's incidents: it is not the seed's
    migrated = Service.objects.bulk_create(
        [Service(slug="checkout-api", name="checkout-api")]
    )[0]

    seed_catalog(stdout=io.StringIO())

    migrated.refresh_from_db()
    assert migrated.team is None
    assert migrated.alert_labels == {}
    assert Service.objects.filter(team__slug="checkout").exists()  # the rest is made
