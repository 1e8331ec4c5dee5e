"""``make bench``, part 3: "who is on call now" across many schedules.

500 schedules, each with 4 layers (weekly, daily with weekday 09-17
restrictions, 12-hour, nights) of 6 participants in zones on both sides of the
Atlantic, and 50 overrides (past, current and future), written in bulk. Times
``oncall_for(all schedules, now)`` — the question an escalation sweep asks —
end to end (the queries included), median of 7 runs, and checks that its query
count is the same at a tenth of the schedules. Target: 50 ms in total for 500
schedules on PostgreSQL. Also times one schedule's 14-day timeline (the
schedule page).

    python -m benchmarks.oncall [--schedules 500]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import date, timedelta

from benchmarks.__main__ import OUT, bench_environment

ZONES = ("Europe/London", "America/New_York", "Europe/Berlin", "America/Chicago")
LAYERS = 4
PARTICIPANTS = 6
OVERRIDES = 50
RUNS = 7


def populate(schedules: int) -> None:
    """Write ``schedules`` schedules with their layers, participants and overrides
    in bulk."""
    from django.utils import timezone

    from incidentops.models import User
    from notifications.models import (
        LayerParticipant,
        Schedule,
        ScheduleLayer,
        ScheduleOverride,
    )

    users = User.objects.bulk_create(
        User(username=f"oncall-{n}", email=f"oncall-{n}@example.com")
        for n in range(200)
    )
    weekdays = [
        {
            "type": "weekly_restriction",
            "start_day_of_week": day,
            "start_time_of_day": "09:00:00",
            "duration_seconds": 8 * 3600,
        }
        for day in range(1, 6)
    ]
    nights = [
        {
            "type": "daily_restriction",
            "start_time_of_day": "17:00:00",
            "duration_seconds": 16 * 3600,
        }
    ]
    shapes = [
        ("Weekly", "weekly", 1, []),
        ("Business hours", "daily", 1, weekdays),
        ("Twelve hours", "hours", 12, []),
        ("Nights", "daily", 1, nights),
    ]
    made = Schedule.objects.bulk_create(
        Schedule(name=f"Bench schedule {n}", time_zone=ZONES[n % len(ZONES)])
        for n in range(schedules)
    )
    layers = ScheduleLayer.objects.bulk_create(
        ScheduleLayer(
            schedule=schedule,
            name=name,
            priority=priority + 1,
            start_date=date(2025, 1, 6) + timedelta(days=n % 7),
            length_unit=unit,
            length_count=count,
            restrictions=restrictions,
        )
        for n, schedule in enumerate(made)
        for priority, (name, unit, count, restrictions) in enumerate(shapes[:LAYERS])
    )
    LayerParticipant.objects.bulk_create(
        LayerParticipant(
            layer=layer,
            user=users[(n * 7 + position) % len(users)],
            position=position,
        )
        for n, layer in enumerate(layers)
        for position in range(PARTICIPANTS)
    )
    now = timezone.now()
    ScheduleOverride.objects.bulk_create(
        ScheduleOverride(
            schedule=schedule,
            user=users[(n + k) % len(users)],
            # From 25 days ago to 25 days ahead, 6 hours each: about one in
            # twenty schedules has one covering now.
            start=now + timedelta(hours=24 * (k - 25) + n % 24),
            end=now + timedelta(hours=24 * (k - 25) + n % 24 + 6),
        )
        for n, schedule in enumerate(made)
        for k in range(OVERRIDES)
    )


def time_oncall(limit: int | None = None) -> tuple[float, int, int]:
    """Median ms of ``oncall_for`` over the first ``limit`` schedules (all when
    None), the queries one run takes, and how many schedules had someone."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from notifications.models import Schedule
    from notifications.oncall.schedules import oncall_for

    def run():
        schedules = Schedule.objects.order_by("pk")
        if limit:
            schedules = schedules[:limit]
        return oncall_for(list(schedules), timezone.now())

    # A running server has trained the triage model by now; the bench process
    # must not measure while its warm-up thread holds the interpreter.
    from incidents.triage_prior import prior_model

    prior_model()
    run()  # warm up
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        answer = run()
        timings.append((time.perf_counter() - started) * 1000)
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        answer = run()
    covered = sum(1 for entries in answer.values() if entries)
    return statistics.median(timings), len(queries), covered


def time_timeline() -> float:
    from django.utils import timezone

    from notifications.models import Schedule
    from notifications.oncall.schedules import shifts

    schedule = Schedule.objects.order_by("pk").first()
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        now = timezone.now()
        shifts(schedule, now, now + timedelta(days=14))
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def run(schedules: int = 500) -> dict:
    """Populate and measure (Django set up, database migrated). Returns the
    figures; ``flat`` is false when the query count grows with schedules."""
    populate(schedules)
    small_ms, small_queries, _ = time_oncall(max(1, schedules // 10))
    full_ms, full_queries, covered = time_oncall()
    return {
        "schedules": schedules,
        "layers_each": LAYERS,
        "participants_each_layer": PARTICIPANTS,
        "overrides_each": OVERRIDES,
        "oncall_now_ms": round(full_ms, 1),
        "oncall_now_queries": full_queries,
        "oncall_now_ms_at_a_tenth": round(small_ms, 1),
        "queries_at_a_tenth": small_queries,
        "schedules_with_someone_on_call": covered,
        "timeline_14_days_one_schedule_ms": round(time_timeline(), 1),
        "flat": small_queries == full_queries,
        "target_ms": 50,
    }


def report(result: dict) -> None:
    print(
        f"who is on call now, {result['schedules']} schedules x "
        f"{result['layers_each']} layers x {result['overrides_each']} overrides: "
        f"{result['oncall_now_ms']} ms, {result['oncall_now_queries']} queries "
        f"(a tenth: {result['oncall_now_ms_at_a_tenth']} ms, "
        f"{result['queries_at_a_tenth']} queries; target {result['target_ms']} ms)"
    )
    print(
        f"one schedule's 14-day timeline: {result['timeline_14_days_one_schedule_ms']} ms"
    )
    if not result["flat"]:
        print("  !! query count grows with the schedules")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=500)
    args = parser.parse_args()
    env = bench_environment()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(f"Database: {env['DATABASE_URL'].split('@')[-1]}")
    result = run(args.schedules)
    report(result)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "oncall.json").write_text(json.dumps(result, indent=2))
    if not result["flat"]:
        raise SystemExit("query counts are not flat")


if __name__ == "__main__":
    main()
