"""The demo seed on a small back-dated history: realistic states, approvals by
people who may see the incident, batches worked through, a quiet first sweep,
and a second run that changes nothing."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.apps import apps

from incidentops import groups
from incidentops.models import User
from incidentops.seed import DEMO_PASSWORD, seed_mark
from notifications.models import Notification
from reviews import services
from reviews.models import Approval, BatchReview, BatchReviewItem, FollowUp, Review
from reviews.seed import seed_reviews
from tests.factories import IncidentTypeFactory

pytestmark = pytest.mark.django_db

# A Wednesday; the history lies in the weeks before it.
NOW = datetime(2026, 6, 24, 12, 0, tzinfo=UTC)
Status = Review.Status


@pytest.fixture
def history(resolve, manager, reviewer, executive):
    secret = IncidentTypeFactory(
        slug="data-breach",
        name="Data breach",
        restricted_by_default=True,
        restricted_groups=[groups.EXECUTIVES, groups.INCIDENT_MANAGERS],
    )
    days = lambda n: NOW - timedelta(days=n)  # noqa: E731
    made = {
        "old": resolve("SEV-2", at=days(60), title="Search was slow"),
        "sev1": resolve("SEV-1", at=days(40), title="Checkout down"),
        "restricted": resolve(
            "SEV-2", at=days(30), incident_type=secret, title="Customer list leaked"
        ),
        "restricted_sev1": resolve(
            "SEV-1", at=days(25), incident_type=secret, title="Card data exposed"
        ),
        "slipped": resolve("SEV-2", at=days(16), title="Invoices sent twice"),
        "next": resolve("SEV-2", at=days(5), title="Login emails delayed"),
        "newest": resolve("SEV-1", at=days(2), title="Payments API errors"),
        "sev3_a": resolve("SEV-3", at=days(35), title="Report late"),
        "sev3_b": resolve("SEV-3", at=days(34), title="Report late again"),
        "sev3_now": resolve("SEV-3", at=days(1), title="Cron missed a run"),
        "sev4": resolve("SEV-4", at=days(50), title="Typo on the status page"),
    }
    assert made["restricted"].restricted
    # as the incidents and accounts seeds leave them: marked as the demo's
    seed_mark(*made.values(), manager, reviewer, executive)
    return made


def seed(now=NOW) -> str:
    out = StringIO()
    seed_reviews(stdout=out, now=now)
    return out.getvalue()


def review_of(incident) -> Review:
    return Review.objects.get(incident=incident)


def test_most_reviews_are_published_a_few_in_review_and_one_overdue(history):
    seed()
    states = {
        name: review_of(i).status
        for name, i in history.items()
        if Review.objects.filter(incident=i).exists()
    }
    assert states == {
        "old": Status.PUBLISHED,
        "sev1": Status.PUBLISHED,
        "restricted": Status.PUBLISHED,
        "restricted_sev1": Status.PUBLISHED,
        "slipped": Status.DRAFT,
        "next": Status.IN_REVIEW,
        "newest": Status.IN_REVIEW,
        "sev3_a": Status.PUBLISHED,  # promoted out of its batch, since published
    }
    assert list(Review.objects.overdue(NOW)) == [review_of(history["slipped"])]


def test_approvals_come_from_people_who_may_see_the_incident(history):
    seed()

    def approvers(name):
        return sorted(
            review_of(history[name])
            .approval_records.filter(decision=Approval.Decision.APPROVED)
            .values_list("user__username", flat=True)
        )

    assert approvers("old") == ["rob"]
    assert approvers("sev1") == ["eve", "rob"]
    # Rob may not see restricted incidents: Rhea (Reviewers and Executives) may.
    assert approvers("restricted") == ["rhea"]
    assert approvers("restricted_sev1") == ["eve", "rhea"]
    rhea = User.objects.get(username="rhea")
    assert set(rhea.groups.values_list("name", flat=True)) == {
        groups.REVIEWERS,
        groups.EXECUTIVES,
    }


def test_published_reviews_have_content_and_one_open_follow_up(history):
    seed()
    review = review_of(history["sev1"])
    assert review.whys.count() == 3
    assert review.factors.exists()
    assert sorted(review.follow_ups.values_list("status", flat=True)) == [
        FollowUp.Status.DONE,
        FollowUp.Status.OPEN,
    ]
    assert review.published_at < NOW


def test_batches_due_are_completed_and_the_current_one_is_under_way(history, manager):
    seed()
    old_week = history["sev3_a"].batch_review_item.batch
    assert old_week == history["sev3_b"].batch_review_item.batch
    assert (old_week.status, old_week.completed_by) == (
        BatchReview.Status.DONE,
        manager,
    )
    assert set(old_week.items.values_list("disposition", flat=True)) == {
        BatchReviewItem.Disposition.PROMOTED,
        BatchReviewItem.Disposition.NO_ACTION,
    }
    sev4 = history["sev4"].batch_review_item.batch
    assert (sev4.status, sev4.completed_by.username) == (BatchReview.Status.DONE, "rob")
    current = history["sev3_now"].batch_review_item.batch
    assert current.status == BatchReview.Status.OPEN
    assert current.due_at > NOW


def test_the_first_sweep_sends_a_handful_and_the_second_nothing(history):
    seed()
    first = services.review_sweep(now=NOW)
    assert 1 <= len(first) <= 5
    assert ("overdue", history["slipped"].reference) in [
        (a.kind, a.reference) for a in first
    ]
    assert services.review_sweep(now=NOW) == []


def test_seeding_silently_and_twice_changes_nothing(history):
    # given
    notifications = Notification.objects.count()
    seed()
    assert Notification.objects.count() == notifications  # history is silent
    models = [m for m in apps.get_app_config("reviews").get_models()]

    def snapshot():
        return {m.__name__: list(m.objects.order_by("pk").values()) for m in models}

    before = snapshot()
    # when
    output = seed()
    # then
    assert snapshot() == before
    assert output == ""


# --- each review tells its own incident's story --------------------------------


def _tell(incident, **fields):
    type(incident).objects.filter(pk=incident.pk).update(**fields)
    incident.refresh_from_db()


def test_review_content_comes_from_its_incidents_story(history):
    # given two incidents with their own stories (as the incidents seed writes them)
    _tell(
        history["sev1"],
        resolution_summary="Root cause: the Kafka cluster ran out of disk after a "
        "retention change. We raised the disk size and added an alert on disk use.",
        affected_services=["order-management"],
    )
    _tell(
        history["old"],
        resolution_summary="Root cause: a CDN caching rule ignored the session "
        "cookie in the Frankfurt data centre. We purged the cache and fixed the rule.",
        affected_services=["customer-portal"],
    )

    _tell(
        history["slipped"],
        resolution_summary="Root cause: a promotion doubled demand and the "
        "forecast was not updated. Stock transferred from other sites.",
    )

    seed()

    promotion = review_of(history["slipped"])
    assert promotion.root_cause == (
        "A promotion doubled demand and the forecast was not updated."
    )
    assert "process" in promotion.factors.values_list("category__slug", flat=True)
    assert "stock transferred from other sites." in promotion.whys.last().because
    kafka, frankfurt = review_of(history["sev1"]), review_of(history["old"])
    assert kafka.root_cause == (
        "The Kafka cluster ran out of disk after a retention change."
    )
    whys = list(kafka.whys.values_list("why", "because"))
    assert whys[0] == (
        f"Why did {history['sev1'].reference} (Checkout down) happen?",
        kafka.root_cause,
    )
    assert "we raised the disk size and added an alert on disk use." in whys[-1][1]
    assert set(kafka.factors.values_list("category__slug", flat=True)) == {
        "change",
        "monitoring",
    }
    titles = list(kafka.follow_ups.order_by("pk").values_list("title", flat=True))
    assert titles[0] == "Confirm the fix holds for order-management"
    # nothing from another incident's story leaks in
    other_text = " ".join(
        [frankfurt.summary, frankfurt.root_cause]
        + [w.because for w in frankfurt.whys.all()]
        + [f.title for f in frankfurt.follow_ups.all()]
    )
    assert "Kafka" not in other_text and "checklist" not in other_text.lower()
    assert "Frankfurt" in frankfurt.root_cause and "CDN" in frankfurt.root_cause
    assert titles[1].startswith(f"Add what {history['sev1'].reference} taught")


def test_follow_ups_and_batch_notes_keep_names_case(history):
    _tell(history["newest"], affected_services=["CRM"], title="CRM sync failing")
    _tell(history["sev3_b"], title="Frankfurt CRM export late")

    seed()

    follow_ups = list(
        FollowUp.objects.filter(review__incident=history["newest"]).values_list(
            "title", flat=True
        )
    )
    assert "Confirm the fix holds for CRM" in follow_ups
    notes = " ".join(BatchReviewItem.objects.values_list("note", flat=True))
    assert "crm" not in notes and "frankfurt" not in notes
    for title in FollowUp.objects.values_list("title", flat=True):
        assert "crm" not in title and "frankfurt" not in title


def test_rhea_is_a_demo_user_like_the_others(history, client):
    seed()
    rhea = User.objects.get(username="rhea")
    assert (rhea.get_full_name(), rhea.email) == ("Rhea Risk", "rhea@example.com")
    assert client.login(username="rhea", password=DEMO_PASSWORD)
    # a second run keeps her, and a password she changed
    rhea.set_password("her-own-password")
    rhea.save()
    seed()
    assert User.objects.filter(username="rhea").count() == 1
    assert client.login(username="rhea", password="her-own-password")
