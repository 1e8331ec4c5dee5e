"""The schedule page in Chromium: the timeline on a laptop and a phone, no axe
violations, and a swap asked by one person and accepted by the other."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from notifications.models import ShiftSwap
from tests.browser.test_accessibility import axe_violations
from tests.factories import UserFactory
from tests.notifications.schedule_factories import make_layer, make_schedule

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team(transactional_db):
    view = Permission.objects.get(codename="view_schedule")
    people = []
    for username, first in (("ann", "Ann"), ("ben", "Ben")):
        person = UserFactory(username=username, first_name=first, last_name="Tester")
        person.user_permissions.add(view)
        people.append(person)
    schedule = make_schedule(name="Checkout primary", time_zone="Europe/London")
    start = timezone.now().date() - timedelta(days=7)
    make_layer(schedule, people, name="Daily", start_date=start, length_unit="daily")
    return schedule, *people


@pytest.mark.parametrize("width", [1280, 360])
def test_schedule_page_shows_the_timeline_accessibly(
    team, open_session, live_server, screenshot, width
):
    schedule, ann, _ben = team
    page = open_session(ann, width=width, height=900)
    page.goto(f"{live_server.url}/oncall/schedules/{schedule.pk}/")
    expect(page.get_by_role("heading", name="Checkout primary")).to_be_visible()
    expect(page.get_by_role("heading", name="On call now")).to_be_visible()
    assert page.locator(".oncall-day").count() == 14
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"schedule-{width}")
    assert axe_violations(page) == []


def test_swap_requested_then_accepted_in_the_portal(team, open_session, live_server):
    schedule, ann, ben = team
    page = open_session(ann)
    page.goto(f"{live_server.url}/oncall/schedules/{schedule.pk}/")
    page.get_by_label("Ask", exact=True).select_option(label="Ben Tester")
    page.get_by_label("Note").fill("Dentist")
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.get_by_text("Swap requested")).to_be_visible()

    other = open_session(ben)
    other.goto(f"{live_server.url}/oncall/schedules/{schedule.pk}/")
    other.get_by_role("button", name="Accept swap").click()
    expect(other.get_by_text("Swap accepted")).to_be_visible()
    assert ShiftSwap.objects.get().status == ShiftSwap.Status.ACCEPTED
    expect(other.get_by_text("Swap with Ann Tester")).to_be_visible()
