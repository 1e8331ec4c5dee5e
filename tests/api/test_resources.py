from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from incidents import services
from incidents.models import ActionItem, Incident, StakeholderUpdate, TimelineEntry
from tests.api.openapi import assert_conforms, openapi
from tests.factories import IncidentFactory, IncidentTypeFactory, severity


def url(incident, suffix):
    return f"/api/v1/incidents/{incident.pk}/{suffix}"


# --- actions -------------------------------------------------------------------------


def test_actions_create_list_and_patch(as_responder, incident, responder):
    created = as_responder.post(
        url(incident, "actions/"),
        {"title": "Roll back release 42", "owner": "rita", "priority": "high"},
    )
    assert created.status_code == 201, created.json()
    assert created.json()["owner"] == "rita"
    assert_conforms(created, "/api/v1/incidents/{id}/actions/", "post")

    listed = as_responder.get(url(incident, "actions/"))
    assert [a["title"] for a in listed.json()["results"]] == ["Roll back release 42"]
    assert_conforms(listed, "/api/v1/incidents/{id}/actions/", "get")

    action_id = created.json()["id"]
    patched = as_responder.patch(f"/api/v1/actions/{action_id}/", {"status": "done"})
    assert patched.status_code == 200
    assert patched.json()["status"] == "done"
    assert patched.json()["completed_by"] == "rita"
    assert_conforms(patched, "/api/v1/actions/{id}/", "patch")
    assert ActionItem.objects.get(pk=action_id).status == "done"


def test_action_validation_errors(as_responder, incident):
    missing = as_responder.post(url(incident, "actions/"), {"owner": "rita"})
    bad_status = as_responder.post(url(incident, "actions/"), {"title": "x"})
    action_id = bad_status.json()["id"]
    wrong = as_responder.patch(f"/api/v1/actions/{action_id}/", {"status": "maybe"})

    assert missing.status_code == 400
    assert "title" in missing.json()["errors"]
    assert wrong.status_code == 400
    assert "status" in wrong.json()["errors"]


def test_actions_of_a_hidden_incident_are_404(as_responder, secret_incident, manager):
    action = services.action_create(
        incident=secret_incident, actor=manager, title="Rotate keys"
    )

    assert as_responder.get(url(secret_incident, "actions/")).status_code == 404
    assert (
        as_responder.patch(f"/api/v1/actions/{action.pk}/", {"status": "done"})
    ).status_code == 404
    action.refresh_from_db()
    assert action.status == "open"


def test_service_account_without_rights_may_not_add_actions(incident, service_account):
    from tests.api.conftest import client_for

    # It cannot see the incident at all: 404, not a hint that it exists.
    response = client_for(service_account).post(
        url(incident, "actions/"), {"title": "x"}
    )

    assert response.status_code == 404


def test_anonymous_actions_patch_is_401(anonymous, incident, responder):
    action = services.action_create(incident=incident, actor=responder, title="x")

    assert anonymous.patch(f"/api/v1/actions/{action.pk}/", {}).status_code == 401


# --- timeline -------------------------------------------------------------------------


def test_timeline_is_in_time_order_and_read_only(as_manager, ready):
    response = as_manager.get(url(ready, "timeline/"))

    assert response.status_code == 200
    entries = response.json()["results"]
    assert [e["kind"] for e in entries[:2]] == ["declared", "severity_suggested"]
    times = [e["occurred_at"] for e in entries]
    assert times == sorted(times)
    assert {"role", "severity_confirmed"} <= {e["kind"] for e in entries}
    assert_conforms(response, "/api/v1/incidents/{id}/timeline/", "get")
    count = TimelineEntry.objects.count()
    assert as_manager.post(url(ready, "timeline/"), {}).status_code == 405
    assert as_manager.delete(url(ready, "timeline/")).status_code == 405
    assert TimelineEntry.objects.count() == count


def test_timeline_of_a_hidden_incident_is_404(as_responder, secret_incident):
    response = as_responder.get(url(secret_incident, "timeline/"))

    assert response.status_code == 404
    assert secret_incident.title not in response.content.decode()


# --- stakeholder updates -----------------------------------------------------------------


def test_post_and_list_stakeholder_updates(as_manager, ready):
    posted = as_manager.post(url(ready, "updates/"), {"body": "Mitigation underway."})

    assert posted.status_code == 201
    assert posted.json()["author"] == "mia"
    assert_conforms(posted, "/api/v1/incidents/{id}/updates/", "post")
    assert ready.timeline.filter(kind="stakeholder_update").exists()
    listed = as_manager.get(url(ready, "updates/"))
    assert [u["body"] for u in listed.json()["results"]] == ["Mitigation underway."]
    assert_conforms(listed, "/api/v1/incidents/{id}/updates/", "get")


def test_empty_update_is_400_and_stores_nothing(as_manager, ready):
    response = as_manager.post(url(ready, "updates/"), {"body": ""})

    assert response.status_code == 400
    assert StakeholderUpdate.objects.count() == 0


# --- taxonomy ------------------------------------------------------------------------------


def test_incident_types_and_severity_levels(as_responder):
    IncidentTypeFactory(slug="data-breach", name="Data breach", restricted=True)

    types = as_responder.get("/api/v1/incident-types/")
    levels = as_responder.get("/api/v1/severity-levels/")
    one = as_responder.get("/api/v1/severity-levels/SEV-1/")

    assert types.status_code == 200
    breach = next(t for t in types.json()["results"] if t["slug"] == "data-breach")
    assert breach["restricted_by_default"] is True
    assert_conforms(types, "/api/v1/incident-types/", "get")
    assert [lv["code"] for lv in levels.json()["results"]] == [
        "SEV-1",
        "SEV-2",
        "SEV-3",
        "SEV-4",
    ]
    assert_conforms(levels, "/api/v1/severity-levels/", "get")
    assert one.json()["code"] == "SEV-1"
    assert as_responder.post("/api/v1/severity-levels/", {}).status_code == 405


