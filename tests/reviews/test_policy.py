"""Due-date arithmetic: business days in the organisation's time zone."""

from datetime import UTC, date, datetime

import pytest

from incidents.models import SeverityLevel
from reviews.models import ReviewPolicy
from reviews.policy import (
    add_business_days,
    due_after,
    effective_policy,
    reminder_instants,
    subtract_business_days,
)


def test_add_business_days_skips_the_weekend():
    # Thursday + 2 business days is Monday.
    assert add_business_days(date(2026, 6, 4), 2) == date(2026, 6, 8)


def test_add_business_days_from_a_saturday_counts_from_monday():
    assert add_business_days(date(2026, 6, 6), 1) == date(2026, 6, 8)
    assert add_business_days(date(2026, 6, 6), 5) == date(2026, 6, 12)


def test_subtract_business_days_skips_the_weekend():
    assert subtract_business_days(date(2026, 6, 8), 1) == date(2026, 6, 5)
    assert subtract_business_days(date(2026, 6, 7), 0) == date(2026, 6, 5)


@pytest.mark.django_db
def test_due_is_end_of_the_local_business_day(settings):
    settings.INCIDENTOPS_TIME_ZONE = "Europe/London"
    # Friday 23:30 UTC is already Saturday 00:30 in London (BST): counting starts
    # from Saturday, so 5 business days is the Friday after.
    due = due_after(datetime(2026, 6, 5, 23, 30, tzinfo=UTC), 5)
    assert due == datetime(2026, 6, 12, 22, 59, 59, tzinfo=UTC)


@pytest.mark.django_db
def test_due_date_depends_on_the_organisation_time_zone(settings):
    resolved = datetime(2026, 6, 5, 23, 30, tzinfo=UTC)  # Friday in UTC
    settings.INCIDENTOPS_TIME_ZONE = "America/New_York"
    # Still Friday 19:30 in New York: 5 business days is next Friday.
    assert due_after(resolved, 5) == datetime(2026, 6, 13, 3, 59, 59, tzinfo=UTC)
    settings.INCIDENTOPS_TIME_ZONE = "Asia/Tokyo"
    # Saturday 08:30 in Tokyo: next Friday too, but end of day in Tokyo.
    assert due_after(resolved, 5) == datetime(2026, 6, 12, 14, 59, 59, tzinfo=UTC)


@pytest.mark.django_db
def test_due_date_across_a_dst_change_keeps_local_end_of_day(settings):
    settings.INCIDENTOPS_TIME_ZONE = "Europe/London"
    # Resolved Thursday 22 Oct 2026 (BST); due 5 business days later, Thursday
    # 29 Oct, after the clocks went back: 23:59:59 GMT.
    due = due_after(datetime(2026, 10, 22, 12, 0, tzinfo=UTC), 5)
    assert due == datetime(2026, 10, 29, 23, 59, 59, tzinfo=UTC)


@pytest.mark.django_db
def test_reminders_are_business_day_mornings_before_due(settings):
    settings.INCIDENTOPS_TIME_ZONE = "Europe/London"
    due = datetime(2026, 6, 8, 22, 59, 59, tzinfo=UTC)  # Monday, end of day
    assert reminder_instants(due, [2, 0]) == [
        datetime(2026, 6, 4, 8, 0, tzinfo=UTC),  # Thursday 09:00 BST
        datetime(2026, 6, 8, 8, 0, tzinfo=UTC),  # Monday 09:00 BST
    ]


@pytest.mark.django_db
def test_defaults_apply_when_no_policy_is_configured():
    ReviewPolicy.objects.all().delete()
    sev1 = effective_policy("SEV-1")
    assert sev1.mode == "individual" and sev1.due_business_days == 5
    assert {"group": "Executives", "count": 1} in sev1.approvals
    assert effective_policy("SEV-2").due_business_days == 10
    assert effective_policy("SEV-3").mode == "batch"
    assert effective_policy("SEV-4").mode == "batch"
    assert effective_policy(None).severity_code == "SEV-2"


@pytest.mark.django_db
def test_configured_policy_overrides_the_defaults():
    policy = ReviewPolicy.objects.get(severity=SeverityLevel.objects.get(code="SEV-2"))
    policy.due_business_days = 3
    policy.save()
    assert effective_policy("SEV-2").due_business_days == 3
