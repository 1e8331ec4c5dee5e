"""The review console: Configurators set the policy and the factor taxonomy;
reviews and batches are read-only there and as restricted as their incidents."""

from datetime import UTC, datetime, timedelta

import pytest

from incidentops import groups
from reviews.models import EscalationStep, ReviewPolicy
from tests.factories import IncidentTypeFactory, UserFactory, severity

pytestmark = pytest.mark.django_db


@pytest.fixture
def configurator(db):
    return UserFactory(username="cora", is_staff=True, groups=[groups.CONFIGURATORS])


@pytest.fixture
def staff_reviewer(db):
    """A reviewer with admin access and no grant on restricted types."""
    return UserFactory(username="staffrob", is_staff=True, groups=[groups.REVIEWERS])


@pytest.mark.parametrize(
    "path",
    [
        "/admin/reviews/reviewpolicy/",
        "/admin/reviews/reviewpolicy/add/",
        "/admin/reviews/contributingfactorcategory/",
        "/admin/reviews/contributingfactorcategory/add/",
    ],
)
def test_configurators_open_the_review_configuration(client, configurator, path):
    client.force_login(configurator)

    assert client.get(path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/reviews/reviewpolicy/",
        "/admin/reviews/reviewpolicy/add/",
        "/admin/reviews/contributingfactorcategory/",
    ],
)
def test_responders_cannot_open_the_review_configuration(client, path):
    rita = UserFactory(username="rita", is_staff=True, groups=[groups.RESPONDERS])
    client.force_login(rita)

    assert client.get(path).status_code == 403


def test_policy_list_shows_mode_due_days_period_and_approvals(client, configurator):
    client.force_login(configurator)

    page = client.get("/admin/reviews/reviewpolicy/").content.decode()

    assert "SEV-1" in page and "SEV-4" in page
    assert "Batch review queue" in page and "A review per incident" in page
    assert "1 × Executives" in page
    assert "Calendar month" in page
    filtered = client.get("/admin/reviews/reviewpolicy/?mode__exact=batch")
    assert [p.severity.code for p in filtered.context["cl"].result_list] == [
        "SEV-3",
        "SEV-4",
    ]


def test_policy_is_edited_with_its_inlines_and_history(client, configurator):
    # given the SEV-2 policy from the migration: 1 Reviewer, two escalation steps
    policy = ReviewPolicy.objects.get(severity__code="SEV-2")
    approval = policy.approvals.get()
    steps = list(policy.escalations.order_by("after_business_days"))
    client.force_login(configurator)
    url = f"/admin/reviews/reviewpolicy/{policy.pk}/change/"
    page = client.get(url).content.decode()
    assert 'name="approvals-TOTAL_FORMS"' in page
    assert 'name="escalations-TOTAL_FORMS"' in page

    # when a configurator shortens the due date and adds a third escalation step
    executives = steps[1].group
    response = client.post(
        url,
        {
            "severity": severity("SEV-2").pk,
            "mode": "individual",
            "due_business_days": 7,
            "reminder_business_days": "[3, 0]",
            "batch_period": "week",
            "batch_owner_group": "",
            "approvals-TOTAL_FORMS": 1,
            "approvals-INITIAL_FORMS": 1,
            "approvals-0-id": approval.pk,
            "approvals-0-policy": policy.pk,
            "approvals-0-group": approval.group_id,
            "approvals-0-count": 2,
            "escalations-TOTAL_FORMS": 3,
            "escalations-INITIAL_FORMS": 2,
            **{
                key: value
                for index, step in enumerate(steps)
                for key, value in {
                    f"escalations-{index}-id": step.pk,
                    f"escalations-{index}-policy": policy.pk,
                    f"escalations-{index}-after_business_days": (
                        step.after_business_days
                    ),
                    f"escalations-{index}-group": step.group_id,
                }.items()
            },
            "escalations-2-policy": policy.pk,
            "escalations-2-after_business_days": 10,
            "escalations-2-group": executives.pk,
        },
    )

    # then the policy, its requirement and its chain changed, on the record
    assert response.status_code == 302, response.context["errors"]
    policy.refresh_from_db()
    assert policy.due_business_days == 7
    assert policy.approvals.get().count == 2
    assert list(
        EscalationStep.objects.filter(policy=policy).values_list(
            "after_business_days", flat=True
        )
    ) == [2, 5, 10]
    assert policy.history.first().history_user == configurator


