"""Configuring schedules in the admin: layers with their participants in turn
order and overrides on one page."""

from datetime import date

import pytest

from notifications.models import Schedule
from tests.factories import UserFactory
from tests.notifications.schedule_factories import make_layer, make_schedule

pytestmark = pytest.mark.django_db


def _form(schedule_name="Checkout primary", participants="ann, ben", **extra):
    data = {
        "name": schedule_name,
        "time_zone": "Europe/London",
        "description": "",
        "external_id": "",
        "layers-TOTAL_FORMS": "1",
        "layers-INITIAL_FORMS": "0",
        "layers-MIN_NUM_FORMS": "0",
        "layers-MAX_NUM_FORMS": "1000",
        "layers-0-name": "Weekly",
        "layers-0-priority": "1",
        "layers-0-participant_names": participants,
        "layers-0-start_date": "2026-03-23",
        "layers-0-handoff_time": "09:00",
        "layers-0-length_count": "1",
        "layers-0-length_unit": "weekly",
        "layers-0-restrictions": "[]",
        "overrides-TOTAL_FORMS": "0",
        "overrides-INITIAL_FORMS": "0",
        "overrides-MIN_NUM_FORMS": "0",
        "overrides-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


@pytest.fixture
def configurator(client):
    cora = UserFactory(username="cora", is_staff=True, groups=["Configurators"])
    client.force_login(cora)
    return cora


def test_configurators_add_a_schedule_with_a_layer_and_its_participants(
    client, configurator
):
    UserFactory(username="ann")
    UserFactory(username="ben")
    response = client.post("/admin/notifications/schedule/add/", _form())
    assert response.status_code == 302, response.content[:3000]
    schedule = Schedule.objects.get()
    layer = schedule.layers.get()
    assert [p.user.username for p in layer.participants.order_by("position")] == [
        "ann",
        "ben",
    ]


def test_unknown_participants_and_bad_restrictions_are_refused(client, configurator):
    UserFactory(username="ann")
    UserFactory(username="robot", service_account=True)
    response = client.post(
        "/admin/notifications/schedule/add/",
        _form(participants="ann, nobody, robot"),
    )
    assert response.status_code == 200
    assert b"No such user: nobody" in response.content
    response = client.post(
        "/admin/notifications/schedule/add/",
        _form(participants="ann", **{"layers-0-restrictions": '[{"type": "x"}]'}),
    )
    assert response.status_code == 200
    assert Schedule.objects.count() == 0


def test_the_change_page_shows_participants_in_order(client, configurator):
    ann, ben = UserFactory(username="ann"), UserFactory(username="ben")
    schedule = make_schedule()
    make_layer(schedule, [ben, ann], start_date=date(2026, 3, 23))
    response = client.get(f"/admin/notifications/schedule/{schedule.pk}/change/")
    assert response.status_code == 200
    assert b"ben, ann" in response.content


def test_responders_read_but_do_not_edit_schedules(client):
    rita = UserFactory(is_staff=True, groups=["Responders"])
    client.force_login(rita)
    assert client.get("/admin/notifications/schedule/").status_code == 200
    assert client.get("/admin/notifications/schedule/add/").status_code == 403
