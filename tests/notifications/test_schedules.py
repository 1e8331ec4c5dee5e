"""Rotation arithmetic, layers, restrictions and overrides, with fixed expected
hand-offs across daylight-saving changes.

2026's changes: Europe/London goes to BST on 29 March at 01:00 UTC and back to
GMT on 25 October at 01:00 UTC; America/New_York goes to EDT on 8 March at
07:00 UTC and back to EST on 1 November at 06:00 UTC.
"""

from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.models import ScheduleLayer
from notifications.oncall.schedules import (
    OVERRIDE,
    oncall,
    oncall_for,
    oncall_users,
    shifts,
)
from tests.factories import UserFactory
from tests.notifications.schedule_factories import (
    make_layer,
    make_override,
    make_schedule,
    nights,
    utc,
    weekdays,
)

pytestmark = pytest.mark.django_db

DAILY = ScheduleLayer.Length.DAILY
WEEKLY = ScheduleLayer.Length.WEEKLY
HOURS = ScheduleLayer.Length.HOURS


@pytest.fixture
def people(db):
    return [UserFactory(username=name) for name in ("ann", "ben", "cat", "dan", "eve")]


def timeline(schedule, start, end):
    return [
        (shift.start, shift.end, shift.user.username, shift.layer)
        for shift in shifts(schedule, start, end)
    ]


def who(schedule, at) -> list[str]:
    return [user.username for user in oncall_users(schedule, at)]


# --- rotations --------------------------------------------------------------------


def test_weekly_london_handoff_stays_at_nine_local_when_summer_time_starts(people):
    ann, ben, cat, *_ = people
    schedule = make_schedule(time_zone="Europe/London")
    make_layer(schedule, [ann, ben, cat], start_date=date(2026, 3, 23))

    # 09:00 GMT on Monday 23 March is 09:00 UTC; 09:00 BST on 30 March is 08:00 UTC.
    assert who(schedule, utc(2026, 3, 23, 8, 59)) == []
    assert who(schedule, utc(2026, 3, 23, 9, 0)) == ["ann"]
    assert who(schedule, utc(2026, 3, 30, 7, 59)) == ["ann"]
    assert who(schedule, utc(2026, 3, 30, 8, 0)) == ["ben"]
    assert who(schedule, utc(2026, 4, 6, 8, 0)) == ["cat"]
    assert timeline(schedule, utc(2026, 3, 23), utc(2026, 4, 13)) == [
        (utc(2026, 3, 23, 9), utc(2026, 3, 30, 8), "ann", "Layer 1"),
        (utc(2026, 3, 30, 8), utc(2026, 4, 6, 8), "ben", "Layer 1"),
        (utc(2026, 4, 6, 8), utc(2026, 4, 13, 0), "cat", "Layer 1"),
    ]


def test_weekly_london_handoff_stays_at_nine_local_when_summer_time_ends(people):
    ann, ben, cat, *_ = people
    schedule = make_schedule(time_zone="Europe/London")
    make_layer(schedule, [ann, ben, cat], start_date=date(2026, 3, 23))

    # Turn 30 (ann's) starts Monday 19 October 09:00 BST and ends Monday
    # 26 October 09:00 GMT: 169 hours.
    [entry] = oncall(schedule, utc(2026, 10, 26, 8, 30))
    assert (entry.user.username, entry.start, entry.end) == (
        "ann",
        utc(2026, 10, 19, 8),
        utc(2026, 10, 26, 9),
    )
    assert who(schedule, utc(2026, 10, 26, 9)) == ["ben"]


def test_daily_new_york_turn_lasts_25_hours_when_clocks_go_back(people):
    ann, ben, *_ = people
    schedule = make_schedule(time_zone="America/New_York")
    make_layer(schedule, [ann, ben], start_date=date(2026, 10, 30), length_unit=DAILY)

    assert timeline(schedule, utc(2026, 10, 31), utc(2026, 11, 2)) == [
        (utc(2026, 10, 31), utc(2026, 10, 31, 13), "ann", "Layer 1"),
        (utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), "ben", "Layer 1"),
        (utc(2026, 11, 1, 14), utc(2026, 11, 2), "ann", "Layer 1"),
    ]
    assert who(schedule, utc(2026, 11, 1, 13, 30)) == ["ben"]
    assert who(schedule, utc(2026, 11, 1, 14)) == ["ann"]


