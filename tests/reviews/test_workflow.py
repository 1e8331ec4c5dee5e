"""The review workflow: draft → in review → approved → published, with changes
requested sending it back, and the approval rules."""

import pytest

from incidentops.exceptions import DomainError, InvalidTransition, NotPermitted
from incidents.models import TimelineEntry
from notifications.models import Notification
from reviews import services
from reviews.models import Approval, Review
from tests.reviews.conftest import write

pytestmark = pytest.mark.django_db
Status = Review.Status


def test_submit_refuses_a_draft_without_summary_and_root_cause(review, manager):
    with pytest.raises(InvalidTransition, match="a summary and a root cause"):
        services.review_submit(review=review, actor=manager)


def test_submit_moves_to_in_review_and_tells_the_approvers(review, manager, reviewer):
    write(review, manager)
    review = services.review_submit(review=review, actor=manager)
    assert review.status == Status.IN_REVIEW and review.round == 1
    notification = Notification.objects.get(event_key=f"review-{review.pk}-submitted-1")
    assert notification.deliveries.filter(recipient=reviewer.email).exists()


def test_content_cannot_change_outside_draft(submitted, manager):
    with pytest.raises(InvalidTransition, match="only a draft"):
        services.review_update(review=submitted, actor=manager, lessons="More")


def test_someone_without_rights_cannot_edit(review, outsider):
    with pytest.raises(NotPermitted):
        services.review_update(review=review, actor=outsider, summary="Mine now")


def test_approval_by_a_reviewer_approves_and_publish_publishes(
    submitted, reviewer, manager
):
    approved = services.review_approve(review=submitted, actor=reviewer, comment="OK")
    assert approved.status == Status.APPROVED
    published = services.review_publish(review=approved, actor=manager)
    assert published.status == Status.PUBLISHED
    assert published.published_by == manager
    summaries = list(
        TimelineEntry.objects.filter(incident=published.incident, kind="review")
        .order_by("sequence")
        .values_list("summary", flat=True)
    )
    assert any("approved the review: OK" in s for s in summaries)
    assert any("published" in s for s in summaries)


def test_owner_cannot_approve_their_own_review(submitted, manager):
    with pytest.raises(NotPermitted, match="own or submitted"):
        services.review_approve(review=submitted, actor=manager)


def test_submitter_cannot_approve_either(review, manager, reviewer, reviewer2):
    # given a reviewer who edits and submits it for the owner
    write(review, manager)
    services.review_submit(review=review, actor=reviewer)
    # then the submitter may not approve, another reviewer may
    with pytest.raises(NotPermitted, match="own or submitted"):
        services.review_approve(review=review, actor=reviewer)
    assert services.review_approve(review=review, actor=reviewer2).status == (
        Status.APPROVED
    )


def test_a_service_account_cannot_approve(submitted, reviewer_bot):
    with pytest.raises(NotPermitted, match="service account"):
        services.review_approve(review=submitted, actor=reviewer_bot)


def test_approver_outside_the_required_groups_is_refused(submitted, executive):
    with pytest.raises(NotPermitted, match="Reviewers"):
        services.review_approve(review=submitted, actor=executive)


def test_sev1_needs_an_executive_before_publishing(
    sev1_review, manager, reviewer, executive
):
    write(sev1_review, manager)
    services.review_submit(review=sev1_review, actor=manager)
    review = services.review_approve(review=sev1_review, actor=reviewer)
    assert review.status == Status.IN_REVIEW
    assert review.missing_approvals() == ["1 from Executives"]
    with pytest.raises(InvalidTransition, match="1 from Executives"):
        services.review_publish(review=review, actor=manager)
    review = services.review_approve(review=review, actor=executive)
    assert review.status == Status.APPROVED
    assert services.review_publish(review=review, actor=manager).status == (
        Status.PUBLISHED
    )


def test_a_second_reviewer_is_not_needed_once_the_quota_is_met(
    sev1_review, manager, reviewer, reviewer2
):
    write(sev1_review, manager)
    services.review_submit(review=sev1_review, actor=manager)
    services.review_approve(review=sev1_review, actor=reviewer)
    with pytest.raises(DomainError, match="already given"):
        services.review_approve(review=sev1_review, actor=reviewer2)


def test_approving_twice_is_refused(sev1_review, manager, reviewer):
    write(sev1_review, manager)
    services.review_submit(review=sev1_review, actor=manager)
    services.review_approve(review=sev1_review, actor=reviewer)
    with pytest.raises(DomainError, match="already approved"):
        services.review_approve(review=sev1_review, actor=reviewer)


def test_changes_requested_sends_it_back_and_resets_approvals(
    submitted, reviewer, reviewer2, manager
):
    services.review_approve(review=submitted, actor=reviewer)
    review = services.review_request_changes(
        review=submitted, actor=reviewer2, comment="Add the customer impact."
    )
    assert review.status == Status.DRAFT
    assert Approval.objects.filter(
        review=review, decision="changes_requested", comment__contains="customer"
    ).exists()
    assert Notification.objects.filter(kind="review_changes_requested").exists()
    # when resubmitted, the earlier approval no longer counts
    services.review_update(review=review, actor=manager, customer_impact="20 min")
    review = services.review_submit(review=review, actor=manager)
    assert review.round == 2
    assert review.missing_approvals() == ["1 from Reviewers"]
    assert review.approval_records.count() == 2  # both kept on the record


def test_request_changes_needs_a_comment(submitted, reviewer):
    with pytest.raises(DomainError, match="Say what"):
        services.review_request_changes(review=submitted, actor=reviewer, comment="")


def test_publishing_a_draft_is_refused(review, manager):
    with pytest.raises(InvalidTransition, match="draft, not approved"):
        services.review_publish(review=review, actor=manager)


def test_five_whys_and_factors_replace_the_lists(review, manager):
    from tests.reviews.factories import CategoryFactory

    services.review_set_five_whys(
        review=review,
        actor=manager,
        whys=[("Why did checkout fail?", "A flag was missing."), ("Why?", "No test.")],
    )
    category = CategoryFactory(slug="process")
    services.review_set_factors(
        review=review, actor=manager, factors=[(category, "No release checklist")]
    )
    assert list(review.whys.values_list("order", "because")) == [
        (1, "A flag was missing."),
        (2, "No test."),
    ]
    assert review.factors.get().category == category
    with pytest.raises(DomainError, match="both a why and a because"):
        services.review_set_five_whys(review=review, actor=manager, whys=[("Why", "")])


def test_timeline_selection_never_touches_the_source(review, manager):
    item = review.timeline_items.filter(included=True).first()
    entry_before = (item.entry.summary, item.entry.hash)
    services.review_set_timeline(
        review=review,
        actor=manager,
        items=[{"entry": item.entry_id, "included": False, "annotation": "Noise"}],
    )
    item.refresh_from_db()
    item.entry.refresh_from_db()
    assert (item.included, item.annotation) == (False, "Noise")
    assert (item.entry.summary, item.entry.hash) == entry_before


def test_follow_ups_are_tracked_to_completion_after_publishing(
    submitted, reviewer, manager, responder
):
    follow_up = services.follow_up_add(
        review=submitted,
        actor=manager,
        title="Add a release checklist",
        owner=responder,
    )
    services.review_approve(review=submitted, actor=reviewer)
    services.review_publish(review=submitted, actor=manager)
    # the follow-up's owner may close it, even on a published review
    done = services.follow_up_update(
        follow_up=follow_up, actor=responder, status="done"
    )
    assert done.completed_at is not None
    assert submitted.incident.timeline.filter(
        kind="review", summary__contains="from open to done"
    ).exists()
