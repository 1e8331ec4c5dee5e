"""Trends and date filters count days in the organisation's zone (Europe/London),
not in UTC: around midnight in British Summer Time the two disagree."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.analytics import incident_trends
from tests.api.openapi import assert_conforms
from tests.factories import IncidentFactory

UTC = ZoneInfo("UTC")
LIST = "/api/v1/incidents/"
TRENDS = "/api/v1/analytics/trends/"

# 23:30 UTC on 31 July is 00:30 BST on 1 August.
JUST_AFTER_LONDON_MIDNIGHT = datetime(2026, 7, 31, 23, 30, tzinfo=UTC)
# 22:30 UTC on 31 July is 23:30 BST, still 31 July.
JUST_BEFORE_LONDON_MIDNIGHT = datetime(2026, 7, 31, 22, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def london(settings):
    settings.INCIDENTOPS_TIME_ZONE = "Europe/London"


@pytest.fixture
def around_midnight(manager):
    return {
        "august": IncidentFactory(
            title="After", created_at=JUST_AFTER_LONDON_MIDNIGHT, reporter=manager
        ),
        "july": IncidentFactory(
            title="Before", created_at=JUST_BEFORE_LONDON_MIDNIGHT, reporter=manager
        ),
    }


def refs(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["reference"] for row in response.json()["results"]}


# --- trends ---------------------------------------------------------------------


def test_monthly_trends_bucket_by_the_london_month(manager, around_midnight):
    rows = incident_trends(user=manager, group_by="severity", period="month")

    assert [(row["period_start"], row["count"]) for row in rows] == [
        (date(2026, 7, 1), 1),
        (date(2026, 8, 1), 1),
    ]


def test_weekly_trends_start_on_the_london_monday(manager):
    # Sunday 2 August 23:30 UTC is Monday 3 August 00:30 BST: a new week.
    IncidentFactory(
        created_at=datetime(2026, 8, 2, 23, 30, tzinfo=UTC), reporter=manager
    )
    IncidentFactory(
        created_at=datetime(2026, 8, 2, 22, 30, tzinfo=UTC), reporter=manager
    )

    rows = incident_trends(user=manager, group_by="severity", period="week")

    assert [(row["period_start"], row["count"]) for row in rows] == [
        (date(2026, 7, 27), 1),
        (date(2026, 8, 3), 1),
    ]


def test_trends_api_reports_the_london_month(as_manager, around_midnight):
    response = as_manager.get(TRENDS, {"group_by": "severity", "period": "month"})

    assert response.status_code == 200
    assert_conforms(response, TRENDS, "get")
    assert [
        (row["period_start"], row["count"]) for row in response.json()["results"]
    ] == [("2026-07-01", 1), ("2026-08-01", 1)]


# --- date filters ----------------------------------------------------------------


def test_created_after_a_day_starts_at_london_midnight(as_manager, around_midnight):
    response = as_manager.get(LIST, {"created_after": "2026-08-01"})

    assert refs(response) == {around_midnight["august"].reference}


def test_created_before_a_day_includes_the_whole_london_day(
    as_manager, around_midnight
):
    response = as_manager.get(LIST, {"created_before": "2026-07-31"})

    assert refs(response) == {around_midnight["july"].reference}


def test_a_one_day_range_is_that_london_day(as_manager, around_midnight):
    response = as_manager.get(
        LIST, {"created_after": "2026-08-01", "created_before": "2026-08-01"}
    )

    assert refs(response) == {around_midnight["august"].reference}


def test_winter_days_are_london_days_too(as_manager, manager):
    # In GMT London is UTC: 23:30 UTC on 31 January is still 31 January.
    january = IncidentFactory(
        created_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC), reporter=manager
    )

    assert refs(as_manager.get(LIST, {"created_after": "2026-02-01"})) == set()
    assert refs(as_manager.get(LIST, {"created_before": "2026-01-31"})) == {
        january.reference
    }


def test_a_date_time_with_a_zone_is_kept_as_given(as_manager, around_midnight):
    after = as_manager.get(LIST, {"created_after": "2026-07-31T23:00:00Z"})
    before = as_manager.get(LIST, {"created_before": "2026-07-31T23:00:00+00:00"})

    assert refs(after) == {around_midnight["august"].reference}
    assert refs(before) == {around_midnight["july"].reference}


def test_a_naive_date_time_is_read_in_london(as_manager, around_midnight):
    # 00:00 in London (BST) is 23:00 UTC the day before.
    response = as_manager.get(LIST, {"created_after": "2026-08-01T00:00:00"})

    assert refs(response) == {around_midnight["august"].reference}


def test_resolved_filters_use_london_days(as_manager, manager):
    resolved = IncidentFactory(
        resolved=True,
        reporter=manager,
        resolved_at=JUST_AFTER_LONDON_MIDNIGHT,
    )

    assert refs(as_manager.get(LIST, {"resolved_after": "2026-08-01"})) == {
        resolved.reference
    }
    assert refs(as_manager.get(LIST, {"resolved_before": "2026-07-31"})) == set()


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "2026-08-01T25:00"])
def test_a_bad_date_or_date_time_is_refused(as_manager, value):
    response = as_manager.get(LIST, {"created_after": value})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["created_after"]


def test_date_filters_compare_the_column_not_its_date(as_manager, around_midnight):
    # A comparison of created_at itself (not of a date cast of it) is what lets
    # the database use the created_at index.
    with CaptureQueriesContext(connection) as queries:
        as_manager.get(
            LIST, {"created_after": "2026-08-01", "created_before": "2026-08-02"}
        )

    listing = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "incidents_incident"' in q["sql"] and "created_at" in q["sql"]
    ]
    assert listing
    where = listing[-1].split("WHERE", 1)[1]
    assert '"incidents_incident"."created_at" >=' in where
    assert '"incidents_incident"."created_at" <' in where
    assert "cast_date" not in where.lower()  # SQLite's date cast
    assert "::date" not in where.lower()  # PostgreSQL's
