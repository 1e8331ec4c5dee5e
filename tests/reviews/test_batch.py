"""The batch-review queue (SEV-3 weekly, SEV-4 monthly): dispositions per
incident, promotion to a full review, completion by the owner group, and the
sweep's reminders, overdue alerts and escalations sent once each."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from incidentops import groups
from incidentops.exceptions import DomainError, InvalidTransition, NotPermitted
from incidents import services as incident_services
from incidents.models import TimelineEntry
from notifications.models import Notification
from reviews import services
from reviews.models import BatchReview, BatchReviewItem, Review
from tests.factories import UserFactory
from tests.reviews.conftest import WEDNESDAY

pytestmark = pytest.mark.django_db

Disposition = BatchReviewItem.Disposition
# WEDNESDAY is in ISO week 2026-W23 (Mon 1 – Sun 7 June). The SEV-3 batch is due
# 5 business days after the week: Friday 12 June, 23:59:59 BST. Reminder: 1
# business day before, 09:00 BST; escalation to Executives 2 business days
# overdue (end of Tuesday 16 June).
AFTER_PERIOD = datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
BEFORE_REMINDER = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
REMINDER = datetime(2026, 6, 11, 8, 0, tzinfo=UTC)
OVERDUE = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
ESCALATION = datetime(2026, 6, 17, 8, 0, tzinfo=UTC)


@pytest.fixture
def batch_incidents(resolve, manager):
    """Two SEV-3 incidents of the same week, the second restricted (visible to
    its reporter and role holders only: rita and mia)."""
    first = resolve("SEV-3", title="Nightly export ran two hours late")
    second = resolve(
        "SEV-3",
        at=WEDNESDAY + timedelta(days=1),
        title="Badge reader logged the wrong door",
    )
    incident_services.incident_update(incident=second, actor=manager, restricted=True)
    return first, second


@pytest.fixture
def batch(batch_incidents):
    return batch_incidents[0].batch_review_item.batch


@pytest.fixture
def second_manager(db):
    """In the owner group, but holds no grant on the restricted incident."""
    return UserFactory(
        username="ivan", first_name="Ivan", groups=[groups.INCIDENT_MANAGERS]
    )


def item_of(incident) -> BatchReviewItem:
    return BatchReviewItem.objects.get(incident=incident)


def test_both_incidents_join_the_week_batch_of_the_owner_group(batch):
    assert batch.period == "2026-W23"
    assert batch.owner_group.name == groups.INCIDENT_MANAGERS
    assert batch.items.count() == 2
    assert batch.due_at == datetime(2026, 6, 12, 22, 59, 59, tzinfo=UTC)


def test_a_decision_is_recorded_with_who_and_when_and_logged(batch_incidents, manager):
    incident = batch_incidents[0]
    # when
    item = services.batch_item_decide(
        item=item_of(incident),
        actor=manager,
        disposition=Disposition.NO_ACTION,
        note="Retried by itself; no customer impact.",
        now=AFTER_PERIOD,
    )
    # then
    assert (item.disposition, item.decided_by, item.decided_at) == (
        "no_action",
        manager,
        AFTER_PERIOD,
    )
    entry = incident.timeline.filter(data__change="batch_decision").get()
    assert entry.summary == (
        "Mia Tester decided “no action” in the SEV-3 batch review 2026-W23: "
        "Retried by itself; no customer impact."
    )


def test_a_follow_up_needs_a_note_or_a_ticket(batch_incidents, manager):
    with pytest.raises(DomainError, match="Say what the follow-up is"):
        services.batch_item_decide(
            item=item_of(batch_incidents[0]),
            actor=manager,
            disposition=Disposition.FOLLOW_UP,
        )
    item = services.batch_item_decide(
        item=item_of(batch_incidents[0]),
        actor=manager,
        disposition=Disposition.FOLLOW_UP,
        ticket_url="https://tracker.example.com/OPS-7",
    )
    assert item.ticket_url == "https://tracker.example.com/OPS-7"


def test_promotion_files_a_full_review_as_an_individual_one_would_be(
    batch_incidents, manager
):
    incident = batch_incidents[0]
    # when
    services.batch_item_decide(
        item=item_of(incident),
        actor=manager,
        disposition=Disposition.PROMOTED,
        note="Third late export this quarter.",
        now=AFTER_PERIOD,
    )
    # then: the SEV-2 fallback policy (1 Reviewer, 10 business days from now)
    review = Review.objects.get(incident=incident)
    assert review.severity_code == "SEV-3"
    assert review.required_approvals == [{"group": groups.REVIEWERS, "count": 1}]
    assert review.due_at == datetime(2026, 6, 22, 22, 59, 59, tzinfo=UTC)
    assert review.owner == manager  # the commander
    assert incident.timeline.filter(
        kind=TimelineEntry.Kind.REVIEW, summary__contains="promoted from the SEV-3"
    ).exists()
    # and the promotion stands
    with pytest.raises(InvalidTransition, match="promoted to a full review"):
        services.batch_item_decide(
            item=item_of(incident), actor=manager, disposition=Disposition.NO_ACTION
        )


@pytest.mark.parametrize("who", ["responder", "reviewer_bot", "reviewer"])
def test_only_people_of_the_owner_group_decide(batch_incidents, request, who):
    actor = request.getfixturevalue(who)
    with pytest.raises(NotPermitted):
        services.batch_item_decide(
            item=item_of(batch_incidents[0]),
            actor=actor,
            disposition=Disposition.NO_ACTION,
        )


def test_a_service_account_of_the_owner_group_is_refused(batch_incidents):
    bot = UserFactory(
        username="ops-bot", service_account=True, groups=[groups.INCIDENT_MANAGERS]
    )
    with pytest.raises(NotPermitted, match="Only a person"):
        services.batch_item_decide(
            item=item_of(batch_incidents[0]),
            actor=bot,
            disposition=Disposition.NO_ACTION,
        )


def test_an_incident_the_decider_may_not_see_is_refused(
    batch_incidents, second_manager
):
    with pytest.raises(NotPermitted, match="may not see"):
        services.batch_item_decide(
            item=item_of(batch_incidents[1]),
            actor=second_manager,
            disposition=Disposition.NO_ACTION,
        )


def test_completion_waits_for_the_end_of_the_period(batch, manager):
    with pytest.raises(InvalidTransition, match="after the period has ended"):
        services.batch_complete(batch=batch, actor=manager, now=WEDNESDAY)


def test_completion_names_undecided_incidents_and_only_counts_hidden_ones(
    batch_incidents, batch, second_manager
):
    first, second = batch_incidents
    with pytest.raises(InvalidTransition) as refused:
        services.batch_complete(batch=batch, actor=second_manager, now=AFTER_PERIOD)
    message = str(refused.value)
    assert first.reference in message
    assert second.reference not in message
    assert "1 incident(s) you may not see" in message


def test_completion_records_who_and_when_on_every_incident(
    batch_incidents, batch, manager
):
    # given
    for incident in batch_incidents:
        services.batch_item_decide(
            item=item_of(incident), actor=manager, disposition=Disposition.NO_ACTION
        )
    # when
    done = services.batch_complete(
        batch=batch, actor=manager, notes="Quiet week.", now=AFTER_PERIOD
    )
    # then
    assert (done.status, done.completed_by, done.completed_at, done.notes) == (
        BatchReview.Status.DONE,
        manager,
        AFTER_PERIOD,
        "Quiet week.",
    )
    for incident in batch_incidents:
        entry = incident.timeline.get(data__change="batch_completed")
        assert entry.summary == (
            "Mia Tester completed the SEV-3 batch review 2026-W23: no action"
        )
        assert entry.occurred_at == AFTER_PERIOD
    with pytest.raises(InvalidTransition, match="is done"):
        services.batch_complete(batch=batch, actor=manager, now=AFTER_PERIOD)
    with pytest.raises(InvalidTransition, match="is done"):
        services.batch_item_decide(
            item=item_of(batch_incidents[0]),
            actor=manager,
            disposition=Disposition.FOLLOW_UP,
            note="Too late",
        )


def test_a_late_arrival_reopens_a_done_batch(batch_incidents, batch, manager, resolve):
    for incident in batch_incidents:
        services.batch_item_decide(
            item=item_of(incident), actor=manager, disposition=Disposition.NO_ACTION
        )
    services.batch_complete(batch=batch, actor=manager, now=AFTER_PERIOD)
    # when: an incident resolved inside the week is filed afterwards
    late = resolve("SEV-3", at=WEDNESDAY + timedelta(days=2), title="Late one")
    # then
    batch.refresh_from_db()
    assert late.batch_review_item.batch == batch
    assert batch.status == BatchReview.Status.OPEN
    assert batch.completed_at is None


# --- the sweep ----------------------------------------------------------------


def batch_kinds(batch) -> list[str]:
    return sorted(
        Notification.objects.filter(
            event_key__startswith=f"batch-{batch.pk}-"
        ).values_list("kind", flat=True)
    )


def test_no_batch_alert_before_the_reminder(batch):
    assert services.review_sweep(now=BEFORE_REMINDER) == []


def test_the_batch_reminder_goes_to_the_owner_group_once_and_is_on_every_timeline(
    batch_incidents, batch, manager, second_manager
):
    # when
    first = services.review_sweep(now=REMINDER)
    second = services.review_sweep(now=REMINDER)
    # then
    assert [(a.kind, a.batch_id, a.recipients) for a in first] == [
        ("reminder", batch.pk, groups.INCIDENT_MANAGERS)
    ]
    assert second == []
    notification = Notification.objects.get(kind="review_batch_reminder")
    assert set(notification.deliveries.values_list("recipient", flat=True)) == {
        manager.email,
        second_manager.email,
    }
    for incident in batch_incidents:
        assert incident.timeline.filter(data__notification=notification.pk).count() == 1
    batch.refresh_from_db()
    assert batch.reminded_for == datetime(2026, 6, 11, 8, 0, tzinfo=UTC)


def test_the_batch_message_names_no_incident(batch_incidents, batch):
    services.review_sweep(now=REMINDER)
    notification = Notification.objects.get(kind="review_batch_reminder")
    text = notification.subject + notification.body_text + notification.body_html
    assert "SEV-3 batch review 2026-W23" in text
    assert "2 incident(s)" in text
    for incident in batch_incidents:
        assert incident.title not in text
        assert incident.reference not in text


def test_overdue_then_escalation_once_each(batch, executive):
    assert [a.kind for a in services.review_sweep(now=OVERDUE)] == ["overdue"]
    assert services.review_sweep(now=OVERDUE) == []
    escalated = services.review_sweep(now=ESCALATION)
    assert [(a.kind, a.recipients) for a in escalated] == [
        ("escalation", f"{groups.EXECUTIVES} (level 1), {groups.INCIDENT_MANAGERS}")
    ]
    assert services.review_sweep(now=ESCALATION + timedelta(days=30)) == []
    assert batch_kinds(batch) == ["review_batch_escalation", "review_batch_overdue"]
    escalation = Notification.objects.get(kind="review_batch_escalation")
    assert escalation.deliveries.filter(recipient=executive.email).exists()
    batch.refresh_from_db()
    assert (batch.overdue_alerted_at, batch.escalation_level) == (OVERDUE, 1)


def test_a_done_batch_is_left_alone(batch_incidents, batch, manager):
    for incident in batch_incidents:
        services.batch_item_decide(
            item=item_of(incident), actor=manager, disposition=Disposition.NO_ACTION
        )
    services.batch_complete(batch=batch, actor=manager, now=AFTER_PERIOD)
    assert services.review_sweep(now=ESCALATION) == []
    assert batch_kinds(batch) == []


def test_a_promoted_review_is_swept_with_the_individual_policy(
    batch_incidents, manager
):
    incident = batch_incidents[0]
    services.batch_item_decide(
        item=item_of(incident),
        actor=manager,
        disposition=Disposition.PROMOTED,
        now=AFTER_PERIOD,
    )
    review = Review.objects.get(incident=incident)
    # Due Mon 22 June; SEV-2 escalations: +2 Incident managers, +5 Executives.
    sent = services.review_sweep(now=datetime(2026, 6, 25, 8, 0, tzinfo=UTC))
    mine = [a for a in sent if a.review_id == review.pk]
    assert [a.kind for a in mine] == ["overdue", "escalation"]


# --- the portal -----------------------------------------------------------------


def login(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_batch_page_lists_only_the_incidents_the_user_may_see(
    batch_incidents, batch, second_manager, manager
):
    first, second = batch_incidents
    page = login(second_manager).get(f"/reviews/batches/{batch.pk}/").content.decode()
    assert first.title in page
    assert second.title not in page and second.reference not in page
    full = login(manager).get(f"/reviews/batches/{batch.pk}/").content.decode()
    assert second.title in full
    assert "Complete batch review" in full


def test_the_batch_page_is_404_for_who_sees_nothing_of_it(batch_incidents, reviewer):
    # given: a batch holding only the restricted incident
    batch_incidents[0].batch_review_item.delete()
    batch = batch_incidents[1].batch_review_item.batch
    # then: a reviewer neither runs it nor may see its incident
    assert login(reviewer).get(f"/reviews/batches/{batch.pk}/").status_code == 404


def test_deciding_and_completing_through_the_page(batch_incidents, batch, manager):
    client = login(manager)
    # An undecided incident: the service's refusal is a form error.
    refused = client.post(f"/reviews/batches/{batch.pk}/", {"section": "complete"})
    assert refused.status_code == 400
    assert "Every incident needs a disposition" in refused.content.decode()
    for incident in batch_incidents:
        response = client.post(
            f"/reviews/batches/{batch.pk}/",
            {
                "section": "decide",
                "item": item_of(incident).pk,
                "disposition": "follow_up",
                "note": "Alert on export lag",
            },
        )
        assert response.status_code == 302
    assert set(batch.items.values_list("disposition", flat=True)) == {"follow_up"}
    done = client.post(
        f"/reviews/batches/{batch.pk}/", {"section": "complete", "notes": "Done."}
    )
    assert done.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.completed_by) == (BatchReview.Status.DONE, manager)


def test_the_batch_list_shows_the_queue(batch, manager, outsider):
    page = login(manager).get("/reviews/batches/").content.decode()
    assert f"/reviews/batches/{batch.pk}/" in page
    assert "2 undecided" in page
    # an outsider sees the batch through its unrestricted incident only
    assert (
        f"/reviews/batches/{batch.pk}/"
        in login(outsider).get("/reviews/batches/").content.decode()
    )


def test_batch_mail_counts_only_incidents_every_reader_may_see(
    batch_incidents, batch, manager, second_manager
):
    # given: ivan (owner group) may not see the restricted second incident
    services.review_sweep(now=REMINDER)

    notification = Notification.objects.get(event_key__startswith=f"batch-{batch.pk}-")
    # then: one message for mia and ivan counts only what both may see
    assert "1 of its 1 incident(s)" in notification.body_text
    assert "of its 2" not in notification.body_text
