"""The journeys people take in the portal, in real Chromium."""

import re

import pytest
from django.db import transaction
from playwright.sync_api import expect

from incidentops import groups
from incidents.models import Incident
from tests.factories import (
    IncidentFactory,
    IncidentTypeFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    UserFactory,
    severity,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_declare_command_act_update_and_resolve(
    people, open_session, screenshot, live_server
):
    outage = IncidentTypeFactory(
        slug="service-outage",
        name="Service outage",
        keywords="outage, down, 500, errors, checkout",
        default_severity=severity("SEV-2"),
    )
    playbook = PlaybookFactory(incident_type=outage, name="Outage playbook")
    PlaybookStepFactory(playbook=playbook, title="Open the incident bridge")
    page = open_session(people["rita"])

    # Declare, watching the suggestion appear while typing.
    page.get_by_role("link", name="Declare incident").first.click()
    page.get_by_label("Title").fill("Checkout is down with 500 errors")
    page.get_by_label("Description").fill("Customers cannot pay since 09:10.")
    page.get_by_label("Customer-facing").check()
    suggestion = page.get_by_test_id("suggestion")
    expect(suggestion).to_contain_text("Suggestion — a person confirms severity")
    expect(suggestion).to_contain_text("Confidence")
    screenshot(page, "declare")
    page.get_by_role("button", name="Declare incident").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Checkout is down with 500 errors"
    )
    incident = Incident.objects.get(title="Checkout is down with 500 errors")
    expect(page.get_by_test_id("confirmed-severity")).to_contain_text("Unconfirmed")

    # Take command; leaving triage before a severity is confirmed shows the
    # service's reason.
    page.get_by_role("button", name="Take command").click()
    expect(page.get_by_role("status")).to_contain_text("You are now incident commander")
    page.get_by_role("button", name="Move to investigating").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "It cannot leave triage: a person has not confirmed its severity"
    )

    # The commander confirms the severity and, with it, the suggested type: the
    # type's playbook is applied.
    expect(page.get_by_test_id("type-suggested")).to_have_text("Suggested by triage")
    expect(page.locator("#id_severity_incident_type")).to_have_value("service-outage")
    page.get_by_label("Severity", exact=True).select_option("SEV-2")
    page.get_by_label("Reason").fill("Checkout degraded for some customers")
    # One step: the same form keeps the commander and starts the response.
    expect(page.get_by_label("Commander")).to_have_value("rita")
    expect(page.get_by_label(re.compile("^Start the response"))).to_be_checked()
    page.get_by_role("button", name="Confirm severity and type").click()
    expect(page.get_by_test_id("confirmed-severity")).to_contain_text("SEV-2 High")
    expect(page.get_by_test_id("incident-type")).to_contain_text("Service outage")
    expect(page.locator("#actions")).to_contain_text("Open the incident bridge")
    expect(page.get_by_role("heading", name="Status: Investigating")).to_be_visible()

    # Add and complete an action in place (htmx, no reload).
    page.evaluate("window.__noReload = true")
    page.get_by_label("New action").fill("Roll back release 42")
    page.get_by_role("button", name="Add action").click()
    row = page.locator("#actions tr", has_text="Roll back release 42")
    expect(row).to_be_visible()
    row.get_by_role("button", name=re.compile("^Complete")).click()
    expect(page.locator("#actions")).to_contain_text("“Roll back release 42” is done.")
    assert page.evaluate("window.__noReload") is True

    # Post a stakeholder update from the pre-filled template.
    page.get_by_text("Write an update").click()
    body = page.get_by_label("Update", exact=True)
    expect(body).to_have_value(re.compile("What happened: Checkout is down"))
    body.fill(
        body.input_value().replace(
            "(what the team is doing now)", "Rolling back release 42."
        )
    )
    page.get_by_role("button", name="Post update").click()
    expect(page.get_by_role("status")).to_contain_text("Stakeholder update posted")
    expect(page.locator("#timeline")).to_contain_text("posted a stakeholder update")
    screenshot(page, "incident")

    # Resolve; the review panel (or its link) is on the page.
    page.get_by_label(re.compile("^Status note")).fill("Rolled back release 42.")
    expect(page.get_by_test_id("resolve-warning")).to_contain_text("1 open action")
    page.get_by_role("button", name="Move to resolved").click()
    # The playbook's action is still open: resolving asks first, listing it.
    expect(page.get_by_test_id("resolve-open-actions")).to_contain_text(
        "Open the incident bridge"
    )
    page.get_by_role(
        "button", name="Resolve, keep the actions open as follow-ups"
    ).click()
    expect(page.get_by_role("heading", name="Status: Resolved")).to_be_visible()
    expect(page.get_by_role("heading", name="Post-incident review")).to_be_visible()
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.resolution_summary == "Rolled back release 42."
    screenshot(page, "incident-resolved")

    # Open the review: the reviews app's panel links to it once it exists;
    # without the panel the section links to the reviews list.
    review = page.get_by_role("region", name="Post-incident review")
    open_review = review.get_by_role("link", name="Open the review")
    if open_review.count():
        open_review.click()
        page.wait_for_url(re.compile(r"/reviews/\d+/$"))
        expect(page.get_by_role("heading", level=1)).to_contain_text(incident.reference)
        screenshot(page, "review")
    else:
        expect(review.get_by_role("link").first).to_have_attribute(
            "href", re.compile(r"^/reviews/")
        )

    # My work lists what is still mine.
    page.get_by_role("link", name="My work").click()
    expect(page.get_by_role("heading", name="My current roles")).to_be_visible()
    screenshot(page, "my-work")


