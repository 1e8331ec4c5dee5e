"""The schedules API: who reads, the on-call answer, the timeline, overrides."""

from datetime import date

import pytest

from incidentops import groups
from tests.api.conftest import client_for
from tests.factories import UserFactory
from tests.notifications.schedule_factories import (
    make_layer,
    make_override,
    make_schedule,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(db):
    ann = UserFactory(username="ann", first_name="Ann", last_name="Lee")
    ben = UserFactory(username="ben")
    schedule = make_schedule(name="Checkout primary", time_zone="Europe/London")
    make_layer(schedule, [ann, ben], name="Weekly", start_date=date(2026, 3, 23))
    return schedule


def test_responders_list_schedules_with_layers(as_responder, schedule):
    response = as_responder.get("/api/v1/schedules/")
    assert response.status_code == 200
    [item] = response.json()["results"]
    assert item["name"] == "Checkout primary"
    assert item["time_zone"] == "Europe/London"
    assert item["layers"][0]["participants"] == ["ann", "ben"]
    assert item["layers"][0]["handoff_time"] == "09:00:00"


def test_people_without_a_role_group_see_no_schedule(schedule):
    outsider = client_for(UserFactory(username="out"))
    assert outsider.get("/api/v1/schedules/").json()["count"] == 0
    assert outsider.get(f"/api/v1/schedules/{schedule.pk}/").status_code == 404
    assert outsider.get(f"/api/v1/schedules/{schedule.pk}/oncall/").status_code == 404


def test_anonymous_is_refused(anonymous, schedule):
    assert anonymous.get("/api/v1/schedules/").status_code in (401, 403)


def test_oncall_at_an_instant_across_the_spring_change(as_responder, schedule):
    url = f"/api/v1/schedules/{schedule.pk}/oncall/"
    before = as_responder.get(url, {"at": "2026-03-30T07:59:00Z"}).json()
    after = as_responder.get(url, {"at": "2026-03-30T09:00:00+01:00"}).json()
    assert before["users"] == [
        {
            "username": "ann",
            "name": "Ann Lee",
            "layer": "Weekly",
            "start": "2026-03-23T09:00:00Z",
            "end": "2026-03-30T08:00:00Z",
        }
    ]
    assert after["at"] == "2026-03-30T08:00:00Z"
    assert [u["username"] for u in after["users"]] == ["ben"]


def test_an_unencoded_plus_offset_is_read(as_responder, schedule):
    response = as_responder.get(
        f"/api/v1/schedules/{schedule.pk}/oncall/?at=2026-03-30T09:00:00+01:00"
    )
    assert response.status_code == 200
    assert response.json()["at"] == "2026-03-30T08:00:00Z"


def test_oncall_defaults_to_now(as_responder, schedule):
    response = as_responder.get(f"/api/v1/schedules/{schedule.pk}/oncall/")
    assert response.status_code == 200
    assert len(response.json()["users"]) == 1


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01T00:00:00Z", "9999-12-31"])
def test_a_bad_time_is_a_clear_400(as_responder, schedule, bad):
    response = as_responder.get(f"/api/v1/schedules/{schedule.pk}/oncall/", {"at": bad})
    assert response.status_code == 400
    body = response.json()
    assert "at" in body["errors"]
    assert bad in body["detail"]


def test_shifts_over_a_range(as_responder, schedule):
    ann = schedule.layers.get().participants.get(position=0).user
    make_override(schedule, ann, "2026-04-01T12:00:00Z", "2026-04-01T13:00:00Z")
    response = as_responder.get(
        f"/api/v1/schedules/{schedule.pk}/shifts/",
        {"start": "2026-03-29T00:00:00Z", "end": "2026-04-06T00:00:00Z"},
    )
    assert response.status_code == 200
    rows = [
        (s["username"], s["layer"], s["start"], s["end"])
        for s in response.json()["shifts"]
    ]
    assert rows == [
        ("ann", "Weekly", "2026-03-29T00:00:00Z", "2026-03-30T08:00:00Z"),
        ("ben", "Weekly", "2026-03-30T08:00:00Z", "2026-04-01T12:00:00Z"),
        ("ann", "Override", "2026-04-01T12:00:00Z", "2026-04-01T13:00:00Z"),
        ("ben", "Weekly", "2026-04-01T13:00:00Z", "2026-04-06T00:00:00Z"),
    ]


def test_shifts_range_is_bounded(as_responder, schedule):
    url = f"/api/v1/schedules/{schedule.pk}/shifts/"
    too_long = as_responder.get(
        url, {"start": "2026-01-01T00:00:00Z", "end": "2026-12-01T00:00:00Z"}
    )
    backwards = as_responder.get(
        url, {"start": "2026-02-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}
    )
    assert too_long.status_code == 400
    assert backwards.status_code == 400


def test_incident_managers_add_overrides_responders_may_not(
    as_responder, manager, schedule
):
    body = {
        "user": "ben",
        "start": "2026-04-01T12:00:00Z",
        "end": "2026-04-01T14:00:00Z",
        "note": "covering",
    }
    url = f"/api/v1/schedules/{schedule.pk}/overrides/"
    assert as_responder.post(url, body, format="json").status_code == 403
    response = client_for(manager).post(url, body, format="json")
    assert response.status_code == 201
    assert response.json()["user"] == "ben"
    assert schedule.overrides.get().created_by == manager


def test_an_override_for_a_service_account_is_refused(manager, schedule):
    UserFactory(username="robot", service_account=True)
    response = client_for(manager).post(
        f"/api/v1/schedules/{schedule.pk}/overrides/",
        {
            "user": "robot",
            "start": "2026-04-01T12:00:00Z",
            "end": "2026-04-01T14:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 400
    assert schedule.overrides.count() == 0


def test_configurators_read_schedules_too(schedule):
    configurator = UserFactory(username="conf", groups=[groups.CONFIGURATORS])
    response = client_for(configurator).get(f"/api/v1/schedules/{schedule.pk}/")
    assert response.status_code == 200