def test_daily_new_york_turn_lasts_23_hours_when_clocks_go_forward(people):
    ann, ben, *_ = people
    schedule = make_schedule(time_zone="America/New_York")
    make_layer(schedule, [ann, ben], start_date=date(2026, 3, 6), length_unit=DAILY)

    # 7 March 09:00 EST = 14:00 UTC (ben); 8 March 09:00 EDT = 13:00 UTC (ann).
    [entry] = oncall(schedule, utc(2026, 3, 8, 12))
    assert (entry.user.username, entry.start, entry.end) == (
        "ben",
        utc(2026, 3, 7, 14),
        utc(2026, 3, 8, 13),
    )
    assert who(schedule, utc(2026, 3, 8, 13)) == ["ann"]


def test_every_two_days_rotation(people):
    ann, ben, cat, *_ = people
    schedule = make_schedule(time_zone="UTC")
    make_layer(
        schedule,
        [ann, ben, cat],
        start_date=date(2026, 1, 1),
        handoff_time=time(8, 30),
        length_unit=DAILY,
        length_count=2,
    )
    assert who(schedule, utc(2026, 1, 3, 8, 29)) == ["ann"]
    assert who(schedule, utc(2026, 1, 3, 8, 30)) == ["ben"]
    assert who(schedule, utc(2026, 1, 7, 8, 30)) == ["ann"]
    # Turn 181 runs 29 December 08:30 to 31 December 08:30: 181 mod 3 = 1 -> ben.
    [entry] = oncall(schedule, utc(2026, 12, 31))
    assert (entry.user.username, entry.start, entry.end) == (
        "ben",
        utc(2026, 12, 29, 8, 30),
        utc(2026, 12, 31, 8, 30),
    )


def test_twelve_hour_london_shifts_keep_local_handoffs_across_the_change(people):
    ann, ben, *_ = people
    schedule = make_schedule(time_zone="Europe/London")
    make_layer(
        schedule,
        [ann, ben],
        start_date=date(2026, 3, 28),
        length_unit=HOURS,
        length_count=12,
    )
    assert timeline(schedule, utc(2026, 3, 28, 9), utc(2026, 3, 30, 8)) == [
        (utc(2026, 3, 28, 9), utc(2026, 3, 28, 21), "ann", "Layer 1"),
        (utc(2026, 3, 28, 21), utc(2026, 3, 29, 8), "ben", "Layer 1"),
        (utc(2026, 3, 29, 8), utc(2026, 3, 29, 20), "ann", "Layer 1"),
        (utc(2026, 3, 29, 20), utc(2026, 3, 30, 8), "ben", "Layer 1"),
    ]


def test_hourly_turn_inside_the_skipped_hour_is_passed_over(people):
    ann, ben, cat, *_ = people
    schedule = make_schedule(time_zone="Europe/London")
    make_layer(
        schedule,
        [ann, ben, cat],
        start_date=date(2026, 3, 29),
        handoff_time=time(0, 0),
        length_unit=HOURS,
        length_count=1,
    )
    # 01:00-02:00 local does not exist on 29 March: ben's turn lasts no time.
    assert timeline(schedule, utc(2026, 3, 29, 0), utc(2026, 3, 29, 3)) == [
        (utc(2026, 3, 29, 0), utc(2026, 3, 29, 1), "ann", "Layer 1"),
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2), "cat", "Layer 1"),
        (utc(2026, 3, 29, 2), utc(2026, 3, 29, 3), "ann", "Layer 1"),
    ]
    assert who(schedule, utc(2026, 3, 29, 1, 30)) == ["cat"]


def test_hourly_turn_across_the_repeated_hour_lasts_two_hours(people):
    ann, ben, cat, *_ = people
    schedule = make_schedule(time_zone="Europe/London")
    make_layer(
        schedule,
        [ann, ben, cat],
        start_date=date(2026, 10, 25),
        handoff_time=time(0, 0),
        length_unit=HOURS,
        length_count=1,
    )
    # 01:00 BST is 00:00 UTC; the next local hour, 02:00 GMT, is 02:00 UTC.
    [entry] = oncall(schedule, utc(2026, 10, 25, 1, 30))
    assert (entry.user.username, entry.start, entry.end) == (
        "ben",
        utc(2026, 10, 25, 0),
        utc(2026, 10, 25, 2),
    )


# --- layers and restrictions ---------------------------------------------------------


