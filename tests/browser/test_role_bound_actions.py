"""Role-bound actions in real Chromium: an action that belongs to the
communications lead goes to whoever takes the role, and follows the role on
hand-over; each holder's My work shows it, and the incident page open beside
shows the new owner without a reload."""

import pytest
from playwright.sync_api import expect

from incidentops import groups
from incidents import services
from tests.factories import UserFactory, role, severity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def war_room(transactional_db):
    mia = UserFactory(
        username="mia",
        first_name="Mia",
        last_name="Manager",
        groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
    )
    carl = UserFactory(
        username="carl",
        first_name="Carl",
        last_name="Comms",
        groups=[groups.RESPONDERS],
    )
    dana = UserFactory(
        username="dana", first_name="Dana", last_name="Day", groups=[groups.RESPONDERS]
    )
    incident = services.incident_declare(
        actor=mia, title="Checkout returns 500 errors", customer_facing=True
    )
    services.incident_assign_role(
        incident=incident, actor=mia, role=role("commander"), user=mia
    )
    services.incident_confirm_severity(
        incident=incident, actor=mia, severity=severity("SEV-1"), reason="All down"
    )
    services.action_create(
        incident=incident,
        actor=mia,
        title="Post the first customer update",
        role=role("communications"),
    )
    return {"mia": mia, "carl": carl, "dana": dana, "incident": incident}


def _hand_role_to(page, username: str) -> None:
    page.locator("#id_role_role").select_option("communications")
    page.locator("#id_role_user").select_option(username)
    page.get_by_role("button", name="Assign / hand over").click()


def test_a_role_bound_action_follows_the_role_on_hand_over(
    war_room, open_session, live_server, screenshot
):
    url = live_server.url + war_room["incident"].get_absolute_url()
    commander = open_session(war_room["mia"])
    commander.goto(url)
    action_row = commander.locator("#actions tr", has_text="Post the first customer")
    expect(action_row).to_be_visible()

    # Carl takes the communications lead: the role's open action is his.
    _hand_role_to(commander, "carl")
    expect(commander.locator("#roles")).to_contain_text("Carl Comms")
    expect(action_row).to_contain_text("Carl Comms")
    carl = open_session(war_room["carl"])
    carl.goto(live_server.url + "/my/")
    mine = carl.get_by_role("region", name="My open actions")
    expect(mine).to_contain_text("Post the first customer update")
    expect(carl.get_by_role("region", name="My current roles")).to_contain_text(
        "Communications"
    )
    screenshot(carl, "my-work-role-bound-action")

    # Carl watches the incident while the commander hands the role to Dana.
    carl.goto(url)
    carl.evaluate("window.__noReload = true")
    _hand_role_to(commander, "dana")
    expect(commander.locator("#roles")).to_contain_text("Dana Day")
    expect(action_row).to_contain_text("Dana Day")
    carls_row = carl.locator("#actions tr", has_text="Post the first customer")
    expect(carls_row).to_contain_text("Dana Day", timeout=8_000)
    assert carl.evaluate("window.__noReload") is True

    # My work follows: Dana has it now, Carl no longer.
    carl.goto(live_server.url + "/my/")
    expect(carl.get_by_role("region", name="My open actions")).to_contain_text(
        "No open actions are assigned to you."
    )
    dana = open_session(war_room["dana"])
    dana.goto(live_server.url + "/my/")
    expect(dana.get_by_role("region", name="My open actions")).to_contain_text(
        "Post the first customer update"
    )
