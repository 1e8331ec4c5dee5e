"""The review workflow in real Chromium: the owner writes and submits, an
executive and a reviewer approve a SEV-1 review, the owner publishes, prints
and downloads the Markdown."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from incidentops import groups
from reviews.models import Review
from tests.factories import UserFactory
from tests.reviews.factories import CategoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sev1_people(transactional_db):
    return {
        "rita": UserFactory(
            username="rita", first_name="Rita", groups=[groups.RESPONDERS]
        ),
        "mia": UserFactory(
            username="mia",
            first_name="Mia",
            last_name="Manager",
            groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
        ),
        "rob": UserFactory(username="rob", first_name="Rob", groups=[groups.REVIEWERS]),
        "eve": UserFactory(
            username="eve", first_name="Eve", groups=[groups.EXECUTIVES]
        ),
    }


def test_write_approve_publish_print_and_download(
    sev1_people, resolve, open_session, screenshot, live_server
):
    # given: a resolved SEV-1 whose review mia (the commander) owns
    CategoryFactory(slug="change", name="Change management")
    incident = resolve("SEV-1", at=timezone.now() - timedelta(hours=2))
    review = Review.objects.get(incident=incident)
    url = f"{live_server.url}/reviews/{review.pk}/"

    # The owner writes the review.
    page = open_session(sev1_people["mia"])
    page.goto(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(incident.reference)
    page.get_by_label("Summary", exact=True).fill(
        "Checkout failed for 20 minutes after a release."
    )
    page.get_by_label("Root cause").fill("A flag was removed without a migration.")
    page.get_by_label("Customer impact").fill("About 3% of payments failed.")
    # One form: the whys and factors go with the text; rows are added one at a
    # time.
    page.locator("#id_whys-0-why").fill("Why did checkout fail?")
    page.locator("#id_whys-0-because").fill("The flag it read was gone.")
    page.get_by_role("button", name="Add a why").click()
    page.locator("#id_whys-1-why").fill("Why was the flag gone?")
    page.locator("#id_whys-1-because").fill("The release removed it early.")
    expect(page.locator("#id_whys-2-why")).to_have_count(0)
    page.locator("#id_factors-0-category").select_option(label="Change management")
    page.locator("#id_factors-0-description").fill("No two-step flag removal.")
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_role("status")).to_contain_text("Review saved")
    expect(page.get_by_label("Summary", exact=True)).to_have_value(
        "Checkout failed for 20 minutes after a release."
    )
    expect(page.locator("#id_whys-1-because")).to_have_value(
        "The release removed it early."
    )
    follow_up = page.get_by_role("region", name="Follow-up actions")
    follow_up.get_by_label("Title").fill("Two-step flag removal in the checklist")
    follow_up.get_by_label("Owner").select_option(label="mia")
    page.get_by_role("button", name="Add follow-up").click()
    expect(page.get_by_role("status")).to_contain_text("Follow-up added")
    screenshot(page, "review-edit")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_role("status")).to_contain_text("Submitted for approval")
    expect(page.get_by_test_id("review-status")).to_have_text("In review")

    # The owner cannot approve their own review: no button for them.
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    # An executive and a reviewer approve (SEV-1 needs both).
    for name, progress in (("eve", "Executives: 1 of 1"), ("rob", "Reviewers: 1 of 1")):
        approver = open_session(sev1_people[name])
        approver.goto(url)
        approver.get_by_label("Comment").fill(f"Looks right to {name}.")
        approver.get_by_role("button", name="Approve").click()
        expect(approver.get_by_role("status")).to_contain_text("Approved")
        expect(approver.get_by_text(progress)).to_be_visible()
    review.refresh_from_db()
    assert review.status == Review.Status.APPROVED

    # The owner publishes, prints and downloads.
    page.reload()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("review-status")).to_have_text("Published")
    page.get_by_role("link", name="Printable view").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(incident.reference)
    expect(page.get_by_text("Why did checkout fail?")).to_be_visible()
    screenshot(page, "review-print")
    page.go_back()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download Markdown").click()
    assert download.value.suggested_filename == f"{incident.reference}-review.md"
    text = open(download.value.path(), encoding="utf-8").read()
    assert "Why did checkout fail?" in text
    assert "Two-step flag removal in the checklist" in text
    assert "1. Why did checkout fail? — Because the flag it read was gone." in text


def test_review_list_fits_a_phone(
    sev1_people, resolve, open_session, screenshot, live_server
):
    # given reviews of incidents with long titles, one of them overdue
    for days, title in (
        (30, "payments-gateway returning 502s in eu-central-1 for card customers"),
        (1, "Kafka consumer lag on order-management growing beyond two hours"),
    ):
        resolve("SEV-2", at=timezone.now() - timedelta(days=days), title=title)

    # when mia opens the list on a 375 px wide phone
    phone = open_session(sev1_people["mia"], width=375, height=800)
    phone.goto(f"{live_server.url}/reviews/")

    # then every review is there and nothing scrolls sideways
    expect(phone.locator("table.review-table tbody tr")).to_have_count(2)
    expect(phone.get_by_text("overdue", exact=True)).to_be_visible()
    screenshot(phone, "review-list-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_review_editor_keeps_every_word(
    sev1_people, resolve, open_session, screenshot, live_server
):
    incident = resolve("SEV-2", at=timezone.now() - timedelta(hours=2))
    review = Review.objects.get(incident=incident)
    url = f"{live_server.url}/reviews/{review.pk}/"
    page = open_session(sev1_people["mia"])
    page.goto(url)

    # Text in one section, then a why in another: autosave keeps both.
    page.get_by_label("Summary", exact=True).fill("Search was slow for an hour.")
    page.locator("#id_whys-0-why").fill("Why was search slow?")
    page.locator("#id_whys-0-because").fill("An index was rebuilt at peak.")
    status = page.locator("[data-autosave-status]")
    expect(status).to_contain_text("All changes saved", timeout=10_000)
    page.reload()
    expect(page.get_by_label("Summary", exact=True)).to_have_value(
        "Search was slow for an hour."
    )
    expect(page.locator("#id_whys-0-because")).to_have_value(
        "An index was rebuilt at peak."
    )

    # A second writer saves the page they opened before: refused, text kept.
    other = open_session(sev1_people["mia"])
    other.goto(url)
    page.get_by_label("Lessons").fill("Rebuild indexes off-peak.")
    expect(status).to_contain_text("All changes saved", timeout=10_000)
    other.get_by_label("Root cause").fill("A cron job at the wrong hour.")
    other_status = other.locator("[data-autosave-status]")
    expect(other_status).to_contain_text(
        "Someone else saved this review", timeout=10_000
    )
    expect(other.get_by_label("Root cause")).to_have_value(
        "A cron job at the wrong hour."
    )
    screenshot(other, "review-stale-save")
    review.refresh_from_db()
    assert review.lessons == "Rebuild indexes off-peak."
    assert review.root_cause == ""

    # Offline: the words stay in this browser and come back on the next visit.
    page.context.set_offline(True)
    page.get_by_label("What went well").fill("Paging worked.")
    expect(status).to_contain_text("no connection", timeout=10_000)
    page.context.set_offline(False)
    page.goto("about:blank")
    page.goto(url)
    expect(page.get_by_label("What went well")).to_have_value("Paging worked.")
    expect(page.locator("[data-draft-restored]")).to_contain_text("Restored")


def test_a_drafted_sev1_review_is_edited_published_and_taught_next_time(
    sev1_people, resolve, open_session, screenshot, live_server
):
    # given: a resolved SEV-1 of a type with a legal deadline, its authority
    # told in time; mia (the commander) owns the drafted review
    from incidents import services as incident_services
    from reviews import services
    from tests.factories import IncidentTypeFactory

    breach = IncidentTypeFactory(
        slug="personal-data-breach",
        name="Personal-data breach",
        notification_deadline_hours=72,
        notification_authority="Data-protection authority",
    )
    incident = resolve(
        "SEV-1", at=timezone.now() - timedelta(hours=2), incident_type=breach
    )
    incident_services.regulatory_notification_record(
        incident=incident,
        actor=sev1_people["mia"],
        notified_at=timezone.now() - timedelta(hours=1),
        method="online_form",
        reference="DPA-42",
    )
    review = Review.objects.get(incident=incident)
    services.review_draft(review=review, actor=sev1_people["mia"])
    url = f"{live_server.url}/reviews/{review.pk}/"

    # The owner opens a first draft, marked as such, with its sources.
    page = open_session(sev1_people["mia"])
    page.goto(url)
    summary = page.get_by_label("Summary", exact=True)
    expect(summary).to_have_value(re.compile(incident.reference))
    expect(page.get_by_test_id("draft-badge-summary")).to_be_visible()
    expect(page.get_by_label("Business impact")).to_have_value(re.compile("DPA-42"))
    screenshot(page, "review-first-draft")

    # Accept the summary while a word typed elsewhere is not saved yet: both kept.
    page.get_by_label("Root cause").fill("A cache key ignored the session.")
    page.get_by_test_id("accept-summary").click()
    expect(page.get_by_test_id("accepted-summary")).to_contain_text("Mia")
    expect(page.get_by_label("Root cause")).to_have_value(
        "A cache key ignored the session."
    )
    expect(page.locator("[data-draft-restored]")).to_be_hidden()

    # The person rewrites the response; the record changes; a redraft asks.
    page.get_by_role("textbox", name="How the response went").fill(
        "Mia ran it; updates were late."
    )
    incident_services.incident_add_note(
        incident=incident, actor=sev1_people["mia"], body="Late note."
    )
    incident_services.stakeholder_update_post(
        incident=incident, actor=sev1_people["mia"], body="All clear."
    )
    page.get_by_test_id("redraft").click()
    expect(page.get_by_role("textbox", name="How the response went")).to_have_value(
        "Mia ran it; updates were late."
    )
    expect(page.get_by_test_id("diff-response")).to_be_visible()
    screenshot(page, "review-redraft-side-by-side")
    page.get_by_test_id("keep-response").click()
    expect(page.get_by_test_id("diff-response")).to_have_count(0)

    page.get_by_label("Lessons").fill("Include the session in every cache key.")
    page.get_by_role("button", name="Save review").click()
    expect(page.get_by_role("status")).to_contain_text("Review saved")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.get_by_test_id("review-status")).to_have_text("In review")
    for name in ("eve", "rob"):
        approver = open_session(sev1_people[name])
        approver.goto(url)
        approver.get_by_role("button", name="Approve").click()
        expect(approver.get_by_role("status")).to_contain_text("Approved")
    page.reload()
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_test_id("review-status")).to_have_text("Published")
    expect(page.get_by_test_id("review-regulatory")).to_contain_text("in time")
    screenshot(page, "review-published")

    # The next responder to a similar incident sees the lesson under Last time.
    later = incident_services.incident_declare(
        actor=sev1_people["rita"],
        title="Order pages cached across sessions again",
        incident_type=breach,
    )
    responder = open_session(sev1_people["rita"])
    responder.goto(f"{live_server.url}{later.get_absolute_url()}")
    last_time = responder.locator("#panel-last-time")
    expect(last_time).to_contain_text("Include the session in every cache key.")
    screenshot(responder, "incident-last-time")