def test_higher_layer_with_weekday_restrictions_covers_the_lower_in_local_hours(people):
    ann, ben, cat, dan, *_ = people
    schedule = make_schedule(time_zone="Europe/London")
    make_layer(
        schedule,
        [ann, ben],
        name="Nights and weekends",
        priority=1,
        start_date=date(2026, 3, 23),
    )
    make_layer(
        schedule,
        [cat, dan],
        name="Business hours",
        priority=2,
        start_date=date(2026, 3, 23),
        length_unit=DAILY,
        restrictions=weekdays("09:00:00", 8),
    )
    # Tuesday 24 March (GMT): day turn 1 is dan's.
    assert who(schedule, utc(2026, 3, 24, 10)) == ["dan"]
    assert oncall(schedule, utc(2026, 3, 24, 10))[0].layer == "Business hours"
    assert who(schedule, utc(2026, 3, 24, 18)) == ["ann"]
    # Saturday: no business hours.
    assert who(schedule, utc(2026, 3, 28, 10)) == ["ann"]
    # Tuesday 31 March (BST): 09:30 local is 08:30 UTC; 17:30 local is 16:30 UTC.
    assert who(schedule, utc(2026, 3, 31, 7, 30)) == ["ben"]
    assert who(schedule, utc(2026, 3, 31, 8, 30)) == ["cat"]
    assert who(schedule, utc(2026, 3, 31, 15, 59)) == ["cat"]
    assert who(schedule, utc(2026, 3, 31, 16, 0)) == ["ben"]
    assert timeline(schedule, utc(2026, 3, 31), utc(2026, 4, 1)) == [
        (utc(2026, 3, 31), utc(2026, 3, 31, 8), "ben", "Nights and weekends"),
        (utc(2026, 3, 31, 8), utc(2026, 3, 31, 16), "cat", "Business hours"),
        (utc(2026, 3, 31, 16), utc(2026, 4, 1), "ben", "Nights and weekends"),
    ]


def test_night_restriction_in_new_york_across_the_autumn_change(people):
    ann, ben, cat, *_ = people
    schedule = make_schedule(time_zone="America/New_York")
    make_layer(schedule, [ann], name="Days", priority=1, start_date=date(2026, 10, 26))
    make_layer(
        schedule,
        [ben, cat],
        name="Nights",
        priority=2,
        start_date=date(2026, 10, 26),
        handoff_time=time(17, 0),
        length_unit=DAILY,
        restrictions=nights("17:00:00", 16),
    )
    # The night of 31 October runs 17:00 EDT (21:00 UTC) to 09:00 EST (14:00 UTC).
    assert timeline(schedule, utc(2026, 10, 31, 12), utc(2026, 11, 1, 23)) == [
        (utc(2026, 10, 31, 12), utc(2026, 10, 31, 13), "ben", "Nights"),
        (utc(2026, 10, 31, 13), utc(2026, 10, 31, 21), "ann", "Days"),
        (utc(2026, 10, 31, 21), utc(2026, 11, 1, 14), "cat", "Nights"),
        (utc(2026, 11, 1, 14), utc(2026, 11, 1, 22), "ann", "Days"),
        (utc(2026, 11, 1, 22), utc(2026, 11, 1, 23), "ben", "Nights"),
    ]
    assert who(schedule, utc(2026, 11, 1, 13, 30)) == ["cat"]
    assert who(schedule, utc(2026, 11, 1, 14, 30)) == ["ann"]


def test_a_gap_in_every_layer_means_nobody_is_on_call(people):
    ann, *_ = people
    schedule = make_schedule(time_zone="UTC")
    make_layer(
        schedule,
        [ann],
        start_date=date(2026, 1, 5),
        restrictions=weekdays("09:00:00", 8),
    )
    assert who(schedule, utc(2026, 1, 10, 12)) == []
    assert oncall(schedule, utc(2026, 1, 10, 12)) == []


def test_layer_active_until_hands_over_to_the_layer_below(people):
    ann, ben, *_ = people
    schedule = make_schedule(time_zone="UTC")
    make_layer(schedule, [ann], priority=1, start_date=date(2026, 1, 5))
    make_layer(
        schedule,
        [ben],
        priority=2,
        start_date=date(2026, 1, 5),
        active_until=utc(2026, 2, 1),
    )
    assert who(schedule, utc(2026, 1, 31, 23)) == ["ben"]
    assert who(schedule, utc(2026, 2, 1)) == ["ann"]


def test_a_layer_without_participants_is_empty(people):
    ann, *_ = people
    schedule = make_schedule(time_zone="UTC")
    make_layer(schedule, [ann], priority=1)
    make_layer(schedule, [], priority=2)
    assert who(schedule, utc(2026, 3, 1)) == ["ann"]


