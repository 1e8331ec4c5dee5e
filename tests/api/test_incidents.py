import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Incident, TimelineEntry
from tests.api.openapi import assert_conforms
from tests.factories import IncidentFactory, IncidentTypeFactory, role

LIST = "/api/v1/incidents/"
DETAIL = "/api/v1/incidents/{id}/"


def detail(incident, suffix=""):
    return f"/api/v1/incidents/{incident.pk}/{suffix}"


# --- auth ------------------------------------------------------------------------


def test_anonymous_gets_401_with_the_error_body(anonymous, incident):
    response = anonymous.get(LIST)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert_conforms(response, LIST, "get")


def test_token_auth_reads_the_list(responder, incident):
    token = Token.objects.create(user=responder)
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get(LIST)

    assert response.status_code == 200
    assert [row["reference"] for row in response.json()["results"]] == [
        incident.reference
    ]


def test_session_auth_reads_the_list(responder, incident):
    client = APIClient()
    assert client.login(username=responder.username, password="pass-word-123")

    assert client.get(LIST).status_code == 200


# --- list, retrieve, filters ------------------------------------------------------


def test_list_is_paginated_newest_first_and_conforms(as_responder, responder):
    older = services.incident_declare(actor=responder, title="Older disk alert")
    newer = services.incident_declare(actor=responder, title="Newer queue backlog")

    response = as_responder.get(LIST, {"page_size": 1})

    body = response.json()
    assert response.status_code == 200
    assert body["count"] == 2
    assert body["next"] is not None
    assert [row["reference"] for row in body["results"]] == [newer.reference]
    assert_conforms(response, LIST, "get")
    oldest_first = as_responder.get(LIST, {"ordering": "created_at"}).json()
    assert oldest_first["results"][0]["reference"] == older.reference


def test_page_size_is_capped_at_1000(as_responder, incident):
    response = as_responder.get(LIST, {"page_size": 5000})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_retrieve_returns_the_contract_fields(as_manager, ready, manager):
    response = as_manager.get(detail(ready))

    body = response.json()
    assert response.status_code == 200
    assert body["id"] == ready.pk
    assert body["reference"] == ready.reference
    assert body["status"] == "triage"
    assert body["severity"] == "SEV-2"
    assert body["severity_confirmed_by"] == manager.username
    assert body["commander"] == manager.username
    assert body["suggested_severity"] == ready.suggested_severity.code
    # Extended on purpose (additive): the type's and severity's own confidence.
    assert set(body["suggestion"]) == {
        "severity",
        "incident_type",
        "confidence",
        "rationale",
        "type_confidence",
        "severity_confidence",
    }
    assert body["acknowledged_at"] is not None
    assert_conforms(response, DETAIL, "get")


def test_restricted_incident_is_404_for_a_responder_without_a_grant(
    as_responder, secret_incident
):
    response = as_responder.get(detail(secret_incident))

    assert response.status_code == 404
    assert secret_incident.title not in response.content.decode()
    listed = as_responder.get(LIST).json()["results"]
    assert secret_incident.reference not in [row["reference"] for row in listed]


def test_filters_by_status_severity_type_restricted_and_search(
    as_manager, manager, ready
):
    outage = IncidentTypeFactory(slug="service-outage")
    typed = services.incident_declare(
        actor=manager, title="Payroll export late", incident_type=outage
    )
    hidden = services.incident_declare(
        actor=manager, title="Badge reader fault", restricted=True
    )

    def refs(**params):
        response = as_manager.get(LIST, params)
        assert response.status_code == 200
        return {row["reference"] for row in response.json()["results"]}

    assert refs(severity="SEV-2") == {ready.reference}
    assert refs(severity="none") == {typed.reference, hidden.reference}
    assert refs(type="service-outage") == {typed.reference}
    assert refs(restricted="true") == {hidden.reference}
    assert refs(search="payroll") == {typed.reference}
    assert refs(status="triage") == {ready.reference, typed.reference, hidden.reference}
    assert refs(status="resolved") == set()


def test_date_range_filters(as_manager, manager):
    IncidentFactory(
        title="January", created_at="2026-01-10T10:00:00Z", reporter=manager
    )
    february = IncidentFactory(
        title="February", created_at="2026-02-10T10:00:00Z", reporter=manager
    )

    response = as_manager.get(
        LIST, {"created_after": "2026-02-01", "created_before": "2026-02-28"}
    )

    assert [row["reference"] for row in response.json()["results"]] == [
        february.reference
    ]
    bad = as_manager.get(LIST, {"created_after": "not-a-date"})
    assert bad.status_code == 400


