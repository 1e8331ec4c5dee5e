"""The reviews API: list, detail, PATCH and the workflow actions; a restricted
incident's review is exactly as restricted."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

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
