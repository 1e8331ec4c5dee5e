"""The review page's one form: every section saved at once, autosave, and a
concurrent save refused rather than overwritten."""

import pytest
from django.test import Client

from reviews import services
from tests.reviews.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def login(user):
    client = Client()
    client.force_login(user)
    return client


def draft(review, version, **fields):
    data = {
        "section": "editor",
        "version": version,
        "summary": "",
        "whys-TOTAL_FORMS": "0",
        "whys-INITIAL_FORMS": "0",
        "factors-TOTAL_FORMS": "0",
        "factors-INITIAL_FORMS": "0",
        "timeline-TOTAL_FORMS": "0",
        "timeline-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


def test_one_save_keeps_every_section(review, manager):
    category = CategoryFactory(slug="change", name="Change management")
    version = services.review_version(review)

    response = login(manager).post(
        f"/reviews/{review.pk}/",
        draft(
            review,
            version,
            summary="Checkout failed for 20 minutes.",
            root_cause="A flag removed early.",
            **{
                "whys-TOTAL_FORMS": "1",
                "whys-0-why": "Why did it fail?",
                "whys-0-because": "The flag was gone.",
                "factors-TOTAL_FORMS": "1",
                "factors-0-category": str(category.pk),
                "factors-0-description": "No checklist",
            },
        ),
    )

    review.refresh_from_db()
    assert response.status_code == 302
    assert review.summary == "Checkout failed for 20 minutes."
    assert review.root_cause == "A flag removed early."
    assert list(review.whys.values_list("why", flat=True)) == ["Why did it fail?"]
    assert review.factors.get().description == "No checklist"


def test_a_stale_save_is_refused_and_keeps_the_writers_text(review, manager):
    version = services.review_version(review)
    # Someone else saves first.
    services.review_update(review=review, actor=manager, summary="Their words")

    response = login(manager).post(
        f"/reviews/{review.pk}/", draft(review, version, summary="My words")
    )

    review.refresh_from_db()
    page = response.content.decode()
    assert response.status_code == 200
    assert review.summary == "Their words"
    assert "Someone else saved this review after you opened it" in page
    assert "My words" in page  # nothing typed is lost


def test_autosave_answers_json_with_the_new_version(review, manager):
    client = login(manager)
    version = services.review_version(review)

    saved = client.post(
        f"/reviews/{review.pk}/",
        draft(review, version, summary="Draft one"),
        headers={"X-Autosave": "1"},
    )
    again = client.post(
        f"/reviews/{review.pk}/",
        draft(review, saved.json()["version"], summary="Draft two"),
        headers={"X-Autosave": "1"},
    )
    stale = client.post(
        f"/reviews/{review.pk}/",
        draft(review, version, summary="From an old tab"),
        headers={"X-Autosave": "1"},
    )

    review.refresh_from_db()
    assert saved.status_code == 200 and saved.json()["saved_at"]
    assert again.status_code == 200
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale"
    assert review.summary == "Draft two"


def test_a_half_filled_why_is_refused_whole(review, manager):
    version = services.review_version(review)
    before = review.summary  # the review opens with text drafted from the record

    response = login(manager).post(
        f"/reviews/{review.pk}/",
        draft(
            review,
            version,
            summary="Kept?",
            **{"whys-TOTAL_FORMS": "1", "whys-0-why": "Why?", "whys-0-because": ""},
        ),
        headers={"X-Autosave": "1"},
    )

    review.refresh_from_db()
    assert response.status_code == 400
    assert "needs both a why and a because" in response.json()["detail"]
    assert review.summary == before  # one transaction: nothing saved


def test_the_page_shows_one_form_and_one_blank_why_row(review, manager):
    page = login(manager).get(f"/reviews/{review.pk}/").content.decode()

    assert page.count('id="review-editor"') == 1
    assert 'name="whys-TOTAL_FORMS" value="1"' in page
    assert "Add a why" in page
    assert "Save review" in page