@pytest.mark.parametrize("count", [5, 50])
def test_list_query_count_is_flat(
    as_manager, manager, count, django_assert_max_num_queries
):
    for n in range(count):
        incident = IncidentFactory(title=f"Incident {n}", reporter=manager)
        services.incident_assign_role(
            incident=incident, actor=manager, role=role("commander"), user=manager
        )

    # Auth and guardian lookups, the count, the page and the commander prefetch:
    # the same handful whatever the number of incidents.
    with django_assert_max_num_queries(8):
        response = as_manager.get(LIST, {"page_size": 100})

    assert len(response.json()["results"]) == count
    assert {row["commander"] for row in response.json()["results"]} == {"mia"}


# --- create ----------------------------------------------------------------------


def test_create_declares_through_the_service(as_responder, responder):
    IncidentTypeFactory(slug="data-breach", restricted=True)

    response = as_responder.post(
        LIST,
        {
            "title": "Customer data exposed",
            "description": "A bucket was public.",
            "incident_type": "data-breach",
            "data_exposed": True,
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "triage"
    assert body["restricted"] is True  # the type's default
    assert body["incident_type"] == "data-breach"
    assert body["severity"] is None
    incident = Incident.objects.get(reference=body["reference"])
    assert incident.reporter == responder
    assert incident.timeline.filter(kind="declared").exists()
    assert_conforms(response, LIST, "post")


def test_create_validation_error_names_the_field(as_responder):
    response = as_responder.post(LIST, {"description": "no title"})

    assert response.status_code == 400
    assert response.json()["errors"]["title"]
    assert response.json()["detail"].startswith("title:")
    assert Incident.objects.count() == 0
    assert_conforms(response, LIST, "post")


def test_create_refused_for_an_account_without_rights(service_account):
    client = APIClient()
    client.force_authenticate(service_account)

    response = client.post(LIST, {"title": "Bot says hi"})

    assert response.status_code == 403
    assert Incident.objects.count() == 0


# --- patch -----------------------------------------------------------------------


def test_patch_changes_plain_fields(as_responder, incident):
    response = as_responder.patch(detail(incident), {"impact": "10% of checkouts"})

    assert response.status_code == 200
    assert response.json()["impact"] == "10% of checkouts"
    incident.refresh_from_db()
    assert incident.impact == "10% of checkouts"
    assert incident.timeline.filter(kind="field_change").exists()
    assert_conforms(response, DETAIL, "patch")


@pytest.mark.parametrize(
    ("field", "value", "word"),
    [("severity", "SEV-1", "confirm"), ("commander", "mia", "assign")],
)
def test_patch_of_severity_or_commander_is_refused_with_the_reason(
    as_manager, incident, field, value, word
):
    response = as_manager.patch(detail(incident), {field: value})

    assert response.status_code == 400
    assert word in response.json()["detail"]
    assert response.json()["errors"] == {field: [response.json()["detail"]]}
    incident.refresh_from_db()
    assert incident.severity is None
    assert_conforms(response, DETAIL, "patch")


def test_patch_of_an_unknown_field_is_refused(as_responder, incident):
    response = as_responder.patch(detail(incident), {"colour": "red"})

    assert response.status_code == 400
    assert "colour" in response.json()["detail"]


def test_patch_restricted_incident_is_404_without_a_grant(
    as_responder, secret_incident
):
    response = as_responder.patch(detail(secret_incident), {"impact": "x"})

    assert response.status_code == 404
    secret_incident.refresh_from_db()
    assert secret_incident.impact == ""


# --- confirm severity ----------------------------------------------------------------


def test_confirm_severity_by_a_manager(as_manager, incident, manager):
    response = as_manager.post(
        detail(incident, "confirm-severity/"),
        {"severity": "SEV-1", "reason": "all customers"},
    )

    assert response.status_code == 200
    assert response.json()["severity"] == "SEV-1"
    assert response.json()["severity_confirmed_by"] == manager.username
    assert_conforms(response, "/api/v1/incidents/{id}/confirm-severity/", "post")


def test_confirm_severity_by_a_service_account_is_403(as_bot, incident):
    response = as_bot.post(detail(incident, "confirm-severity/"), {"severity": "SEV-1"})

    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    incident.refresh_from_db()
    assert incident.severity is None
    assert_conforms(response, "/api/v1/incidents/{id}/confirm-severity/", "post")


def test_confirm_severity_by_a_plain_responder_is_403(as_responder, incident):
    response = as_responder.post(
        detail(incident, "confirm-severity/"), {"severity": "SEV-1"}
    )

    assert response.status_code == 403


def test_confirm_severity_validates_the_level(as_manager, incident):
    response = as_manager.post(detail(incident, "confirm-severity/"), {"severity": "X"})

    assert response.status_code == 400
    assert "severity" in response.json()["errors"]


def test_confirm_severity_on_a_hidden_incident_is_404(as_responder, secret_incident):
    response = as_responder.post(
        detail(secret_incident, "confirm-severity/"), {"severity": "SEV-1"}
    )

    assert response.status_code == 404


# --- assign role -------------------------------------------------------------------


def test_assign_commander(as_manager, incident, responder):
    response = as_manager.post(
        detail(incident, "assign-role/"), {"role": "commander", "user": "rita"}
    )

    assert response.status_code == 201
    assert response.json()["role"] == "commander"
    assert response.json()["user"] == "rita"
    assert incident.commander == responder
    assert_conforms(response, "/api/v1/incidents/{id}/assign-role/", "post")


def test_assigning_commander_to_a_service_account_is_400(as_manager, incident, bot):
    response = as_manager.post(
        detail(incident, "assign-role/"), {"role": "commander", "user": bot.username}
    )

    assert response.status_code == 400
    assert response.json()["code"] == "not_human"
    assert incident.commander is None
    assert_conforms(response, "/api/v1/incidents/{id}/assign-role/", "post")


def test_assign_role_to_an_unknown_user_is_400(as_manager, incident):
    response = as_manager.post(
        detail(incident, "assign-role/"), {"role": "scribe", "user": "nobody"}
    )

    assert response.status_code == 400
    assert "user" in response.json()["errors"]


def test_assign_role_by_a_responder_for_someone_else_is_403(
    as_responder, incident, manager
):
    response = as_responder.post(
        detail(incident, "assign-role/"), {"role": "scribe", "user": manager.username}
    )

    assert response.status_code == 403


# --- transition --------------------------------------------------------------------


def test_transition_out_of_triage_needs_severity_and_commander(as_manager, incident):
    response = as_manager.post(
        detail(incident, "transition/"), {"status": "investigating"}
    )

    assert response.status_code == 400
    assert "severity" in response.json()["detail"]
    assert "commander" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.status == "triage"
    assert_conforms(response, "/api/v1/incidents/{id}/transition/", "post")


def test_transition_when_ready(as_manager, ready):
    response = as_manager.post(
        detail(ready, "transition/"), {"status": "investigating", "note": "on it"}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "investigating"
    assert ready.timeline.filter(kind="status").exists()
    assert_conforms(response, "/api/v1/incidents/{id}/transition/", "post")


def test_transition_to_an_unknown_status_is_400(as_manager, ready):
    response = as_manager.post(detail(ready, "transition/"), {"status": "party"})

    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_transition_by_a_responder_without_rights_is_403(as_responder, ready):
    response = as_responder.post(
        detail(ready, "transition/"), {"status": "investigating"}
    )

    assert response.status_code == 403


def test_no_endpoint_deletes_or_replaces_an_incident(as_manager, incident):
    assert as_manager.delete(detail(incident)).status_code == 405
    assert as_manager.put(detail(incident), {"title": "x"}).status_code == 405
    assert Incident.objects.filter(pk=incident.pk).exists()
    assert TimelineEntry.objects.filter(incident=incident).count() >= 2


def test_router_root_lists_the_resources(as_manager):
    response = as_manager.get(reverse("api-root"))

    assert response.status_code == 200
    assert {"incidents", "incident-types", "severity-levels"} <= set(response.json())


def test_declare_with_an_impact_start_and_correct_times(as_manager, manager):
    started = "2026-01-05T14:05:00Z"
    created = as_manager.post(
        "/api/v1/incidents/",
        {"title": "Checkout failing", "impact_started_at": started},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["impact_started_at"] == started
    pk = created.json()["id"]

    corrected = as_manager.post(
        f"/api/v1/incidents/{pk}/correct-times/",
        {"impact_started_at": "2026-01-05T13:50:00Z", "reason": "Earlier logs"},
        format="json",
    )
    assert corrected.status_code == 200, corrected.json()
    assert corrected.json()["impact_started_at"] == "2026-01-05T13:50:00Z"

    refused = as_manager.post(
        f"/api/v1/incidents/{pk}/correct-times/",
        {"resolved_at": "2026-01-05T15:00:00Z", "reason": "x"},
        format="json",
    )
    assert refused.status_code == 400
    assert "resolved_at" in refused.json()["errors"]

    unknown = as_manager.post(
        f"/api/v1/incidents/{pk}/correct-times/",
        {"closed_at": "2026-01-05T15:00:00Z", "reason": "x"},
        format="json",
    )
    assert unknown.status_code == 400
