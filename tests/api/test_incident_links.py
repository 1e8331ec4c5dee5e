"""The links API: ``/api/v1/incidents/{id}/links/`` and ``mark-duplicate``,
with their refusals; nothing reveals an incident the caller may not see."""

import pytest

from incidents import services
from incidents.models import IncidentLink
from tests.api.conftest import client_for
from tests.factories import UserFactory, role


@pytest.fixture
def other(responder):
    return services.incident_declare(
        actor=responder, title="Checkout API 502 for EU customers"
    )


def test_link_related_then_list_from_both_sides(as_responder, incident, other):
    response = as_responder.post(
        f"/api/v1/incidents/{incident.pk}/links/",
        {"incident": other.pk, "kind": "related", "note": "same deploy"},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["incident"]["reference"] == other.reference
    assert response.json()["direction"] == "outgoing"
    listed = as_responder.get(f"/api/v1/incidents/{other.pk}/links/").json()
    assert listed["count"] == 1
    [row] = listed["results"]
    assert row["incident"]["id"] == incident.pk
    assert row["label"] == "Related"
    assert row["direction"] == "incoming"
    assert row["note"] == "same deploy"
    assert row["created_by"] == "rita"


def test_linking_is_refused_clearly(as_responder, incident, other, secret_incident):
    url = f"/api/v1/incidents/{incident.pk}/links/"

    hidden = as_responder.post(url, {"incident": secret_incident.pk}, format="json")
    missing = as_responder.post(url, {"incident": 999999}, format="json")
    itself = as_responder.post(url, {"incident": incident.pk}, format="json")
    bad_kind = as_responder.post(
        url, {"incident": other.pk, "kind": "duplicate-of"}, format="json"
    )
    as_responder.post(url, {"incident": other.pk}, format="json")
    twice = as_responder.post(url, {"incident": other.pk}, format="json")

    assert hidden.status_code == missing.status_code == 400
    assert hidden.json() == missing.json()
    assert secret_incident.title not in hidden.text
    assert itself.status_code == 400
    assert bad_kind.status_code == 400
    assert twice.status_code == 409
    assert IncidentLink.objects.count() == 1


def test_a_link_to_a_restricted_incident_is_not_listed_for_who_may_not_see_it(
    as_responder, as_manager, incident, secret_incident
):
    as_manager.post(
        f"/api/v1/incidents/{incident.pk}/links/",
        {"incident": secret_incident.pk, "kind": "caused-by"},
        format="json",
    )

    seen_by_responder = as_responder.get(f"/api/v1/incidents/{incident.pk}/links/")
    seen_by_manager = as_manager.get(f"/api/v1/incidents/{incident.pk}/links/")
    timeline = as_responder.get(f"/api/v1/incidents/{incident.pk}/timeline/")

    assert seen_by_responder.json()["count"] == 0
    assert seen_by_manager.json()["results"][0]["label"] == "Caused by"
    assert secret_incident.title not in timeline.text
    assert secret_incident.reference not in timeline.text
    # nor can the responder remove it or read the secret incident's links
    link = IncidentLink.objects.get()
    assert (
        as_responder.delete(
            f"/api/v1/incidents/{incident.pk}/links/{link.pk}/"
        ).status_code
        == 404
    )
    assert (
        as_responder.get(f"/api/v1/incidents/{secret_incident.pk}/links/").status_code
        == 404
    )


def test_remove_a_link(as_responder, incident, other):
    as_responder.post(
        f"/api/v1/incidents/{incident.pk}/links/", {"incident": other.pk}, format="json"
    )
    link = IncidentLink.objects.get()

    response = as_responder.delete(f"/api/v1/incidents/{other.pk}/links/{link.pk}/")

    assert response.status_code == 204
    assert not IncidentLink.objects.exists()


def test_mark_duplicate(as_manager, incident, other):
    response = as_manager.post(
        f"/api/v1/incidents/{other.pk}/mark-duplicate/",
        {"of": incident.pk, "note": "declared twice"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "closed"
    assert body["closure_reason"] == "duplicate"
    links = as_manager.get(f"/api/v1/incidents/{incident.pk}/links/").json()
    assert links["results"][0]["label"] == "Duplicated by"
    assert links["results"][0]["incident"]["reference"] == other.reference


def test_mark_duplicate_refusals(
    as_responder, manager, incident, other, secret_incident
):
    # the responder reported both but runs neither: may not close them
    assert (
        as_responder.post(
            f"/api/v1/incidents/{other.pk}/mark-duplicate/",
            {"of": incident.pk},
            format="json",
        ).status_code
        == 403
    )
    services.incident_assign_role(
        incident=other, actor=manager, role=role("commander"), user=other.reporter
    )
    hidden = as_responder.post(
        f"/api/v1/incidents/{other.pk}/mark-duplicate/",
        {"of": secret_incident.pk},
        format="json",
    )
    assert hidden.status_code == 400
    assert hidden.json()["code"] == "not_found"
    assert secret_incident.title not in hidden.text
    stranger = client_for(UserFactory())
    assert (
        stranger.post(
            f"/api/v1/incidents/{other.pk}/mark-duplicate/",
            {"of": incident.pk},
            format="json",
        ).status_code
        == 404
    )
    assert not IncidentLink.objects.exists()


def test_links_are_in_the_openapi_schema(as_manager):
    schema = as_manager.get("/api/schema/?format=json").json()

    assert "post" in schema["paths"]["/api/v1/incidents/{id}/links/"]
    assert "get" in schema["paths"]["/api/v1/incidents/{id}/links/"]
    assert "delete" in schema["paths"]["/api/v1/incidents/{id}/links/{link_id}/"]
    assert "post" in schema["paths"]["/api/v1/incidents/{id}/mark-duplicate/"]
