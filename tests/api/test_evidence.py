"""The timeline as evidence: the API document and the verify_timeline command."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from incidents import services
from tests.api.conftest import client_for
from tests.api.openapi import assert_conforms
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PATH = "/api/v1/incidents/{id}/evidence/"


def test_evidence_lists_every_entry_with_its_hash_and_verifies(as_responder, incident):
    services.incident_add_note(incident=incident, actor=incident.reporter, body="hi")

    response = as_responder.get(f"/api/v1/incidents/{incident.pk}/evidence/")

    assert response.status_code == 200
    assert_conforms(response, PATH, "get")
    body = response.json()
    assert body["incident"] == incident.reference
    assert body["verification"]["ok"] is True
    hashes = [entry["hash"] for entry in body["entries"]]
    assert hashes == list(
        incident.timeline.order_by("sequence").values_list("hash", flat=True)
    )
    assert body["entries"][1]["content"]["prev_hash"] == hashes[0]


def test_evidence_names_the_first_tampered_entry(as_responder, incident):
    entry = incident.timeline.order_by("sequence").first()
    with connection.cursor() as cursor:  # tampering bypasses the model on purpose
        cursor.execute(
            "UPDATE incidents_timelineentry SET summary = %s WHERE id = %s",
            ["nothing happened", entry.pk],
        )

    body = as_responder.get(f"/api/v1/incidents/{incident.pk}/evidence/").json()

    assert body["verification"]["ok"] is False
    assert body["verification"]["first_broken"] == entry.sequence


def test_evidence_of_a_restricted_incident_is_a_404_without_a_grant(responder):
    secret = services.incident_declare(
        actor=responder, title="Payroll export leaked", restricted=True
    )
    outsider = client_for(UserFactory(groups=["Responders"]))

    response = outsider.get(f"/api/v1/incidents/{secret.pk}/evidence/")

    assert response.status_code == 404
    assert "Payroll" not in response.content.decode()


def test_verify_timeline_command_reports_ok_and_exports(incident, tmp_path):
    out = StringIO()
    target = tmp_path / "evidence.json"

    call_command("verify_timeline", incident.reference, "--export", target, stdout=out)

    assert f"{incident.reference}: ok" in out.getvalue()
    assert json.loads(target.read_text())["verification"]["ok"] is True


def test_verify_timeline_command_fails_on_a_broken_chain(incident):
    entry = incident.timeline.order_by("sequence").last()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_timelineentry SET hash = %s WHERE id = %s",
            ["0" * 64, entry.pk],
        )
    out = StringIO()

    with pytest.raises(CommandError, match="1 timeline"):
        call_command("verify_timeline", "--all", stdout=out)

    assert f"{incident.reference}: BROKEN" in out.getvalue()


def test_the_stored_rationale_names_only_similar_incidents_the_caller_may_see(
    responder, as_responder, django_assert_max_num_queries
):
    # given two past incidents named in a stored rationale, one since restricted
    shown = services.incident_declare(actor=responder, title="Checkout slow")
    hidden = services.incident_declare(
        actor=UserFactory(groups=["Incident managers"]),
        title="Payroll export leaked",
        restricted=True,
    )
    for n in range(3):
        incident = services.incident_declare(actor=responder, title=f"Checkout {n}")
        incident.suggestion = {
            **incident.suggestion,
            "rationale": f"type unknown; similar past incidents: "
            f"{shown.reference}, {hidden.reference}.",
        }
        incident.save()

    # when the list and one incident are read
    with django_assert_max_num_queries(12):
        listed = as_responder.get("/api/v1/incidents/").json()["results"]
    detail = as_responder.get(f"/api/v1/incidents/{incident.pk}/").json()

    # then the restricted one is named nowhere, the visible one still is
    for body in [*listed, detail]:
        assert hidden.reference not in body["suggestion"]["rationale"]
    assert shown.reference in detail["suggestion"]["rationale"]
