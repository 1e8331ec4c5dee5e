"""The overdue sweep: reminders before due, the overdue alert, escalations; each
sent once, with ``now`` injected, through the notifications outbox."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from notifications.models import Delivery, Notification
from reviews import services
from reviews.models import Review
from tests.reviews.conftest import write

pytestmark = pytest.mark.django_db

# The SEV-2 review of the fixtures is due Wednesday 17 June 2026, 23:59:59 BST;
# reminders at 09:00 BST 3 business days before (Friday 12) and on the day.
BEFORE_ANY = datetime(2026, 6, 11, 12, 0, tzinfo=UTC)
AFTER_FIRST_REMINDER = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
DUE_DAY_MORNING = datetime(2026, 6, 17, 9, 0, tzinfo=UTC)
JUST_OVERDUE = datetime(2026, 6, 18, 8, 0, tzinfo=UTC)
# Escalation 1: 2 business days overdue (end of Friday 19); 2: 5 (end of Thu 24).
FIRST_ESCALATION = datetime(2026, 6, 22, 8, 0, tzinfo=UTC)
SECOND_ESCALATION = datetime(2026, 6, 25, 8, 0, tzinfo=UTC)


def kinds(review):
    return sorted(
        Notification.objects.filter(event_key__startswith=f"review-{review.pk}-")
        .exclude(kind="review_submitted")
        .values_list("kind", flat=True)
    )


def test_nothing_is_sent_before_the_first_reminder(review):
    assert services.review_sweep(now=BEFORE_ANY) == []
    assert kinds(review) == []


def test_a_reminder_goes_to_the_owner_once(review, manager):
    # when
    first = services.review_sweep(now=AFTER_FIRST_REMINDER)
    second = services.review_sweep(now=AFTER_FIRST_REMINDER)
    # then
    assert [a.kind for a in first] == ["reminder"]
    assert second == []
    notification = Notification.objects.get(kind="review_reminder")
    assert notification.deliveries.filter(recipient=manager.email).exists()
    review.refresh_from_db()
    assert review.reminded_for == datetime(2026, 6, 12, 8, 0, tzinfo=UTC)
    # logged on the incident's timeline (by the outbox)
    assert review.incident.timeline.filter(data__notification=notification.pk).exists()


def test_the_due_day_reminder_is_a_second_alert(review):
    services.review_sweep(now=AFTER_FIRST_REMINDER)
    assert [a.kind for a in services.review_sweep(now=DUE_DAY_MORNING)] == ["reminder"]
    assert kinds(review) == ["review_reminder", "review_reminder"]


def test_overdue_alert_then_escalations_in_order(review):
    assert [a.kind for a in services.review_sweep(now=JUST_OVERDUE)] == ["overdue"]
    assert services.review_sweep(now=JUST_OVERDUE) == []
    first = services.review_sweep(now=FIRST_ESCALATION)
    assert [(a.kind, a.recipients) for a in first] == [
        ("escalation", "Incident managers (level 1), Mia Tester")
    ]
    assert services.review_sweep(now=FIRST_ESCALATION) == []
    second = services.review_sweep(now=SECOND_ESCALATION)
    assert [a.recipients for a in second] == ["Executives (level 2), Mia Tester"]
    review.refresh_from_db()
    assert review.escalation_level == 2
    assert review.overdue_alerted_at == JUST_OVERDUE
    assert kinds(review) == ["review_escalation", "review_escalation", "review_overdue"]


def test_escalation_reaches_the_group_members(review, executive):
    services.review_sweep(now=SECOND_ESCALATION)
    escalation = Notification.objects.get(event_key=f"review-{review.pk}-escalation-2")
    assert escalation.deliveries.filter(recipient=executive.email).exists()


def test_a_late_first_run_sends_overdue_and_all_due_escalations_once(review):
    sent = services.review_sweep(now=SECOND_ESCALATION)
    assert [a.kind for a in sent] == ["overdue", "escalation", "escalation"]
    deliveries = Delivery.objects.count()
    assert services.review_sweep(now=SECOND_ESCALATION) == []
    assert Delivery.objects.count() == deliveries


def test_published_reviews_are_left_alone(review, manager, reviewer):
    write(review, manager)
    services.review_submit(review=review, actor=manager)
    services.review_approve(review=review, actor=reviewer)
    services.review_publish(review=review, actor=manager)
    assert services.review_sweep(now=SECOND_ESCALATION) == []
    assert Review.objects.overdue(SECOND_ESCALATION).count() == 0


def test_the_command_prints_what_it_sent_and_nothing_twice(review):
    out = StringIO()
    call_command(
        "check_overdue_reviews", "--now", "2026-06-18T08:00:00+00:00", stdout=out
    )
    text = out.getvalue()
    assert f"Sent overdue: review of {review.incident.reference}" in text
    assert "-> Mia Tester" in text
    assert "1 review alert(s) sent" in text
    again = StringIO()
    call_command(
        "check_overdue_reviews", "--now", "2026-06-18T08:00:00+00:00", stdout=again
    )
    assert "0 review alert(s) sent" in again.getvalue()
    assert "Sent" not in again.getvalue()


def test_the_command_refuses_a_malformed_now(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO-8601"):
        call_command("check_overdue_reviews", "--now", "next tuesday")


def test_the_beat_task_runs_the_sweep(review, settings):
    from reviews.tasks import check_overdue_reviews_task

    # The review was due in 2026; "now" for the task is the real time, so at
    # least the overdue alert is due whenever this runs after the due date.
    assert "check-overdue-reviews" in settings.CELERY_BEAT_SCHEDULE
    sent = check_overdue_reviews_task.apply().get()
    assert (
        sent
        == Notification.objects.filter(
            event_key__startswith=f"review-{review.pk}-"
        ).count()
    )
