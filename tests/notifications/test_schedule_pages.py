"""The schedule pages: the timeline, swaps asked and accepted, calendar feeds,
and My work's next shifts."""

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from incidentops import groups
from notifications.models import CalendarFeed, ShiftSwap
from tests.factories import UserFactory
from tests.notifications.schedule_factories import make_layer, make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(db):
    ann = UserFactory(
        username="ann", first_name="Ann", last_name="Lee", groups=[groups.RESPONDERS]
    )
    ben = UserFactory(
        username="ben", first_name="Ben", last_name="Kay", groups=[groups.RESPONDERS]
    )
    schedule = make_schedule(name="Checkout primary", time_zone="Europe/London")
    # Daily turns from today a week ago: ann and ben alternate.
    start = timezone.now().date() - timedelta(days=7)
    make_layer(schedule, [ann, ben], start_date=start, length_unit="daily")
    return schedule, ann, ben


def test_responders_see_the_list_and_the_timeline(client, team):
    schedule, ann, _ben = team
    client.force_login(ann)
    listing = client.get("/oncall/schedules/")
    assert listing.status_code == 200
    assert b"Checkout primary" in listing.content
    page = client.get(f"/oncall/schedules/{schedule.pk}/")
    assert page.status_code == 200
    assert len(page.context["days"]) == 14
    assert page.context["current"] is not None
    assert b"Times in Europe/London" in page.content
    assert page.context["swap_form"] is not None
    four = client.get(f"/oncall/schedules/{schedule.pk}/?weeks=4")
    assert len(four.context["days"]) == 28


def test_people_without_a_role_group_are_refused(client, team):
    schedule, *_ = team
    client.force_login(UserFactory(username="out"))
    assert client.get("/oncall/schedules/").status_code == 403
    assert client.get(f"/oncall/schedules/{schedule.pk}/").status_code == 403


def test_a_swap_asked_in_the_portal_and_accepted_by_the_other(client, team):
    schedule, ann, ben = team
    client.force_login(ann)
    form = client.get(f"/oncall/schedules/{schedule.pk}/").context["swap_form"]
    mine = form.fields["shift"].choices[0][0]
    theirs = form.fields["return_shift"].choices[1][0]
    response = client.post(
        f"/oncall/schedules/{schedule.pk}/",
        {
            "shift": mine,
            "counterpart": str(ben.pk),
            "return_shift": theirs,
            "note": "dentist",
        },
    )
    assert response.status_code == 302
    swap = ShiftSwap.objects.get()
    assert (swap.requester, swap.counterpart, swap.note) == (ann, ben, "dentist")

    client.force_login(ben)
    page = client.get(f"/oncall/schedules/{schedule.pk}/")
    assert page.context["asked_of_me"] == [swap]
    client.post(f"/oncall/swaps/{swap.pk}/accept/")
    swap.refresh_from_db()
    assert swap.status == ShiftSwap.Status.ACCEPTED
    assert swap.overrides.count() == 2


def test_a_swap_for_someone_elses_shift_is_a_form_error(client, team):
    schedule, ann, ben = team
    client.force_login(ann)
    form = client.get(f"/oncall/schedules/{schedule.pk}/").context["swap_form"]
    theirs = form.fields["return_shift"].choices[1][0]
    start, end, _owner = theirs.split("|")
    response = client.post(
        f"/oncall/schedules/{schedule.pk}/",
        {"shift": f"{start}|{end}", "counterpart": str(ben.pk)},
    )
    assert response.status_code == 400
    assert ShiftSwap.objects.count() == 0


def test_only_the_person_asked_accepts_in_the_portal(client, team):
    schedule, ann, ben = team
    carl = UserFactory(username="carl", groups=[groups.RESPONDERS])
    client.force_login(ann)
    form = client.get(f"/oncall/schedules/{schedule.pk}/").context["swap_form"]
    client.post(
        f"/oncall/schedules/{schedule.pk}/",
        {"shift": form.fields["shift"].choices[0][0], "counterpart": str(ben.pk)},
    )
    swap = ShiftSwap.objects.get()
    client.force_login(carl)
    client.post(f"/oncall/swaps/{swap.pk}/accept/")
    swap.refresh_from_db()
    assert swap.status == ShiftSwap.Status.REQUESTED


def test_personal_calendar_feed_at_a_secret_url_and_revoked(client, team):
    schedule, ann, _ben = team
    client.force_login(ann)
    client.post(f"/oncall/schedules/{schedule.pk}/feed/", {"action": "mine"})
    feed = CalendarFeed.objects.get(user=ann)
    client.logout()
    response = client.get(f"/oncall/calendar/{feed.token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert events and {str(e["summary"]) for e in events} == {"ann"}
    assert all("ann@example.com" in str(e["attendee"]) for e in events)

    client.force_login(ann)
    client.post(
        f"/oncall/schedules/{schedule.pk}/feed/", {"action": "revoke", "feed": feed.pk}
    )
    client.logout()
    assert client.get(f"/oncall/calendar/{feed.token}.ics").status_code == 404
    assert client.get("/oncall/calendar/not-a-token.ics").status_code == 404


def test_schedule_feeds_are_for_configurators(client, team):
    schedule, ann, _ben = team
    client.force_login(ann)
    client.post(f"/oncall/schedules/{schedule.pk}/feed/", {"action": "schedule"})
    assert not CalendarFeed.objects.filter(schedule=schedule).exists()
    cora = UserFactory(username="cora", groups=[groups.CONFIGURATORS])
    client.force_login(cora)
    client.post(f"/oncall/schedules/{schedule.pk}/feed/", {"action": "schedule"})
    feed = CalendarFeed.objects.get(schedule=schedule)
    body = client.get(f"/oncall/calendar/{feed.token}.ics").content
    names = {str(e["summary"]) for e in Calendar.from_ical(body).walk("VEVENT")}
    assert names == {"ann", "ben"}


def test_my_work_shows_my_next_shifts(client, team):
    schedule, ann, _ben = team
    client.force_login(ann)
    response = client.get("/my/")
    assert response.status_code == 200
    assert b"My next shifts" in response.content
    assert b"Checkout primary" in response.content