def test_the_board_changes_live_for_another_user(
    people, open_session, screenshot, live_server
):
    breach = IncidentTypeFactory(
        slug="data-breach", name="Personal data breach", gdpr=True
    )
    # References are drawn under a row lock, which needs a transaction.
    with transaction.atomic():
        IncidentFactory(
            title="Supplier portal slow",
            severity=severity("SEV-3"),
            status="mitigated",
            reporter=people["mia"],
        )
        IncidentFactory(
            title="Customer records exposed",
            severity=severity("SEV-1"),
            status="investigating",
            incident_type=breach,
            regulatory=True,
            data_exposed=True,
            reporter=people["mia"],
        )
    watcher = open_session(people["mia"])
    expect(watcher.get_by_text("Customer records exposed")).to_be_visible()
    expect(
        watcher.locator("#board").get_by_text("SEV-1 Critical").first
    ).to_be_visible()
    first_stamp = watcher.get_by_test_id("updated-at").text_content()

    declarer = open_session(people["rita"])
    declarer.goto(f"{live_server.url}/incidents/new/")
    declarer.get_by_label("Title").fill("Warehouse scanners offline")
    declarer.get_by_role("button", name="Declare incident").click()
    expect(declarer.get_by_role("heading", level=1)).to_have_text(
        "Warehouse scanners offline"
    )

    # No reload: the five-second poll brings it in.
    watcher.evaluate("window.__noReload = true")
    expect(watcher.get_by_text("Warehouse scanners offline")).to_be_visible(
        timeout=8_000
    )
    assert watcher.evaluate("window.__noReload") is True
    assert watcher.get_by_test_id("updated-at").text_content() != first_stamp
    screenshot(watcher, "board")

    phone = open_session(people["mia"], width=360, height=780)
    expect(phone.get_by_text("Warehouse scanners offline")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "board-phone")
    phone.goto(
        f"{live_server.url}"
        + Incident.objects.get(title="Customer records exposed").get_absolute_url()
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "incident-phone")


def test_a_configurator_is_not_offered_declaring_and_is_told_why_the_board_is_empty(
    people, open_session, screenshot, live_server
):
    cora = UserFactory(
        username="cora",
        first_name="Cora",
        last_name="Config",
        groups=[groups.CONFIGURATORS],
    )
    with transaction.atomic():
        IncidentFactory(title="Only responders see this", reporter=people["mia"])

    page = open_session(cora)

    expect(page.get_by_text("You have no incidents to see.")).to_be_visible()
    expect(page.get_by_text("Only responders see this")).to_have_count(0)
    expect(page.get_by_role("link", name="Declare incident")).to_have_count(0)
    response = page.goto(f"{live_server.url}/incidents/new/")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You may not declare incidents"
    )


def test_the_role_select_shows_whole_role_names(people, open_session, live_server):
    with transaction.atomic():
        incident = IncidentFactory(title="Scanners offline", reporter=people["mia"])
    page = open_session(people["mia"])
    page.goto(live_server.url + incident.get_absolute_url())

    role = page.locator("#id_role_role")
    role.select_option("communications")
    # The selected option's text fits: the select is not narrower than it.
    fits = role.evaluate(
        """select => {
            const probe = document.createElement("span");
            probe.style.font = getComputedStyle(select).font;
            probe.style.position = "absolute";
            probe.style.whiteSpace = "nowrap";
            probe.textContent = select.options[select.selectedIndex].text;
            document.body.appendChild(probe);
            const needed = probe.getBoundingClientRect().width;
            probe.remove();
            return needed + 30 <= select.clientWidth;
        }"""
    )
    assert fits
    # Service accounts are not offered as people.
    expect(page.locator("#id_role_user option", has_text="bot")).to_have_count(0)
