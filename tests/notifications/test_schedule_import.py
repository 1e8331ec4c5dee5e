"""Importing schedules: PagerDuty REST API v2 JSON (a fixture written from its
public reference) and iCal, with an export -> re-import round trip."""

import json
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from notifications.models import Schedule, ScheduleOverride
from notifications.oncall import schedule_import
from notifications.oncall.schedule_ical import schedule_ical
from notifications.oncall.schedules import oncall, shifts
from tests.factories import UserFactory
from tests.notifications.schedule_factories import (
    make_layer,
    make_override,
    make_schedule,
    utc,
)

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "pagerduty_schedule.json"


@pytest.fixture
def people(db):
    return {
        name: UserFactory(username=name, email=f"{name}@example.com")
        for name in ("ann", "ben", "cat", "dan")
    }


def who(schedule, at):
    return [(e.user.username, e.layer) for e in oncall(schedule, at)]


def test_pagerduty_schedule_becomes_layers_with_restrictions(people):
    document = json.loads(FIXTURE.read_text())
    report = schedule_import.import_pagerduty(document)

    schedule = Schedule.objects.get(name="Checkout primary (PagerDuty)")
    assert report.created and report.layers == 2
    assert schedule.time_zone == "Europe/London"
    top, bottom = schedule.layers.order_by("-priority")
    assert (top.name, top.length_unit, top.length_count) == (
        "Business hours",
        "daily",
        1,
    )
    assert (bottom.name, bottom.length_unit) == ("Nights and weekends", "weekly")
    assert [p.user.username for p in bottom.participants.order_by("position")] == [
        "ann",
        "ben",
    ]
    assert len(top.restrictions) == 5
    # Tuesday 24 March (GMT): day turn 1 is dan's; in the evening ann's week.
    assert who(schedule, utc(2026, 3, 24, 10)) == [("dan", "Business hours")]
    assert who(schedule, utc(2026, 3, 24, 18)) == [("ann", "Nights and weekends")]
    # Tuesday 31 March (BST): 09:30 local is 08:30 UTC, 17:30 local 16:30 UTC.
    assert who(schedule, utc(2026, 3, 31, 8, 30)) == [("cat", "Business hours")]
    assert who(schedule, utc(2026, 3, 31, 16, 30)) == [("ben", "Nights and weekends")]


def test_pagerduty_reimport_updates_in_place(people):
    document = json.loads(FIXTURE.read_text())
    schedule_import.import_pagerduty(document)
    document["schedule"]["schedule_layers"][1]["rotation_turn_length_seconds"] = 86400
    report = schedule_import.import_pagerduty(document)
    assert not report.created
    schedule = Schedule.objects.get()
    assert schedule.layers.count() == 2
    assert schedule.layers.get(name="Nights and weekends").length_unit == "daily"


def test_pagerduty_unmatched_people_are_all_named_and_nothing_is_stored(people):
    people["dan"].delete()
    document = json.loads(FIXTURE.read_text())
    del document["users"][0]
    with pytest.raises(schedule_import.UnmatchedPeople) as refused:
        schedule_import.import_pagerduty(document)
    assert refused.value.unmatched == [
        "PUSR001 (Ann Ames): no e-mail in the file",
        "PUSR004 (Dan Dee) <dan@example.com>",
    ]
    assert Schedule.objects.count() == 0


def test_pagerduty_turns_must_be_whole_hours(people):
    document = json.loads(FIXTURE.read_text())
    document["schedule"]["schedule_layers"][0]["rotation_turn_length_seconds"] = 5400
    with pytest.raises(schedule_import.DomainError, match="whole hours"):
        schedule_import.import_pagerduty(document)
    assert Schedule.objects.count() == 0


def test_import_command_reports_and_refuses_unmatched(people, tmp_path):
    out = StringIO()
    call_command("import_schedule", str(FIXTURE), "--format", "pagerduty", stdout=out)
    assert "schedule 'Checkout primary (PagerDuty)' created: 2 layers" in out.getvalue()

    people["cat"].delete()
    Schedule.objects.all().delete()
    err = StringIO()
    with pytest.raises(CommandError, match="1 unmatched"):
        call_command(
            "import_schedule", str(FIXTURE), "--format", "pagerduty", stderr=err
        )
    assert "unmatched: PUSR003 (Cat Cole) <cat@example.com>" in err.getvalue()
    assert Schedule.objects.count() == 0


def test_ical_export_and_reimport_round_trip(people):
    # given a schedule across the spring change, with an override
    source = make_schedule(name="Checkout primary", time_zone="Europe/London")
    make_layer(source, [people["ann"], people["ben"]], start_date=date(2026, 3, 23))
    make_override(source, people["cat"], utc(2026, 3, 31, 12), utc(2026, 3, 31, 18))
    start, end = utc(2026, 3, 25), utc(2026, 4, 15)
    # when its feed is imported as another schedule
    text = schedule_ical(source, start=start, end=end, now=utc(2026, 3, 24))
    report = schedule_import.import_ical(text, start=start, end=end, name="Copy")
    # then both have the same people on call at the same times
    copy = Schedule.objects.get(name="Copy")
    assert report.shifts == 6
    assert copy.time_zone == "Europe/London"

    def plain(schedule):
        return [(s.user.username, s.start, s.end) for s in shifts(schedule, start, end)]

    assert plain(copy) == plain(source)
    assert plain(source)[1] == ("ben", utc(2026, 3, 30, 8), utc(2026, 3, 31, 12))
    # and importing again replaces, not doubles
    schedule_import.import_ical(text, start=start, end=end, name="Copy")
    assert ScheduleOverride.objects.filter(schedule=copy).count() == 6


GRAFANA_STYLE = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Grafana Labs//Grafana On-Call//\r
X-WR-CALNAME:Payments on-call\r
X-WR-TIMEZONE:America/New_York\r
BEGIN:VEVENT\r
UID:shift-1\r
DTSTART;TZID=America/New_York:20261026T090000\r
DTEND;TZID=America/New_York:20261027T090000\r
RRULE:FREQ=DAILY;INTERVAL=2\r
SUMMARY:ann\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:shift-2\r
DTSTART;TZID=America/New_York:20261027T090000\r
DTEND;TZID=America/New_York:20261028T090000\r
RRULE:FREQ=DAILY;INTERVAL=2\r
SUMMARY:[L1] ben@example.com\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_grafana_oncall_style_ical_with_recurrences_across_the_autumn_change(people):
    start, end = utc(2026, 10, 30), utc(2026, 11, 4)
    report = schedule_import.import_ical(GRAFANA_STYLE, start=start, end=end)
    schedule = Schedule.objects.get(name="Payments on-call")
    assert report.created and report.shifts == 6
    assert schedule.time_zone == "America/New_York"
    # 1 November 09:00 EST is 14:00 UTC: ben's turn (from 31 Oct) ends there.
    assert [(s.user.username, s.start, s.end) for s in shifts(schedule, start, end)][
        2:5
    ] == [
        ("ben", utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)),
        ("ann", utc(2026, 11, 1, 14), utc(2026, 11, 2, 14)),
        ("ben", utc(2026, 11, 2, 14), utc(2026, 11, 3, 14)),
    ]


def test_ical_unmatched_people_refuse_the_import(people):
    text = GRAFANA_STYLE.replace(b"SUMMARY:ann", b"SUMMARY:zed")
    with pytest.raises(schedule_import.UnmatchedPeople) as refused:
        schedule_import.import_ical(text, start=utc(2026, 10, 30), end=utc(2026, 11, 4))
    assert refused.value.unmatched == ["zed"]
    assert Schedule.objects.count() == 0
