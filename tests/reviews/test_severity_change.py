"""Raising an incident's severity after it was resolved re-files its review
under the stricter policy (control 4); lowering it changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from incidentops import groups
from incidents import services as incident_services
from reviews import services
from reviews.models import BatchReview, BatchReviewItem, Review
from reviews.policy import due_after
from tests.factories import severity
from tests.reviews.conftest import WEDNESDAY, write

pytestmark = pytest.mark.django_db

RAISED_AT = WEDNESDAY + timedelta(days=1)  # Thursday 4 June 2026


def confirm(incident, manager, code, at=RAISED_AT):
    incident_services.incident_confirm_severity(
        incident=incident,
        actor=manager,
        severity=severity(code),
        reason="worse than we thought",
        now=at,
    )
    incident.refresh_from_db()
    return incident


def test_a_batched_incident_raised_to_sev1_is_promoted_to_its_own_review(
    resolve, manager
):
    # given: resolved as SEV-3, waiting in the week's batch
    incident = resolve("SEV-3")
    item = incident.batch_review_item
    # when
    confirm(incident, manager, "SEV-1")
    # then: promoted by the system, with a SEV-1 review due 5 business days on
    item.refresh_from_db()
    assert item.disposition == BatchReviewItem.Disposition.PROMOTED
    assert item.decided_by is None and item.decided_at == RAISED_AT
    review = Review.objects.get(incident=incident)
    assert review.severity_code == "SEV-1"
    assert review.due_at == due_after(RAISED_AT, 5)
    assert {req["group"] for req in review.required_approvals} == {
        groups.EXECUTIVES,
        groups.REVIEWERS,
    }
    decision = incident.timeline.get(data__change="batch_decision")
    assert decision.actor is None and decision.data["system"] is True
    assert "promoted" in decision.summary and "SEV-1" in decision.summary


def test_promotion_happens_even_when_the_batch_is_done(resolve, manager):
    incident = resolve("SEV-3")
    batch = incident.batch_review_item.batch
    services.batch_item_decide(
        item=incident.batch_review_item, actor=manager, disposition="no_action"
    )
    services.batch_complete(
        batch=batch, actor=manager, now=datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    )
    confirm(incident, manager, "SEV-1", at=datetime(2026, 6, 9, 9, 0, tzinfo=UTC))
    assert Review.objects.get(incident=incident).severity_code == "SEV-1"
    batch.refresh_from_db()
    assert batch.status == BatchReview.Status.DONE


def test_a_batched_incident_raised_within_batch_severities_stays(resolve, manager):
    incident = resolve("SEV-4")
    confirm(incident, manager, "SEV-3")
    assert not Review.objects.filter(incident=incident).exists()
    assert incident.batch_review_item.disposition == ""


def test_a_sev2_review_raised_to_sev1_takes_sev1_due_date_and_approvers(
    resolve, manager
):
    # given: a SEV-2 review, due 10 business days after Wednesday's resolution
    incident = resolve("SEV-2")
    review = incident.review
    assert review.due_at == due_after(WEDNESDAY, 10)
    # when
    confirm(incident, manager, "SEV-1")
    # then: due 5 business days after resolution, Executives must approve too
    review.refresh_from_db()
    assert review.severity_code == "SEV-1"
    assert review.due_at == due_after(WEDNESDAY, 5)
    assert review.required_approvals == [
        {"group": groups.REVIEWERS, "count": 1},
        {"group": groups.EXECUTIVES, "count": 1},
    ]
    entry = incident.timeline.get(data__change="policy_reapplied")
    assert "SEV-1" in entry.summary and "Executives" in entry.summary


def test_a_review_in_review_gains_the_new_approvals(resolve, manager, reviewer):
    incident = resolve("SEV-2")
    write(incident.review, manager)
    services.review_submit(review=incident.review, actor=manager)
    confirm(incident, manager, "SEV-1")
    review = Review.objects.get(incident=incident)
    services.review_approve(review=review, actor=reviewer)
    review.refresh_from_db()
    # a Reviewer's approval no longer suffices: an Executive's is missing
    assert review.status == Review.Status.IN_REVIEW
    assert review.missing_approvals() == [f"1 from {groups.EXECUTIVES}"]


def test_the_due_date_is_never_pushed_later(resolve, manager):
    # given: raised long after resolution, SEV-1's 5 days from resolution are
    # still earlier than SEV-2's 10
    incident = resolve("SEV-2")
    review = incident.review
    review.due_at = due_after(WEDNESDAY, 2)
    review.save(update_fields=["due_at"])
    confirm(incident, manager, "SEV-1")
    review.refresh_from_db()
    assert review.due_at == due_after(WEDNESDAY, 2)
    assert review.severity_code == "SEV-1"


def test_an_approved_review_is_left_as_it_is(resolve, manager, reviewer):
    incident = resolve("SEV-2")
    write(incident.review, manager)
    services.review_submit(review=incident.review, actor=manager)
    services.review_approve(review=incident.review, actor=reviewer)
    confirm(incident, manager, "SEV-1")
    review = Review.objects.get(incident=incident)
    assert (review.severity_code, review.status) == ("SEV-2", Review.Status.APPROVED)
    assert review.due_at == due_after(WEDNESDAY, 10)


def test_lowering_the_severity_changes_nothing(resolve, manager):
    incident = resolve("SEV-1")
    before = Review.objects.values("severity_code", "due_at", "required_approvals").get(
        incident=incident
    )
    confirm(incident, manager, "SEV-3")
    after = Review.objects.values("severity_code", "due_at", "required_approvals").get(
        incident=incident
    )
    assert after == before
    assert not BatchReviewItem.objects.filter(incident=incident).exists()
    assert not incident.timeline.filter(data__change="policy_reapplied").exists()


def test_a_raise_before_resolution_files_nothing_early(manager, responder):
    incident = incident_services.incident_declare(
        actor=responder, title="Disk filling up", now=WEDNESDAY
    )
    confirm(incident, manager, "SEV-1")
    assert not Review.objects.filter(incident=incident).exists()
