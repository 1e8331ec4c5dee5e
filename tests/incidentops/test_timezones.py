"""The organisation's time zone, asked in one place."""

from datetime import UTC, date, datetime, time

from incidentops import timezones


def test_a_local_day_starts_at_local_midnight(settings):
    settings.INCIDENTOPS_TIME_ZONE = "Europe/London"
    # summer time: midnight in London is 23:00 UTC the day before
    assert timezones.org_midnight(date(2026, 7, 1)) == datetime(
        2026, 6, 30, 23, 0, tzinfo=UTC
    )
    # winter: the same as UTC
    assert timezones.org_midnight(date(2026, 12, 1)) == datetime(
        2026, 12, 1, tzinfo=UTC
    )


def test_local_instants_and_shown_times_follow_the_setting(settings):
    settings.INCIDENTOPS_TIME_ZONE = "America/New_York"
    end_of_day = timezones.local_instant(date(2026, 1, 5), time(23, 59, 59))
    assert end_of_day == datetime(2026, 1, 6, 4, 59, 59, tzinfo=UTC)
    shown = timezones.org_localtime(datetime(2026, 1, 6, 4, 59, 59, tzinfo=UTC))
    assert (shown.day, shown.hour, timezones.org_zone_name()) == (
        5,
        23,
        "America/New_York",
    )
