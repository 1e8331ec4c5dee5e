"""The incident page on a phone (360 × 844): a summary with jump links first
and the main commands within the first screen."""

import pytest
from playwright.sync_api import expect

from incidentops import groups
from incidents import services
from tests.factories import UserFactory, role, severity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_SCREEN = 844


@pytest.fixture
def people(transactional_db):
    return {
        "mia": UserFactory(
            username="mia",
            first_name="Mia",
            last_name="Manager",
            groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
        ),
        "rita": UserFactory(username="rita", groups=[groups.RESPONDERS]),
    }


def _bottom(page, locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"] + box["height"] + page.evaluate("window.scrollY")


def test_main_commands_are_on_the_first_phone_screen(
    people, open_session, live_server, screenshot
):
    incident = services.incident_declare(
        actor=people["rita"],
        title="Checkout returns 500 errors for card payments in every region",
        description="Customers cannot pay since 09:10. " * 6,
        customer_facing=True,
        impact="All card payments",
    )
    page = open_session(people["mia"], width=360, height=FIRST_SCREEN)
    page.goto(live_server.url + incident.get_absolute_url())

    screenshot(page, "incident-phone-before")
    confirm = page.get_by_role("button", name="Confirm severity")
    take = page.get_by_role("button", name="Take command")
    assert _bottom(page, confirm) <= FIRST_SCREEN
    assert _bottom(page, take) <= FIRST_SCREEN
    jump = page.get_by_role("navigation", name="On this page")
    expect(jump.get_by_role("link", name="Actions")).to_be_visible()
    expect(jump.get_by_role("link", name="Updates")).to_be_visible()
    expect(jump.get_by_role("link", name="Roles")).to_be_visible()
    expect(jump.get_by_role("link", name="Timeline")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(page, "incident-phone-triage")

    services.incident_assign_role(
        incident=incident,
        actor=people["mia"],
        role=role("commander"),
        user=people["mia"],
    )
    services.incident_confirm_severity(
        incident=incident,
        actor=people["mia"],
        severity=severity("SEV-1"),
        reason="All down",
    )
    services.incident_transition(
        incident=incident, actor=people["mia"], status="investigating"
    )
    page.reload()
    assert _bottom(page, page.get_by_role("button", name="Move to mitigated")) <= (
        FIRST_SCREEN
    )
    jump.get_by_role("link", name="Updates").click()
    expect(page.get_by_role("heading", name="Stakeholder updates")).to_be_in_viewport()
    screenshot(page, "incident-phone-investigating")


@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)])
def test_the_declare_page_shows_the_suggestion_by_or_before_the_button(
    people, open_session, live_server, screenshot, width, height
):
    services.incident_declare(
        actor=people["rita"], title="Checkout API returning 502 errors in Germany"
    )
    page = open_session(people["rita"], width=width, height=height)
    page.goto(live_server.url + "/incidents/new/")
    page.get_by_label("Title").fill("Checkout API returning 502 errors for EU")
    suggestion = page.get_by_test_id("suggestion-panel")
    expect(suggestion.get_by_test_id("possible-duplicates")).to_be_visible()
    button = page.get_by_role("button", name="Declare incident")
    button.scroll_into_view_if_needed()

    box, declare = suggestion.bounding_box(), button.bounding_box()
    if width > 900:
        # Beside the button, in view together with it.
        assert box["x"] >= declare["x"] + declare["width"]
        assert 0 <= box["y"] and box["y"] + box["height"] <= height
        expect(
            suggestion.get_by_text("Suggestion — a person confirms")
        ).to_be_in_viewport()
    else:
        # Before it: the page reads suggestion, then Declare.
        assert box["y"] + box["height"] <= declare["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"declare-{width}")