def test_taxonomy_needs_authentication(anonymous, db):
    assert anonymous.get("/api/v1/incident-types/").status_code == 401


# --- triage ---------------------------------------------------------------------------------


def test_triage_suggest_stores_nothing(as_responder, responder):
    past = IncidentFactory(
        resolved=True,
        title="Checkout outage after release",
        description="Checkout returned 500 errors for all customers",
    )

    def rows():
        return (
            Incident.objects.count(),
            TimelineEntry.objects.count(),
            ActionItem.objects.count(),
        )

    before = rows()
    response = as_responder.post(
        "/api/v1/triage/suggest/",
        {
            "title": "Checkout outage",
            "description": "Checkout returns 500 errors",
            "customer_facing": True,
        },
    )

    assert response.status_code == 200
    body = response.json()
    # Extended on purpose (additive): the type's and severity's own confidence.
    assert set(body) == {
        "severity",
        "incident_type",
        "confidence",
        "rationale",
        "similar",
        "type_confidence",
        "severity_confidence",
    }
    assert body["severity"] == "SEV-1"
    assert [s["reference"] for s in body["similar"]] == [past.reference]
    assert_conforms(response, "/api/v1/triage/suggest/", "post")
    assert rows() == before


def test_triage_suggest_validates(as_responder):
    response = as_responder.post("/api/v1/triage/suggest/", {"description": "x"})

    assert response.status_code == 400
    assert "title" in response.json()["errors"]


def test_triage_suggest_never_shows_hidden_incidents(as_responder, manager):
    IncidentFactory(
        resolved=True,
        restricted=True,
        reporter=manager,
        title="Payroll data leaked by vendor",
    )

    response = as_responder.post(
        "/api/v1/triage/suggest/", {"title": "Payroll data leaked"}
    )

    assert response.json()["similar"] == []


# --- analytics ------------------------------------------------------------------------------


def test_trends_counts_mtta_mttr_by_severity(as_manager, manager):
    start = timezone.now() - timedelta(days=3)
    for minutes in (10, 30):
        incident = IncidentFactory(
            reporter=manager,
            created_at=start,
            detected_at=start,
            severity=severity("SEV-2"),
            acknowledged_at=start + timedelta(minutes=minutes),
            resolved_at=start + timedelta(hours=2),
            status="resolved",
        )
        assert incident.pk
    IncidentFactory(reporter=manager, created_at=start)

    response = as_manager.get(
        "/api/v1/analytics/trends/", {"group_by": "severity", "period": "month"}
    )

    assert response.status_code == 200
    assert_conforms(response, "/api/v1/analytics/trends/", "get")
    rows = {row["group"]: row for row in response.json()["results"]}
    assert rows["SEV-2"]["count"] == 2
    assert rows["SEV-2"]["mtta_seconds"] == 20 * 60
    assert rows["SEV-2"]["mttr_seconds"] == 2 * 3600
    assert rows[None]["count"] == 1
    assert rows[None]["mtta_seconds"] is None


def test_trends_only_count_visible_incidents(as_responder, manager, responder):
    IncidentFactory(reporter=manager, restricted=True)
    IncidentFactory(reporter=responder)

    response = as_responder.get(
        "/api/v1/analytics/trends/", {"group_by": "incident_type", "period": "week"}
    )

    assert sum(row["count"] for row in response.json()["results"]) == 1


@pytest.mark.parametrize(
    "params",
    [
        {"group_by": "colour", "period": "week"},
        {"group_by": "severity", "period": "year"},
        {"period": "week"},
        {
            "group_by": "severity",
            "period": "week",
            "since": "2026-02-01T00:00:00Z",
            "until": "2026-01-01T00:00:00Z",
        },
    ],
)
def test_trends_validate_params(as_manager, params):
    response = as_manager.get("/api/v1/analytics/trends/", params)

    assert response.status_code == 400
    assert response.json()["detail"]
    assert_conforms(response, "/api/v1/analytics/trends/", "get")


# --- the schema and the docs ----------------------------------------------------------------


def test_schema_validates_without_warnings(db):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


def test_schema_documents_every_endpoint_with_errors():
    paths = openapi()["paths"]

    for path in (
        "/api/v1/incidents/{id}/confirm-severity/",
        "/api/v1/incidents/{id}/assign-role/",
        "/api/v1/incidents/{id}/transition/",
    ):
        responses = paths[path]["post"]["responses"]
        assert {"200", "201"} & set(responses)
        assert {"400", "403", "404"} <= set(responses)
        assert "requestBody" in paths[path]["post"]
    assert "/api/v1/integrations/{id}/alerts/" in paths


def test_conformance_check_catches_a_wrong_body(as_responder, incident):
    import jsonschema

    response = as_responder.get(f"/api/v1/incidents/{incident.pk}/")
    response.json = lambda: {"id": "not-a-number"}

    with pytest.raises(jsonschema.ValidationError):
        assert_conforms(response, "/api/v1/incidents/{id}/", "get")


def test_schema_endpoint_serves_openapi(as_responder):
    response = as_responder.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert b'"openapi"' in response.content


def test_docs_page_uses_only_local_assets(client, as_responder):
    import re

    page = as_responder.get("/api/docs/")

    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    scripts = [a for a in assets if a.endswith(".js") or a.endswith(".css")]
    assert scripts
    for asset in scripts:
        assert client.get(asset).status_code == 200, asset
