"""Portal pages: list, review page with its workflow buttons, print and
Markdown export, the incident panel tag."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import Client

from reviews import services
from tests.reviews.conftest import WEDNESDAY
from tests.reviews.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def login(user):
    client = Client()
    client.force_login(user)
    return client


def test_list_shows_mine_to_write_and_to_approve(submitted, manager, reviewer):
    mine = login(manager).get("/reviews/?scope=mine")
    assert submitted.incident.reference in mine.content.decode()
    to_approve = login(reviewer).get("/reviews/?scope=approve")
    assert submitted.incident.reference in to_approve.content.decode()
    assert (
        submitted.incident.reference
        not in login(manager).get("/reviews/?scope=approve").content.decode()
    )


def test_workflow_refusal_is_shown_as_a_form_error(review, manager):
    response = login(manager).post(
        f"/reviews/{review.pk}/", {"section": "workflow", "action": "submit"}
    )
    assert response.status_code == 200
    assert "Write a summary and a root cause" in response.content.decode()


def test_content_form_saves_through_the_service(review, manager):
    response = login(manager).post(
        f"/reviews/{review.pk}/",
        {"section": "content", "summary": "It broke", "root_cause": "A flag"},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.summary, review.root_cause) == ("It broke", "A flag")


def test_restricted_review_page_is_404(resolve, outsider):
    from tests.factories import IncidentTypeFactory

    secret = IncidentTypeFactory(
        slug="breach", restricted=True, restricted_groups=["Incident managers"]
    )
    review = resolve("SEV-2", incident_type=secret).review
    client = login(outsider)
    for path in ("", "print/", "review.md"):
        assert client.get(f"/reviews/{review.pk}/{path}").status_code == 404


def test_published_review_exports_markdown_and_print(submitted, manager, reviewer):
    services.review_approve(review=submitted, actor=reviewer)
    services.review_publish(review=submitted, actor=manager)
    client = login(manager)
    markdown = client.get(f"/reviews/{submitted.pk}/review.md")
    assert markdown["Content-Type"].startswith("text/markdown")
    assert "attachment" in markdown["Content-Disposition"]
    text = markdown.content.decode()
    assert text.startswith(f"# Post-incident review: {submitted.incident.reference}")
    assert "A configuration flag was removed" in text
    assert "- Status: Published" in text
    printable = client.get(f"/reviews/{submitted.pk}/print/").content.decode()
    assert "@media print" in printable and "Published" in printable


def test_review_shows_earlier_incidents_of_the_type_with_open_follow_ups(
    resolve, incident_type, manager
):
    earlier = resolve(
        "SEV-2",
        incident_type=incident_type,
        title="Payments down",
        at=WEDNESDAY - timedelta(days=7),
    )
    services.follow_up_add(
        review=earlier.review, actor=manager, title="Add payment canary"
    )
    later = resolve("SEV-2", incident_type=incident_type, title="Payments down again")
    page = login(manager).get(f"/reviews/{later.review.pk}/").content.decode()
    assert "This has happened before" in page
    assert earlier.reference in page and "Add payment canary" in page


def test_incident_panel_tag_lists_follow_ups(review, manager):
    services.follow_up_add(review=review, actor=manager, title="Write runbook")
    html = Template(
        "{% load reviews_tags %}{% incident_review_panel incident user %}"
    ).render(Context({"incident": review.incident, "user": manager}))
    assert "Write runbook" in html and "Draft" in html


def test_factor_formset_saves(review, manager):
    category = CategoryFactory(slug="process", name="Process")
    response = login(manager).post(
        f"/reviews/{review.pk}/",
        {
            "section": "factors",
            "factors-TOTAL_FORMS": "1",
            "factors-INITIAL_FORMS": "0",
            "factors-0-category": str(category.pk),
            "factors-0-description": "No checklist",
        },
    )
    assert response.status_code == 302
    assert review.factors.get().description == "No checklist"


def test_my_work_lists_reviews_waiting_for_my_approval(submitted, reviewer, manager):
    waiting = login(reviewer).get("/my/").content.decode()
    services.review_approve(review=submitted, actor=reviewer)
    answered = login(reviewer).get("/my/").content.decode()
    owner = login(manager).get("/my/").content.decode()

    assert "Waiting for my approval" in waiting
    assert submitted.incident.reference in waiting
    # Approved already (or published by the approval), or the owner's own.
    assert 'data-testid="reviews-to-approve"' not in answered
    assert 'data-testid="reviews-to-approve"' not in owner
