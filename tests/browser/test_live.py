"""Live pages in real Chromium: honest liveness when the server stops answering
or the session ends, and two people on one incident seeing each other's changes
without a reload and without losing what they type."""

import re

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from incidents import services
from tests.browser_fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _is_poll(request) -> bool:
    return request.headers.get("x-live-poll") == "1"


def test_the_board_says_it_is_stale_when_polls_fail_and_recovers(
    people, open_session, screenshot
):
    services.incident_declare(actor=people["rita"], title="Payments API slow")
    page = open_session(people["mia"])
    status = page.get_by_test_id("live-status")
    expect(status).to_contain_text("Live · updated", timeout=8_000)
    heard = page.get_by_test_id("updated-at").text_content()

    # The server answers 500 to every poll (the page stays as it was).
    page.route(
        "**/*",
        lambda route: (
            route.fulfill(status=500, body="boom")
            if _is_poll(route.request)
            else route.continue_()
        ),
    )
    expect(status).to_contain_text(
        f"Not updated since {heard} — reconnecting", timeout=15_000
    )
    expect(status).to_have_attribute("data-state", "stale")
    expect(page.locator("[data-live-announce]")).to_contain_text("Connection lost")
    screenshot(page, "board-stale")

    # The server answers again: the next retry (backoff ≤ 10 s) recovers.
    page.unroute("**/*")
    services.incident_declare(actor=people["rita"], title="Warehouse scanners offline")
    expect(page.get_by_text("Warehouse scanners offline")).to_be_visible(timeout=15_000)
    expect(status).to_have_attribute("data-state", "live")
    expect(status).to_contain_text("Live · updated")


def test_an_ended_session_shows_a_sign_in_prompt_that_returns_here(
    people, open_session, live_server
):
    incident = services.incident_declare(
        actor=people["rita"], title="Checkout returns 500"
    )
    page = open_session(people["mia"])
    page.goto(live_server.url + incident.get_absolute_url())
    expect(page.get_by_test_id("live-status")).to_contain_text("Live · updated")

    Session.objects.all().delete()  # the session expires on the server

    prompt = page.get_by_test_id("live-sign-in")
    expect(prompt).to_be_visible(timeout=10_000)
    # No login page was swapped into the incident page.
    assert page.locator("header.site-header").count() == 1
    assert page.locator("#id_password").count() == 0
    prompt.click()
    page.get_by_label("Username").fill("mia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(incident.get_absolute_url()) + "$"))
    expect(page.get_by_test_id("live-status")).to_contain_text(
        "Live · updated", timeout=8_000
    )


def test_two_people_on_one_incident_see_each_others_changes_without_reload(
    people, open_session, live_server, screenshot
):
    incident = services.incident_declare(
        actor=people["rita"], title="Checkout returns 500"
    )
    url = live_server.url + incident.get_absolute_url()
    commander = open_session(people["mia"])
    commander.goto(url)
    responder = open_session(people["rita"])
    responder.goto(url)
    responder.evaluate("window.__noReload = true")
    # The responder is half-way through a note when the commander acts.
    note = responder.get_by_label("Note", exact=True)
    note.fill("Error rate dropping after the rollback")

    commander.get_by_role("button", name="Take command").click()
    expect(commander.get_by_text("Nobody has taken command")).to_have_count(0)
    commander.get_by_label("New action").fill("Roll back the 09:05 deploy")
    commander.get_by_role("button", name="Add action").click()
    expect(commander.locator("#actions")).to_contain_text("Roll back the 09:05 deploy")

    # Within five seconds, without a reload, the responder sees both changes.
    expect(responder.locator("#actions")).to_contain_text(
        "Roll back the 09:05 deploy", timeout=5_000
    )
    expect(responder.locator("#live-head")).to_contain_text(
        "Mia Manager", timeout=5_000
    )
    expect(responder.locator("#roles")).to_contain_text("Mia Manager")
    assert responder.evaluate("window.__noReload") is True
    # ... and has not lost a word of the note; the timeline waits for them.
    expect(note).to_have_value("Error rate dropping after the rollback")
    expect(responder.locator("#timeline-panel")).to_have_class(
        re.compile("live-region--waiting")
    )
    screenshot(responder, "incident-live-two-sessions")

    responder.get_by_role("button", name="Add note").click()
    expect(responder.locator("#timeline")).to_contain_text(
        "Error rate dropping after the rollback"
    )
    expect(commander.locator("#timeline")).to_contain_text(
        "Error rate dropping after the rollback", timeout=5_000
    )
