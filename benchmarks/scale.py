"""``make bench-scale``: the insights page, its API, the incidents list and its
search over many incidents (100,000 by default), with their query counts.

The incidents are written in bulk (``bulk_create``, no timeline: what is
measured only reads incidents and reviews), in a ``<name>_scale`` PostgreSQL
database beside ``DATABASE_URL`` (or a SQLite file under ``var/bench/``), spread
over two years, six types in two families, four severities, resolved mostly.
Nine in ten resolved incidents have a review (half of them published late, a
few not yet), each with a follow-up; one in a hundred incidents is restricted
(the manager's group granted on half of those). Each path is timed (median of 5
requests, in process) at a tenth of the size and at the full size, as an
incident manager (not a superuser: the visibility rule is part of every query),
and so is each insights figure on its own (``incidents.insights`` and the
reviews panel's ``review_figures``). The query counts must be the same at both
sizes. Targets: every insights figure within 300 ms, the list and the search
within 200 ms.

    python -m benchmarks.scale [--incidents 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import timedelta

from benchmarks.__main__ import (
    OUT,
    _recreate_postgres_database,
    bench_environment,
    measure,
)

WORDS = (
    "checkout latency errors database failover certificate expired queue backlog "
    "carrier missed collection warehouse scanner outage phishing account payroll "
    "export supplier recall firmware rollback config pool exhausted dns"
).split()
PATHS = {
    "insights page (365 days)": "/insights/",
    "insights page (2 years, by week)": "/insights/?since={since}&period=week",
    "insights API": "/api/v1/analytics/insights/",
    "insights CSV": "/insights/?format=csv",
    "incidents list": "/incidents/",
    "incidents search (one word)": "/incidents/?q=failover",
    "incidents search + filters": "/incidents/?q=rollback&severity=SEV-2&sort=severity",
    "metrics": "/metrics",
}


def populate(n: int, *, start: int) -> None:
    """Add ``n`` incidents in bulk, numbered from ``start``, with their reviews,
    follow-ups and the grants of the restricted ones."""
    from django.contrib.auth.models import Group
    from django.utils import timezone
    from guardian.shortcuts import assign_perm

    from incidentops.models import User
    from incidents.models import (
        Incident,
        IncidentFamily,
        IncidentType,
        SeverityLevel,
    )
    from reviews.models import FollowUp, Review

    rng = random.Random(start)
    families = [
        IncidentFamily.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        for slug, name in (("service", "Service"), ("supply", "Supply chain"))
    ]
    types = [
        IncidentType.objects.get_or_create(
            slug=f"bench-type-{i}",
            defaults={"name": f"Bench type {i}", "family": families[i % 2]},
        )[0]
        for i in range(6)
    ]
    levels = list(SeverityLevel.objects.order_by("rank"))
    manager = User.objects.get(username="bench-manager")
    now = timezone.now()
    batch = []
    for i in range(start, start + n):
        detected = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        ack = detected + timedelta(seconds=rng.randrange(30, 3600))
        resolved = ack + timedelta(seconds=rng.randrange(600, 6 * 3600))
        done = i % 10 != 0
        words = " ".join(rng.sample(WORDS, 4))
        level = levels[i % 4]
        batch.append(
            Incident(
                reference=f"BENCH-{i:07d}",
                title=f"{words} ({i})",
                description=f"Customers saw {words}.",
                resolution_summary=f"Fixed the {rng.choice(WORDS)}." if done else "",
                status="resolved" if done else "investigating",
                created_at=detected,
                impact_started_at=detected - timedelta(seconds=rng.randrange(0, 900)),
                detected_at=detected,
                acknowledged_at=ack,
                mitigated_at=resolved if done else None,
                resolved_at=resolved if done else None,
                incident_type=types[i % 6],
                severity=level,
                suggested_severity=levels[(i + (i % 3 == 0)) % 4],
                severity_confirmed_by=manager,
                severity_confirmed_at=ack,
                reporter=manager,
                affected_services=[f"svc-{i % 40}"],
                restricted=i % 100 == 7,
                integration=None,
            )
        )
        if len(batch) == 5000:
            _write(batch, Incident, Review, FollowUp)
            batch = []
    if batch:
        _write(batch, Incident, Review, FollowUp)
    managers = Group.objects.get(name="Incident managers")
    granted = Incident.objects.filter(
        restricted=True, reference__gte=f"BENCH-{start:07d}"
    )
    for incident in granted[: max(1, granted.count() // 2)]:
        assign_perm("incidents.view_incident", managers, incident)


def _write(batch, Incident, Review, FollowUp) -> None:
    Incident.objects.bulk_create(batch)
    reviews = []
    for incident in batch:
        if incident.resolved_at is None:
            continue
        number = incident.pk
        due = incident.resolved_at + timedelta(days=5)
        published = (
            None if number % 20 == 0 else due + timedelta(days=2 if number % 2 else -2)
        )
        reviews.append(
            Review(
                incident=incident,
                severity_code=f"SEV-{1 + number % 4}",
                status="published" if published else "draft",
                due_at=due,
                created_at=incident.resolved_at,
                published_at=published,
            )
        )
    Review.objects.bulk_create(reviews)
    FollowUp.objects.bulk_create(
        FollowUp(
            review=review,
            title="Add an alert",
            status="open" if review.pk % 3 == 0 else "done",
            created_at=review.created_at,
        )
        for review in reviews
    )


def figures(user, since) -> dict:
    """Each insights figure on its own, as the page computes it: the last 365
    days by month, and two years by week."""
    from datetime import date

    from incidents import insights
    from reviews.insights import review_figures

    year = insights.InsightFilters().resolved()
    two_years = insights.InsightFilters(
        since=date.fromisoformat(since), period="week"
    ).resolved()
    out = {}
    for suffix, f in (("", year), (", 2 years by week", two_years)):
        out.update(
            {
                f"figure: volume{suffix}": lambda f=f: insights.volume(user, f),
                f"figure: response by type{suffix}": lambda f=f: (
                    insights.response_times(user, f, group_by="incident_type")
                ),
                f"figure: response by severity{suffix}": lambda f=f: (
                    insights.response_times(user, f, group_by="severity")
                ),
                f"figure: recurring types{suffix}": lambda f=f: (
                    insights.recurring_types(user, f)
                ),
                f"figure: recurring services{suffix}": lambda f=f: (
                    insights.recurring_services(user, f)
                ),
                f"figure: triage agreement{suffix}": lambda f=f: (
                    insights.triage_agreement(user, f)
                ),
                f"figure: alert noise{suffix}": lambda f=f: insights.alert_noise(
                    user, f
                ),
                f"figure: reviews (timeliness, follow-ups){suffix}": lambda f=f: (
                    review_figures(user, f)
                ),
            }
        )
    return out


def measure_call(figure, repeats: int = 5) -> tuple[int, float]:
    """Queries and median milliseconds of calling ``figure`` (its result read
    in full, as a page would)."""
    import statistics

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    queries = 0
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            json.dumps(figure(), default=str)
            timings.append((time.perf_counter() - started) * 1000)
        queries = len(captured)
    return queries, statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()
    env = bench_environment()
    url = env["DATABASE_URL"]
    if url.startswith(("postgres://", "postgresql://")):
        scale_url = url.replace("_bench", "_scale")
        _recreate_postgres_database(url, scale_url.rsplit("/", 1)[1])
        env["DATABASE_URL"] = scale_url
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from incidentops.models import User

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    User.objects.create_user("bench-manager", is_superuser=True)
    # Who reads insights: an incident manager (also a reviewer and an
    # executive), not a superuser, so visibility is in every query.
    reader = User.objects.create_user("bench-reader", password="bench-password-1")
    reader.groups.add(
        *Group.objects.filter(
            name__in=["Incident managers", "Reviewers", "Executives", "Responders"]
        )
    )
    client = Client()
    client.login(username="bench-reader", password="bench-password-1")
    since = (timezone.now() - timedelta(days=730)).date().isoformat()
    sizes = [args.incidents // 10, args.incidents]
    results: dict[str, dict[int, tuple[int, float]]] = {}
    total = 0
    print(f"Database: {env['DATABASE_URL'].split('@')[-1]} ({connection.vendor})")
    for size in sizes:
        started = time.perf_counter()
        populate(size - total, start=total)
        total = size
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # what autovacuum does in time: statistics and the visibility
                # map (index-only scans)
                cursor.execute("VACUUM ANALYZE")
        print(f"{size} incidents written in {time.perf_counter() - started:.1f} s")
        for label, path in PATHS.items():
            results.setdefault(label, {})[size] = measure(
                client, path.format(since=since)
            )
        for label, figure in figures(reader, since).items():
            results.setdefault(label, {})[size] = measure_call(figure)
    print(f"\n{'':52}" + "".join(f"{size:>18}" for size in sizes))
    grows = False
    for label, by_size in results.items():
        cells = "".join(f"{q:>8} q {ms:>6.0f} ms" for q, ms in by_size.values())
        flat = "" if len({q for q, _ in by_size.values()}) == 1 else "  !! grows"
        grows = grows or bool(flat)
        print(f"{label:52}{cells}{flat}")
    print(f"load average: {os.getloadavg()}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scale.json").write_text(
        json.dumps(
            {
                label: {str(k): v for k, v in by.items()}
                for label, by in results.items()
            },
            indent=2,
        )
    )
    if grows:
        raise SystemExit("query counts are not flat")


if __name__ == "__main__":
    main()
