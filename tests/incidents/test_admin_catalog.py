"""The admin for teams (members inline) and services (dependencies)."""

import pytest
from django.urls import reverse

from incidentops import groups
from incidents.models import Service, Team
from tests.factories import ServiceFactory, TeamFactory, UserFactory


@pytest.fixture
def configurator(client, db):
    user = UserFactory(username="cora", is_staff=True, groups=[groups.CONFIGURATORS])
    client.force_login(user)
    return user


def _inline(prefix, rows, total_forms=None):
    data = {
        f"{prefix}-TOTAL_FORMS": str(total_forms or len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for n, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{n}-{key}"] = value
    return data


def test_configurator_adds_a_team_with_members_inline(client, configurator):
    sam = UserFactory(username="sam")
    lena = UserFactory(username="lena")

    response = client.post(
        reverse("admin:incidents_team_add"),
        {
            "name": "Checkout",
            "slug": "checkout",
            "manager": lena.pk,
            "description": "",
            **_inline(
                "memberships",
                [
                    {
                        "user": sam.pk,
                        "joined_at_0": "2026-01-01",
                        "joined_at_1": "09:00",
                    },
                ],
            ),
        },
    )

    assert response.status_code == 302, response.context["errors"]
    team = Team.objects.get(slug="checkout")
    assert list(team.members.all()) == [sam]
    assert team.history.first().history_user == configurator


def test_a_service_account_cannot_manage_a_team_in_the_admin(client, configurator):
    robot = UserFactory(username="robot", service_account=True)

    response = client.post(
        reverse("admin:incidents_team_add"),
        {
            "name": "Bots",
            "slug": "bots",
            "manager": robot.pk,
            **_inline("memberships", []),
        },
    )

    assert response.status_code == 200
    assert not Team.objects.exists()


def test_team_page_lists_its_services(client, configurator):
    team = TeamFactory(name="Checkout", slug="checkout")
    ServiceFactory(slug="checkout-api", name="checkout-api", team=team, tier=1)

    page = client.get(reverse("admin:incidents_team_change", args=[team.pk]))

    assert page.status_code == 200
    assert "checkout-api" in page.text
    assert "(tier 1)" in page.text


def test_configurator_edits_a_service_and_its_dependencies(client, configurator):
    database = ServiceFactory(slug="postgres-primary", name="postgres-primary")
    service = ServiceFactory(slug="checkout-api", name="checkout-api")

    response = client.post(
        reverse("admin:incidents_service_change", args=[service.pk]),
        {
            "name": "checkout-api",
            "slug": "checkout-api",
            "tier": "1",
            "runbook_url": "",
            "alert_labels": '{"service": "checkout-api"}',
            "depends_on": [database.pk],
            "description": "",
        },
    )

    assert response.status_code == 302
    assert list(service.depends_on.all()) == [database]
    listing = client.get(reverse("admin:incidents_service_changelist"))
    assert "service=checkout-api" in listing.text


def test_the_admin_refuses_a_dependency_cycle_and_bad_labels(client, configurator):
    database = ServiceFactory(slug="postgres-primary", name="postgres-primary")
    service = ServiceFactory(slug="checkout-api", name="checkout-api")
    service.depends_on.add(database)
    url = reverse("admin:incidents_service_change", args=[database.pk])
    form = {
        "name": "postgres-primary",
        "slug": "postgres-primary",
        "tier": "1",
        "runbook_url": "",
        "alert_labels": "{}",
        "description": "",
    }

    cycle = client.post(url, {**form, "depends_on": [service.pk]})
    labels = client.post(url, {**form, "alert_labels": '["service"]'})

    assert cycle.status_code == 200
    assert "cannot depend on itself" in cycle.text
    assert labels.status_code == 200
    assert "JSON object" in labels.text
    assert not Service.objects.get(pk=database.pk).depends_on.exists()


def test_a_responder_cannot_change_the_catalog_in_the_admin(client, db):
    client.force_login(
        UserFactory(username="rita", is_staff=True, groups=[groups.RESPONDERS])
    )

    assert client.get(reverse("admin:incidents_team_add")).status_code == 403
    assert client.get(reverse("admin:incidents_service_changelist")).status_code == 200
