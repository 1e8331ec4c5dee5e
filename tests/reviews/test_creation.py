"""Reviews appear when incidents resolve, as the severity's policy says."""

from datetime import UTC, datetime

import pytest

from incidents import services as incident_services
from incidents.events import history_import
from incidents.models import SeverityLevel, TimelineEntry
from reviews.models import BatchReview, BatchReviewItem, Review, ReviewPolicy

pytestmark = pytest.mark.django_db


def test_resolving_a_sev1_creates_a_review_due_in_five_business_days(resolve, manager):
    incident = resolve("SEV-1")  # resolved Wednesday 3 June 2026
    review = incident.review
    assert review.status == Review.Status.DRAFT
    assert review.owner == manager  # the commander
    # Five business days after Wednesday is the next Wednesday, end of day (BST).
    assert review.due_at == datetime(2026, 6, 10, 22, 59, 59, tzinfo=UTC)
    assert {"group": "Executives", "count": 1} in review.required_approvals
    assert incident.timeline.filter(kind="review", summary__contains="opened").exists()


def test_resolving_a_sev2_gives_ten_business_days(resolve):
    review = resolve("SEV-2").review
    assert review.due_at == datetime(2026, 6, 17, 22, 59, 59, tzinfo=UTC)
    assert review.required_approvals == [{"group": "Reviewers", "count": 1}]


@pytest.mark.parametrize("code,period", [("SEV-3", "2026-W23"), ("SEV-4", "2026-06")])
def test_low_severities_go_to_the_batch_queue(resolve, code, period):
    incident = resolve(code)
    assert not Review.objects.filter(incident=incident).exists()
    item = BatchReviewItem.objects.get(incident=incident)
    assert item.batch.period == period
    assert item.batch.severity.code == code
    assert item.batch.owner_group is not None


def test_one_batch_collects_the_period_incidents(resolve):
    first = resolve("SEV-3", title="Printer queue stalled")
    second = resolve("SEV-3", title="Badge reader offline")
    batch = BatchReview.objects.get()
    assert set(batch.incidents.all()) == {first, second}
    # Due 5 business days after the week ends (Sunday 7 June): Friday 12 June.
    assert batch.due_at == datetime(2026, 6, 12, 22, 59, 59, tzinfo=UTC)


def test_reopen_and_resolve_again_keeps_one_review(resolve, manager):
    incident = resolve("SEV-2")
    incident_services.incident_transition(
        incident=incident, actor=manager, status="investigating", note="It is back"
    )
    incident_services.incident_transition(
        incident=incident, actor=manager, status="resolved"
    )
    assert Review.objects.filter(incident=incident).count() == 1
    # The newer entries are offered in the review's timeline.
    review = incident.review
    assert review.timeline_items.filter(entry__data__note="It is back").exists()


def test_a_policy_of_no_review_files_nothing(resolve):
    policy = ReviewPolicy.objects.get(severity__code="SEV-2")
    policy.mode = ReviewPolicy.Mode.NONE
    policy.save()
    incident = resolve("SEV-2")
    assert not Review.objects.filter(incident=incident).exists()
    assert not BatchReviewItem.objects.filter(incident=incident).exists()


def test_without_a_policy_the_framework_defaults_apply(resolve):
    ReviewPolicy.objects.all().delete()
    sev1 = resolve("SEV-1").review
    assert sev1.due_at == datetime(2026, 6, 10, 22, 59, 59, tzinfo=UTC)
    assert resolve("SEV-4").batch_review_item.batch.period == "2026-06"


def test_a_policy_change_applies_to_later_reviews_only(resolve):
    before = resolve("SEV-2").review
    policy = ReviewPolicy.objects.get(severity=SeverityLevel.objects.get(code="SEV-2"))
    policy.due_business_days = 2
    policy.save()
    after = resolve("SEV-2").review
    before.refresh_from_db()
    assert before.due_at == datetime(2026, 6, 17, 22, 59, 59, tzinfo=UTC)
    assert after.due_at == datetime(2026, 6, 5, 22, 59, 59, tzinfo=UTC)


def test_history_import_still_files_reviews(resolve):
    with history_import():
        incident = resolve("SEV-2")
    assert Review.objects.filter(incident=incident).exists()


def test_generated_timeline_includes_key_entries_only(resolve):
    incident = resolve("SEV-2")
    review = incident.review
    kinds_in = set(
        review.timeline_items.filter(included=True).values_list(
            "entry__kind", flat=True
        )
    )
    assert {"declared", "status", "severity_confirmed", "role"} <= kinds_in
    assert "severity_suggested" not in kinds_in
    # Every entry is offered (except the review's own), excluded ones too.
    offered = review.timeline_items.count()
    assert (
        offered
        == TimelineEntry.objects.filter(incident=incident)
        .exclude(kind="review")
        .count()
    )
