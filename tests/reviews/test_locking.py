"""Content is replaced only under the review's row lock, and a batch is reopened
only under the batch's: a decision taken on a stale copy must not slip through."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidentops.exceptions import InvalidTransition
from reviews import services
from reviews.models import Review
from tests.reviews.conftest import WEDNESDAY, write
from tests.reviews.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stale_draft(review, manager):
    """A copy of the review read while it was a draft; meanwhile it was
    submitted (as a concurrent request would)."""
    write(review, manager)
    stale = Review.objects.get(pk=review.pk)
    services.review_submit(review=review, actor=manager)
    assert stale.status == Review.Status.DRAFT
    return stale


def test_five_whys_are_refused_once_the_review_was_submitted(stale_draft, manager):
    with pytest.raises(InvalidTransition, match="in review"):
        services.review_set_five_whys(
            review=stale_draft, actor=manager, whys=[("Why?", "Because.")]
        )
    assert not stale_draft.whys.exists()


def test_factors_are_refused_once_the_review_was_submitted(stale_draft, manager):
    category = CategoryFactory(slug="process")
    with pytest.raises(InvalidTransition, match="in review"):
        services.review_set_factors(
            review=stale_draft, actor=manager, factors=[(category, "No checklist")]
        )
    assert not stale_draft.factors.exists()


def test_timeline_choice_is_refused_once_the_review_was_submitted(stale_draft, manager):
    item = stale_draft.timeline_items.filter(included=True).first()
    with pytest.raises(InvalidTransition, match="in review"):
        services.review_set_timeline(
            review=stale_draft,
            actor=manager,
            items=[{"entry": item.entry_id, "included": False}],
        )
    item.refresh_from_db()
    assert item.included


@pytest.mark.postgres
def test_filing_into_a_batch_locks_the_batch_row(resolve):
    # given: the week's batch exists
    first = resolve("SEV-3", title="Nightly export ran late")
    batch = first.batch_review_item.batch
    # when: another incident of the week joins it
    with CaptureQueriesContext(connection) as queries:
        resolve("SEV-3", at=WEDNESDAY + timedelta(days=1), title="Second one")
    # then: the batch row was read FOR UPDATE before anything was written to it
    locking = [
        q["sql"]
        for q in queries.captured_queries
        if "FOR UPDATE" in q["sql"] and '"reviews_batchreview"' in q["sql"]
    ]
    assert any(str(batch.pk) in sql for sql in locking), locking
