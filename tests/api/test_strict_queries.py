"""Bad query parameters are refused with the reason, never quietly ignored; the
timeline shows both orders (time and sequence); a new type applies a playbook."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from incidents import services
from incidents.models import PlaybookApplication, TimelineEntry
from tests.factories import (
    IncidentTypeFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    severity,
)

URL = "/api/v1/incidents/"


@pytest.fixture
def three(manager):
    """A SEV-1, a SEV-4 and an unconfirmed incident, declared in that order."""
    made = {}
    for code in ("SEV-1", "SEV-4", None):
        incident = services.incident_declare(actor=manager, title=f"Incident {code}")
        if code:
            services.incident_confirm_severity(
                incident=incident, actor=manager, severity=severity(code)
            )
        made[code] = incident
    return made


@pytest.mark.parametrize("value", ["maybe", "yes please", "2"])
def test_restricted_must_be_true_or_false(as_manager, three, value):
    response = as_manager.get(URL, {"restricted": value})

    assert response.status_code == 400
    body = response.json()
    assert "restricted" in body["errors"]
    assert "true or false" in body["detail"]


@pytest.mark.parametrize(("value", "count"), [("true", 0), ("false", 3), ("1", 0)])
def test_restricted_true_and_false_still_filter(as_manager, three, value, count):
    response = as_manager.get(URL, {"restricted": value})

    assert response.status_code == 200
    assert response.json()["count"] == count


@pytest.mark.parametrize("value", ["0", "-5", "ten"])
def test_page_size_below_one_or_not_a_number_is_refused(as_manager, three, value):
    response = as_manager.get(URL, {"page_size": value})

    assert response.status_code == 400
    assert "page_size" in response.json()["errors"]
    assert "from 1 to 1000" in response.json()["detail"]


def test_page_size_one_pages_with_a_sound_next_link(as_manager, three):
    body = as_manager.get(URL, {"page_size": 1}).json()

    assert len(body["results"]) == 1
    assert "page_size=1" in body["next"] and "page=2" in body["next"]


def test_the_action_list_refuses_a_zero_page_size_too(as_manager, three):
    incident = three["SEV-1"]

    response = as_manager.get(f"{URL}{incident.pk}/actions/", {"page_size": 0})

    assert response.status_code == 400


@pytest.mark.parametrize(
    "name", ["created_after", "created_before", "detected_after", "resolved_before"]
)
def test_a_bad_date_names_the_parameter_sent(as_manager, three, name):
    response = as_manager.get(URL, {name: "bad"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [name]
    assert response.json()["detail"].startswith(f"{name}:")


def test_date_ranges_are_inclusive(as_manager, three):
    # A day in the organisation's zone (Europe/London), as the filters read it.
    today = (
        three["SEV-1"].created_at.astimezone(ZoneInfo("Europe/London")).date()
    ).isoformat()

    body = as_manager.get(URL, {"created_after": today, "created_before": today}).json()

    assert body["count"] == 3


def test_an_unknown_ordering_is_refused_listing_the_allowed(as_manager, three):
    response = as_manager.get(URL, {"ordering": "-severity"})

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "-severity" in detail
    assert "severity__rank" in detail and "created_at" in detail


def test_severity_rank_ascending_is_most_severe_first_unconfirmed_last(
    as_manager, three
):
    body = as_manager.get(URL, {"ordering": "severity__rank"}).json()

    assert [i["severity"] for i in body["results"]] == ["SEV-1", "SEV-4", None]


def test_severity_rank_descending_is_least_severe_first_unconfirmed_last(
    as_manager, three
):
    body = as_manager.get(URL, {"ordering": "-severity__rank"}).json()

    assert [i["severity"] for i in body["results"]] == ["SEV-4", "SEV-1", None]


# --- type then confirm-severity applies the playbook -------------------------------


@pytest.fixture
def outage(db):
    kind = IncidentTypeFactory(slug="service-outage", name="Service outage")
    playbook = PlaybookFactory(incident_type=kind, name="Outage playbook")
    PlaybookStepFactory(playbook=playbook, title="Open the bridge")
    return kind


def test_patch_type_then_confirm_applies_the_playbook(as_manager, commanded, outage):
    patched = as_manager.patch(
        f"{URL}{commanded.pk}/", {"incident_type": "service-outage"}, format="json"
    )
    confirmed = as_manager.post(
        f"{URL}{commanded.pk}/confirm-severity/", {"severity": "SEV-2"}, format="json"
    )

    assert patched.status_code == 200 and confirmed.status_code == 200
    assert list(commanded.actions.values_list("title", flat=True)) == [
        "Open the bridge"
    ]


def test_patch_type_on_a_confirmed_incident_applies_the_playbook_once(
    as_manager, ready, outage
):
    for _ in range(2):
        response = as_manager.patch(
            f"{URL}{ready.pk}/", {"incident_type": "service-outage"}, format="json"
        )
        assert response.status_code == 200

    assert list(ready.actions.values_list("title", flat=True)) == ["Open the bridge"]
    assert PlaybookApplication.objects.filter(incident=ready).count() == 1


# --- the timeline ---------------------------------------------------------------


def test_timeline_is_in_time_order_ties_by_sequence_with_both_exposed(
    as_manager, incident
):
    started = incident.created_at - timedelta(minutes=30)
    alert = services.timeline_record(
        incident=incident,
        kind=TimelineEntry.Kind.ALERT,
        summary="HighErrorRate firing",
        occurred_at=started,
    )
    tie = services.timeline_record(
        incident=incident,
        kind=TimelineEntry.Kind.NOTE,
        summary="Noticed at the same moment",
        occurred_at=started,
    )

    results = as_manager.get(f"{URL}{incident.pk}/timeline/").json()["results"]

    assert [e["sequence"] for e in results] == [alert.sequence, tie.sequence, 1, 2]
    first = results[0]
    assert {"sequence", "occurred_at", "recorded_at"} <= set(first)
    assert first["recorded_at"] > first["occurred_at"]
