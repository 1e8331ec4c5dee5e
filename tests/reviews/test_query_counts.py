"""The sweep and the "Mine to approve" list cost the same number of queries
whatever the number of reviews (policies and approvers looked up once)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from reviews import services
from tests.reviews.conftest import WEDNESDAY, write

pytestmark = pytest.mark.django_db

# Before any reminder of reviews resolved in the first week of June 2026.
BEFORE_ANY = datetime(2026, 6, 4, 12, 0, tzinfo=UTC)
POLICY_TABLES = (
    '"reviews_reviewpolicy"',
    '"reviews_approvalrequirement"',
    '"reviews_escalationstep"',
)


def resolve_many(resolve, count, code="SEV-2"):
    return [
        resolve(code, at=WEDNESDAY + timedelta(minutes=n), title=f"Outage {n}")
        for n in range(count)
    ]


def policy_queries(now) -> int:
    with CaptureQueriesContext(connection) as queries:
        services.review_sweep(now=now)
    return sum(
        1
        for query in queries.captured_queries
        if any(table in query["sql"] for table in POLICY_TABLES)
    )


def test_the_sweep_looks_each_policy_up_once_per_run(resolve):
    resolve_many(resolve, 3)
    resolve_many(resolve, 2, code="SEV-3")
    few = policy_queries(BEFORE_ANY)
    resolve_many(resolve, 12)
    resolve_many(resolve, 2, code="SEV-3")
    assert policy_queries(BEFORE_ANY) == few
    assert few <= 6  # SEV-2's policy and SEV-3's, three queries each


def approve_page_queries(user) -> tuple[int, str]:
    client = Client()
    client.force_login(user)
    client.get("/reviews/?scope=approve")  # session and permission caches warm
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/reviews/?scope=approve").content.decode()
    return len(queries.captured_queries), page


def submit_many(resolve, manager, count):
    reviews = [incident.review for incident in resolve_many(resolve, count)]
    for review in reviews:
        write(review, manager)
        services.review_submit(review=review, actor=manager)
    return reviews


def test_mine_to_approve_costs_the_same_for_3_or_15_reviews(resolve, manager, reviewer):
    first = submit_many(resolve, manager, 3)
    few, page = approve_page_queries(reviewer)
    assert all(review.get_absolute_url() in page for review in first)
    more = submit_many(resolve, manager, 12)
    many, page = approve_page_queries(reviewer)
    assert all(review.get_absolute_url() in page for review in more)
    assert many == few


def test_mine_to_approve_leaves_out_what_the_user_may_not_approve(
    resolve, manager, reviewer, executive
):
    # given: two SEV-2 reviews in review; the reviewer submitted the second
    mine_to_approve, submitted_by_rob = (
        incident.review for incident in resolve_many(resolve, 2)
    )
    write(mine_to_approve, manager)
    services.review_submit(review=mine_to_approve, actor=manager)
    write(submitted_by_rob, reviewer)
    services.review_submit(review=submitted_by_rob, actor=reviewer)
    # then
    _, page = approve_page_queries(reviewer)
    assert mine_to_approve.get_absolute_url() in page
    assert submitted_by_rob.get_absolute_url() not in page
    # SEV-2 asks nothing of Executives
    _, page = approve_page_queries(executive)
    assert mine_to_approve.get_absolute_url() not in page