def test_categories_are_searched_and_filtered(client, configurator):
    client.force_login(configurator)

    found = client.get("/admin/reviews/contributingfactorcategory/?q=supplier")
    inactive = client.get(
        "/admin/reviews/contributingfactorcategory/?is_active__exact=0"
    )

    assert [c.slug for c in found.context["cl"].result_list] == ["supplier"]
    assert list(inactive.context["cl"].result_list) == []
    history = client.get(
        "/admin/reviews/contributingfactorcategory/"
        f"{found.context['cl'].result_list[0].pk}/history/"
    )
    assert history.status_code == 200


def test_reviews_are_listed_with_incident_status_due_owner_and_overdue(
    client, resolve, staff_reviewer
):
    late = resolve("SEV-1", at=datetime.now(UTC) - timedelta(days=30)).review
    current = resolve("SEV-2", at=datetime.now(UTC)).review
    client.force_login(staff_reviewer)

    response = client.get("/admin/reviews/review/")

    page = response.content.decode()
    assert late.incident.reference in page and current.incident.reference in page
    assert "Draft" in page
    assert "mia" in page
    assert 'alt="True"' in page and 'alt="False"' in page  # the overdue column
    overdue = client.get("/admin/reviews/review/?overdue=yes")
    on_time = client.get("/admin/reviews/review/?overdue=no")
    assert list(overdue.context["cl"].result_list) == [late]
    assert list(on_time.context["cl"].result_list) == [current]


def test_reviews_cannot_be_added_changed_or_deleted_in_the_admin(
    client, review, staff_reviewer
):
    client.force_login(staff_reviewer)
    url = f"/admin/reviews/review/{review.pk}/change/"
    drafted = review.summary  # the first draft from the record

    assert client.get("/admin/reviews/review/add/").status_code == 403
    page = client.get(url)
    assert page.status_code == 200  # viewable
    assert 'name="summary"' not in page.content.decode()
    assert client.post(url, {"summary": "Rewritten"}).status_code == 403
    assert client.get(f"/admin/reviews/review/{review.pk}/delete/").status_code == 403
    review.refresh_from_db()
    assert review.summary == drafted != "Rewritten"


def test_restricted_reviews_are_hidden_without_a_grant(client, resolve, staff_reviewer):
    secret_type = IncidentTypeFactory(
        slug="insider-threat", restricted=True, restricted_groups=["Incident managers"]
    )
    secret = resolve("SEV-2", incident_type=secret_type).review
    public = resolve("SEV-2").review
    client.force_login(staff_reviewer)

    listed = client.get("/admin/reviews/review/")

    assert list(listed.context["cl"].result_list) == [public]
    assert secret.incident.reference not in listed.content.decode()
    assert client.get(f"/admin/reviews/review/{secret.pk}/change/").status_code in (
        302,
        404,
    )
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    everything = client.get("/admin/reviews/review/")
    assert set(everything.context["cl"].result_list) == {secret, public}


def test_batches_list_only_incidents_the_admin_may_see(client, resolve, staff_reviewer):
    secret_type = IncidentTypeFactory(
        slug="insider-threat", restricted=True, restricted_groups=["Incident managers"]
    )
    secret = resolve("SEV-3", incident_type=secret_type)
    public = resolve("SEV-3")
    client.force_login(staff_reviewer)

    response = client.get("/admin/reviews/batchreview/")

    page = response.content.decode()
    assert len(response.context["cl"].result_list) == 1
    assert public.reference in page
    assert secret.reference not in page
    assert client.get("/admin/reviews/batchreview/add/").status_code == 403
