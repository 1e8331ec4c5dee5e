"""The reviews API: list, detail, PATCH and the workflow actions; a restricted
incident's review is exactly as restricted."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from reviews import services
from reviews.models import Review
from tests.factories import IncidentTypeFactory
from tests.reviews.conftest import write
from tests.reviews.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_is_paginated_and_filters_by_incident(resolve, manager):
    first = resolve("SEV-2").review
    resolve("SEV-1")
    response = client_for(manager).get(
        f"/api/v1/reviews/?incident={first.incident_id}&page_size=10"
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 1
    result = body["results"][0]
    assert result["incident"] == first.incident_id
    assert result["status"] == "draft"
    assert result["due_at"].startswith("2026-06-17T22:59:59")
    for field in ("timeline", "root_cause", "contributing_factors", "follow_ups"):
        assert field in result


def test_overdue_is_true_once_the_due_date_passed(resolve, manager):
    past = datetime.now(UTC) - timedelta(days=30)
    recent = datetime.now(UTC)
    old = resolve("SEV-1", at=past).review
    new = resolve("SEV-2", at=recent).review
    client = client_for(manager)
    assert client.get(f"/api/v1/reviews/{old.pk}/").json()["overdue"] is True
    assert client.get(f"/api/v1/reviews/{new.pk}/").json()["overdue"] is False


def test_restricted_review_is_404_for_who_cannot_see_the_incident(
    resolve, outsider, manager
):
    secret_type = IncidentTypeFactory(
        slug="hr-matter", restricted=True, restricted_groups=["Incident managers"]
    )
    review = resolve("SEV-2", incident_type=secret_type).review
    assert review.incident.restricted
    outsider_client = client_for(outsider)
    assert outsider_client.get(f"/api/v1/reviews/{review.pk}/").status_code == 404
    assert outsider_client.get("/api/v1/reviews/").json()["count"] == 0
    response = outsider_client.patch(
        f"/api/v1/reviews/{review.pk}/", {"summary": "x"}, format="json"
    )
    assert response.status_code == 404
    assert (
        outsider_client.post(f"/api/v1/reviews/{review.pk}/submit/").status_code == 404
    )
    # the commander was granted on it and sees it
    assert client_for(manager).get(f"/api/v1/reviews/{review.pk}/").status_code == 200


def test_anonymous_is_refused(review):
    assert APIClient().get("/api/v1/reviews/").status_code in (401, 403)
    assert Client().get(f"/api/v1/reviews/{review.pk}/").status_code in (401, 403)


def test_patch_writes_content_whys_factors_and_timeline(review, manager):
    category = CategoryFactory(slug="technology", name="Technology")
    entry = review.timeline_items.filter(included=True).first().entry_id
    response = client_for(manager).patch(
        f"/api/v1/reviews/{review.pk}/",
        {
            "summary": "Checkout failed",
            "root_cause": "Missing flag",
            "five_whys": [{"why": "Why did it fail?", "because": "Flag missing"}],
            "contributing_factors": [
                {"category": "technology", "description": "No default"}
            ],
            "timeline": [{"entry": entry, "included": False, "annotation": "noise"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["summary"] == "Checkout failed"
    assert body["root_cause"] == {
        "summary": "Missing flag",
        "five_whys": [
            {"order": 1, "why": "Why did it fail?", "because": "Flag missing"}
        ],
    }
    assert body["contributing_factors"] == [
        {"category": category.slug, "description": "No default"}
    ]
    item = next(i for i in body["timeline"] if i["entry"] == entry)
    assert item["included"] is False and item["annotation"] == "noise"


def test_patch_by_someone_without_rights_is_403(review, outsider):
    response = client_for(outsider).patch(
        f"/api/v1/reviews/{review.pk}/", {"summary": "x"}, format="json"
    )
    assert response.status_code == 403


def test_workflow_actions(review, manager, reviewer):
    owner, approver = client_for(manager), client_for(reviewer)
    refused = owner.post(f"/api/v1/reviews/{review.pk}/submit/")
    assert refused.status_code == 400
    assert "summary" in refused.json()["detail"]
    write(review, manager)
    assert owner.post(f"/api/v1/reviews/{review.pk}/submit/").json()["status"] == (
        "in_review"
    )
    assert owner.post(f"/api/v1/reviews/{review.pk}/approve/").status_code == 403
    changes = approver.post(
        f"/api/v1/reviews/{review.pk}/request-changes/",
        {"comment": "Say more about impact"},
        format="json",
    )
    assert changes.json()["status"] == "draft"
    owner.post(f"/api/v1/reviews/{review.pk}/submit/")
    approved = approver.post(f"/api/v1/reviews/{review.pk}/approve/", {}, format="json")
    assert approved.json()["status"] == "approved"
    assert approved.json()["approvals"] == [
        {"group": "Reviewers", "count": 1, "approvers": ["rob"]}
    ]
    published = owner.post(f"/api/v1/reviews/{review.pk}/publish/")
    assert published.json()["status"] == "published"
    assert Review.objects.get(pk=review.pk).status == "published"


def test_follow_ups_are_added_and_moved_along(review, manager, responder):
    client = client_for(manager)
    created = client.post(
        f"/api/v1/reviews/{review.pk}/follow-ups/",
        {
            "title": "Add a release checklist",
            "owner": "rita",
            "ticket_url": "https://tracker.example.com/OPS-1",
        },
        format="json",
    )
    assert created.status_code == 201
    follow_up = created.json()["id"]
    done = client_for(responder).patch(
        f"/api/v1/review-follow-ups/{follow_up}/", {"status": "done"}, format="json"
    )
    assert done.status_code == 200
    assert done.json()["status"] == "done" and done.json()["completed_at"]


def test_schema_documents_the_review_endpoints(db, manager):
    response = client_for(manager).get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/reviews/{id}/request-changes/" in paths
    assert "patch" in paths["/api/v1/reviews/{id}/"]


# --- PATCH takes what it reads and refuses what it cannot take ---------------------


def test_patch_of_status_is_refused_and_points_to_the_actions(review, manager):
    response = client_for(manager).patch(
        f"/api/v1/reviews/{review.pk}/", {"status": "published"}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "not_editable"
    for action in ("submit", "approve", "request-changes", "publish"):
        assert action in body["detail"]
    assert body["errors"] == {"status": [body["detail"]]}
    assert Review.objects.get(pk=review.pk).status == "draft"


def test_patch_names_unknown_fields_and_changes_nothing(review, manager):
    drafted = review.summary  # the first draft from the record
    response = client_for(manager).patch(
        f"/api/v1/reviews/{review.pk}/",
        {"summary": "Checkout failed", "colour": "red", "due_at": "2030-01-01"},
        format="json",
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "unknown_field"
    assert "colour" in body["detail"] and "due_at" in body["detail"]
    assert Review.objects.get(pk=review.pk).summary == drafted != "Checkout failed"


def test_root_cause_is_written_in_the_shape_it_is_read(review, manager):
    client = client_for(manager)
    url = f"/api/v1/reviews/{review.pk}/"
    root_cause = client.get(url).json()["root_cause"]
    assert root_cause == {"summary": "", "five_whys": []}
    root_cause["summary"] = "A configuration flag was removed without a migration."
    root_cause["five_whys"] = [
        {"order": 2, "why": "Why was it removed?", "because": "It looked unused."},
        {"order": 1, "why": "Why did checkout fail?", "because": "The flag was gone."},
    ]

    response = client.patch(url, {"root_cause": root_cause}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["root_cause"] == {
        "summary": "A configuration flag was removed without a migration.",
        "five_whys": [
            {
                "order": 1,
                "why": "Why did checkout fail?",
                "because": "The flag was gone.",
            },
            {"order": 2, "why": "Why was it removed?", "because": "It looked unused."},
        ],
    }
    # read back and written again unchanged: nothing moves
    again = client.patch(url, {"root_cause": response.json()["root_cause"]})
    assert again.json()["root_cause"] == response.json()["root_cause"]


def test_root_cause_as_a_string_sets_the_summary_and_keeps_the_whys(review, manager):
    client = client_for(manager)
    url = f"/api/v1/reviews/{review.pk}/"
    client.patch(
        url,
        {"root_cause": {"five_whys": [{"why": "Why?", "because": "Because."}]}},
        format="json",
    )

    response = client.patch(url, {"root_cause": "Missing flag"}, format="json")

    assert response.status_code == 200
    assert response.json()["root_cause"] == {
        "summary": "Missing flag",
        "five_whys": [{"order": 1, "why": "Why?", "because": "Because."}],
    }


@pytest.mark.parametrize(
    ("root_cause", "expected"),
    [
        ({"five_whys": [{"why": "Why did it fail?"}]}, "because"),
        ({"five_whys": [{"why": "Why?", "because": ""}]}, "because"),
        ({"five_whys": [{"why": "Why?", "because": "B", "blame": "x"}]}, "blame"),
        ({"five_whys": "Why? Because."}, "list"),
        ({"five_whys": [{"why": f"W{n}", "because": "B"} for n in range(11)]}, "10"),
        ({"summary": "x", "owner": "rob"}, "owner"),
        (42, "string or an object"),
    ],
)
def test_root_cause_and_its_five_whys_are_validated(
    review, manager, root_cause, expected
):
    response = client_for(manager).patch(
        f"/api/v1/reviews/{review.pk}/", {"root_cause": root_cause}, format="json"
    )

    assert response.status_code == 400
    assert expected in str(response.json()["errors"]["root_cause"])
    assert not Review.objects.get(pk=review.pk).whys.exists()


def test_five_whys_are_given_once(review, manager):
    step = {"why": "Why?", "because": "Because."}
    response = client_for(manager).patch(
        f"/api/v1/reviews/{review.pk}/",
        {"five_whys": [step], "root_cause": {"five_whys": [step]}},
        format="json",
    )

    assert response.status_code == 400
    assert "once" in response.json()["detail"]


# --- filters -----------------------------------------------------------------


def test_overdue_filter_splits_late_from_on_time(resolve, manager):
    late = resolve("SEV-1", at=datetime.now(UTC) - timedelta(days=30)).review
    on_time = resolve("SEV-2", at=datetime.now(UTC)).review
    client = client_for(manager)

    overdue = client.get("/api/v1/reviews/?overdue=true").json()
    not_overdue = client.get("/api/v1/reviews/?overdue=false").json()

    assert [r["id"] for r in overdue["results"]] == [late.pk]
    assert [r["id"] for r in not_overdue["results"]] == [on_time.pk]
    assert client.get("/api/v1/reviews/?overdue=maybe").status_code == 400


def test_published_reviews_are_never_overdue(resolve, manager, reviewer):
    late = resolve("SEV-2", at=datetime.now(UTC) - timedelta(days=30)).review
    write(late, manager)
    client = client_for(manager)
    client.post(f"/api/v1/reviews/{late.pk}/submit/")
    client_for(reviewer).post(f"/api/v1/reviews/{late.pk}/approve/")
    client.post(f"/api/v1/reviews/{late.pk}/publish/")

    assert client.get("/api/v1/reviews/?overdue=true").json()["count"] == 0
    assert client.get("/api/v1/reviews/?overdue=false").json()["count"] == 1


def test_status_filter(submitted, resolve, manager):
    draft = resolve("SEV-1").review
    client = client_for(manager)

    in_review = client.get("/api/v1/reviews/?status=in_review").json()
    drafts = client.get("/api/v1/reviews/?status=draft").json()
    both = client.get("/api/v1/reviews/?status=draft&status=in_review").json()

    assert [r["id"] for r in in_review["results"]] == [submitted.pk]
    assert [r["id"] for r in drafts["results"]] == [draft.pk]
    assert both["count"] == 2
    assert client.get("/api/v1/reviews/?status=lost").status_code == 400


# --- the list carries key entries and a summary; the detail the whole timeline -----


def test_list_carries_the_key_entries_and_the_detail_every_offered_entry(
    review, manager
):
    client = client_for(manager)
    offered = review.timeline_items.count()
    key = review.timeline_items.filter(included=True).count()
    assert 0 < key < offered

    listed = client.get("/api/v1/reviews/").json()["results"][0]
    detail = client.get(f"/api/v1/reviews/{review.pk}/").json()

    assert listed["timeline_summary"] == {"entries": offered, "key_entries": key}
    assert len(listed["timeline"]) == key
    assert set(listed["timeline"][0]) == {
        "sequence",
        "kind",
        "occurred_at",
        "summary",
        "annotation",
    }
    assert listed["links"]["self"].endswith(f"/api/v1/reviews/{review.pk}/")
    assert listed["links"]["portal"].endswith(f"/reviews/{review.pk}/")
    assert listed["links"]["incident_timeline"].endswith(
        f"/api/v1/incidents/{review.incident_id}/timeline/"
    )
    assert len(detail["timeline"]) == offered
    assert sum(item["included"] for item in detail["timeline"]) == key
    for field in ("timeline", "root_cause", "contributing_factors", "follow_ups"):
        assert field in listed and field in detail


def _reviews_with_everything(resolve, manager, reviewer, count, start):
    """``count`` reviews, every other one in review with an approval, whys,
    factors and a follow-up."""
    category = CategoryFactory(slug="technology", name="Technology")
    for n in range(count):
        review = resolve("SEV-1", at=start + timedelta(hours=n)).review
        if n % 2:
            continue
        write(review, manager)
        services.review_set_five_whys(
            review=review, actor=manager, whys=[("Why?", "Because.")]
        )
        services.review_set_factors(
            review=review, actor=manager, factors=[(category, "No default")]
        )
        services.follow_up_add(review=review, actor=manager, title="Add a check")
        services.review_submit(review=review, actor=manager)
        services.review_approve(review=review, actor=reviewer, comment="")


def test_list_queries_do_not_grow_with_the_reviews(
    resolve, manager, reviewer, django_assert_max_num_queries
):
    client = client_for(manager)
    start = datetime.now(UTC) - timedelta(days=60)
    _reviews_with_everything(resolve, manager, reviewer, 5, start)
    with django_assert_max_num_queries(12) as few:
        assert client.get("/api/v1/reviews/?page_size=1000").json()["count"] == 5

    _reviews_with_everything(resolve, manager, reviewer, 25, start + timedelta(days=5))
    with django_assert_max_num_queries(12) as many:
        assert client.get("/api/v1/reviews/?page_size=1000").json()["count"] == 30

    assert len(many.captured_queries) == len(few.captured_queries)


def test_follow_up_titles_lose_bidi_overrides(review, manager):
    client = client_for(manager)
    created = client.post(
        f"/api/v1/reviews/{review.pk}/follow-ups/",
        {"title": "Rotate \u202egpj.exe\u202c keys"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["title"] == "Rotate gpj.exe keys"
    patched = client.patch(
        f"/api/v1/review-follow-ups/{created.json()['id']}/",
        {"title": "\u2067Renamed\u2069"},
        format="json",
    )
    assert patched.json()["title"] == "Renamed"
