"""The portal: declaring names services; the incident page shows them."""

from incidents import services
from incidents.models import Incident
from tests.factories import ServiceFactory, TeamFactory


def test_declare_form_links_the_chosen_services(client, responder):
    team = TeamFactory(name="Checkout", slug="checkout")
    ServiceFactory(slug="checkout-api", name="checkout-api", team=team, tier=1)
    ServiceFactory(slug="search-service", name="search-service", tier=3)
    client.force_login(responder)

    form = client.get("/incidents/new/").text
    response = client.post(
        "/incidents/new/",
        {"title": "Checkout failing", "services": ["checkout-api"]},
    )

    assert "checkout-api (Checkout, tier 1)" in form
    assert response.status_code == 302
    incident = Incident.objects.get(title="Checkout failing")
    assert [s.slug for s in incident.services.all()] == ["checkout-api"]


def test_incident_page_shows_services_with_team_tier_and_runbook(
    client, responder, incident
):
    team = TeamFactory(name="Checkout", slug="checkout")
    api = ServiceFactory(
        slug="checkout-api",
        name="checkout-api",
        team=team,
        tier=1,
        runbook_url="https://runbooks.example/checkout-api",
    )
    services.incident_set_services(incident=incident, actor=responder, services=[api])
    client.force_login(responder)

    page = client.get(f"/incidents/{incident.reference}/").text

    assert "checkout-api" in page
    assert "tier 1 · Checkout" in page
    assert 'href="https://runbooks.example/checkout-api"' in page