def test_restrictions_are_validated_with_a_reason():
    layer = ScheduleLayer(
        name="x",
        start_date=date(2026, 1, 1),
        restrictions=[{"type": "weekly_restriction", "start_time_of_day": "09:00"}],
    )
    with pytest.raises(ValidationError, match="duration_seconds"):
        layer.clean_fields(exclude=["schedule"])
    layer.restrictions = [
        {
            "type": "weekly_restriction",
            "start_time_of_day": "09:00",
            "duration_seconds": 3600,
            "start_day_of_week": 8,
        }
    ]
    with pytest.raises(ValidationError, match="start_day_of_week"):
        layer.clean_fields(exclude=["schedule"])


# --- overrides ------------------------------------------------------------------------


def test_overrides_cover_every_layer_and_the_latest_wins(people):
    ann, ben, cat, dan, eve = people
    schedule = make_schedule(time_zone="Europe/London")
    make_layer(schedule, [ann, ben], priority=1, start_date=date(2026, 3, 23))
    make_layer(schedule, [cat], priority=2, start_date=date(2026, 3, 23))
    make_override(schedule, dan, utc(2026, 3, 24, 12), utc(2026, 3, 24, 14))
    make_override(schedule, eve, utc(2026, 3, 24, 13), utc(2026, 3, 24, 13, 30))

    assert who(schedule, utc(2026, 3, 24, 11, 59)) == ["cat"]
    [entry] = oncall(schedule, utc(2026, 3, 24, 12, 30))
    assert (entry.user.username, entry.layer, entry.start, entry.end) == (
        "dan",
        OVERRIDE,
        utc(2026, 3, 24, 12),
        utc(2026, 3, 24, 14),
    )
    assert who(schedule, utc(2026, 3, 24, 13, 15)) == ["eve"]
    assert who(schedule, utc(2026, 3, 24, 14)) == ["cat"]
    assert timeline(schedule, utc(2026, 3, 24, 11), utc(2026, 3, 24, 15)) == [
        (utc(2026, 3, 24, 11), utc(2026, 3, 24, 12), "cat", "Layer 2"),
        (utc(2026, 3, 24, 12), utc(2026, 3, 24, 13), "dan", OVERRIDE),
        (utc(2026, 3, 24, 13), utc(2026, 3, 24, 13, 30), "eve", OVERRIDE),
        (utc(2026, 3, 24, 13, 30), utc(2026, 3, 24, 14), "dan", OVERRIDE),
        (utc(2026, 3, 24, 14), utc(2026, 3, 24, 15), "cat", "Layer 2"),
    ]


def test_an_override_fills_a_gap(people):
    ann, ben, *_ = people
    schedule = make_schedule(time_zone="UTC")
    make_layer(schedule, [ann], start_date=date(2026, 1, 5), restrictions=weekdays())
    make_override(schedule, ben, utc(2026, 1, 10), utc(2026, 1, 11))
    assert who(schedule, utc(2026, 1, 10, 3)) == ["ben"]
    assert who(schedule, utc(2026, 1, 11, 3)) == []


# --- the bulk answer ------------------------------------------------------------------


def test_oncall_for_many_schedules_takes_the_same_queries_as_for_one(people):
    ann, ben, cat, dan, eve = people
    schedules = []
    for n in range(6):
        schedule = make_schedule(name=f"S{n}", time_zone="Europe/London")
        make_layer(schedule, [ann, ben], priority=1, start_date=date(2026, 3, 23))
        make_layer(
            schedule,
            [cat, dan],
            priority=2,
            start_date=date(2026, 3, 23),
            restrictions=weekdays(),
        )
        make_override(schedule, eve, utc(2026, 3, 24, 12), utc(2026, 3, 24, 13 + n))
        schedules.append(schedule)
    at = utc(2026, 3, 24, 13, 30)

    with CaptureQueriesContext(connection) as for_one:
        one = oncall_for(schedules[:1], at)
    with CaptureQueriesContext(connection) as for_many:
        many = oncall_for(schedules, at)

    expected = 3 if connection.features.supports_aggregate_order_by_clause else 4
    assert len(for_one) == len(for_many) == expected

    assert [e.user.username for e in one[schedules[0].pk]] == ["cat"]
    assert [many[s.pk][0].user.username for s in schedules] == [
        "cat",
        "eve",
        "eve",
        "eve",
        "eve",
        "eve",
    ]


def test_naive_times_are_refused(people):
    schedule = make_schedule()
    with pytest.raises(ValueError, match="aware"):
        oncall_users(schedule, datetime(2026, 1, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="after"):
        shifts(schedule, utc(2026, 1, 2), utc(2026, 1, 1))
