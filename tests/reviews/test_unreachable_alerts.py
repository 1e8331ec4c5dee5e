"""A review alert that reaches nobody is not counted as sent: it falls back to
the Incident managers once, and if nobody is reachable at all its watermark
stays, so a later run sends it once someone can be told (``now`` injected)."""

from datetime import UTC, datetime

import pytest

from incidentops import groups
from notifications.models import Notification
from reviews import services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The SEV-2 review of the fixtures (resolved Wednesday 3 June 2026) is due
# Wednesday 17 June; first reminder Friday 12 June 09:00 BST; overdue the 18th.
AFTER_FIRST_REMINDER = datetime(2026, 6, 12, 9, 0, tzinfo=UTC)
JUST_OVERDUE = datetime(2026, 6, 18, 8, 0, tzinfo=UTC)
# A SEV-4 incident of June 2026 joins the monthly batch run by Reviewers, due 10
# business days after 30 June: Tuesday 14 July.
SEV4_OVERDUE = datetime(2026, 7, 15, 8, 0, tzinfo=UTC)


@pytest.fixture
def owner_without_email(review, manager):
    """The review's owner (mia) has no e-mail address."""
    manager.email = ""
    manager.save(update_fields=["email"])
    return review


def test_an_unreachable_owner_falls_back_to_the_incident_managers(
    owner_without_email,
):
    # given: another incident manager who can be reached
    ivan = UserFactory(username="ivan", groups=[groups.INCIDENT_MANAGERS])
    # when
    alerts = services.review_sweep(now=AFTER_FIRST_REMINDER)
    # then
    assert [(a.kind, a.recipients) for a in alerts] == [
        ("reminder", "Incident managers (nobody else reachable)")
    ]
    notification = Notification.objects.get(kind="review_reminder")
    assert list(notification.deliveries.values_list("recipient", flat=True)) == [
        ivan.email
    ]
    owner_without_email.refresh_from_db()
    assert owner_without_email.reminded_for is not None


def test_an_alert_nobody_received_is_sent_by_a_later_run(owner_without_email):
    # when: nobody at all can be reached (mia is the only incident manager)
    assert services.review_sweep(now=JUST_OVERDUE) == []
    # then: nothing counted as sent
    owner_without_email.refresh_from_db()
    assert owner_without_email.overdue_alerted_at is None
    assert not Notification.objects.filter(kind="review_overdue").exists()
    # when: someone joins the group and the sweep runs again
    ivan = UserFactory(username="ivan", groups=[groups.INCIDENT_MANAGERS])
    later = datetime(2026, 6, 18, 8, 15, tzinfo=UTC)
    alerts = services.review_sweep(now=later)
    # then
    assert [a.kind for a in alerts] == ["overdue"]
    notification = Notification.objects.get(kind="review_overdue")
    assert notification.deliveries.filter(recipient=ivan.email).exists()
    owner_without_email.refresh_from_db()
    assert owner_without_email.overdue_alerted_at == later
    assert services.review_sweep(now=later) == []


def test_an_escalation_to_an_empty_group_is_retried_not_skipped(
    owner_without_email,
):
    # Executives (the second step) and everyone else unreachable; level 1 goes
    # to Incident managers, where mia has no address either.
    second_escalation = datetime(2026, 6, 25, 8, 0, tzinfo=UTC)
    assert services.review_sweep(now=second_escalation) == []
    owner_without_email.refresh_from_db()
    assert owner_without_email.escalation_level == 0


def test_a_batch_whose_owner_group_is_empty_falls_back_to_incident_managers(
    resolve, manager
):
    # given: a SEV-4 batch run by Reviewers, a group with nobody in it
    incident = resolve("SEV-4")
    batch = incident.batch_review_item.batch
    assert batch.owner_group.name == groups.REVIEWERS
    # when
    alerts = services.review_sweep(now=SEV4_OVERDUE)
    # then: the overdue alert reached the incident managers
    assert [(a.kind, a.batch_id, a.recipients) for a in alerts] == [
        ("overdue", batch.pk, "Incident managers (nobody else reachable)")
    ]
    notification = Notification.objects.get(kind="review_batch_overdue")
    assert notification.deliveries.filter(recipient=manager.email).exists()
    batch.refresh_from_db()
    assert batch.overdue_alerted_at == SEV4_OVERDUE


def test_a_batch_nobody_can_hear_keeps_its_watermark(resolve, manager):
    incident = resolve("SEV-4")
    manager.email = ""
    manager.save(update_fields=["email"])
    batch = incident.batch_review_item.batch
    assert services.review_sweep(now=SEV4_OVERDUE) == []
    batch.refresh_from_db()
    assert batch.overdue_alerted_at is None
    # once a reviewer joins, the next run tells them
    rob = UserFactory(username="rob", groups=[groups.REVIEWERS])
    alerts = services.review_sweep(now=SEV4_OVERDUE)
    assert [(a.kind, a.recipients) for a in alerts] == [("overdue", groups.REVIEWERS)]
    assert (
        Notification.objects.get(kind="review_batch_overdue")
        .deliveries.filter(recipient=rob.email)
        .exists()
    )
    batch.refresh_from_db()
    assert batch.overdue_alerted_at == SEV4_OVERDUE
