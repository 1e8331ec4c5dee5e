"""``make bench-scale``: the insights page, its API, the incidents list and its
search over many incidents (100,000 by default), with their query counts.

The incidents are written in bulk (``bulk_create``, no timeline: what is
measured only reads incidents and reviews), in a ``<name>_scale`` PostgreSQL
database beside ``DATABASE_URL`` (or a SQLite file under ``var/bench/``), spread
over two years, six types in two families, four severities, resolved mostly.
Each path is timed (median of 5 requests, in process) at a tenth of the size and
at the full size: the query counts must be the same at both. Targets: every
insights figure within 300 ms, the list and the search within 200 ms.

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
    """Add ``n`` incidents in bulk, numbered from ``start``."""
    from django.utils import timezone

    from incidentops.models import User
    from incidents.models import (
        Incident,
        IncidentFamily,
        IncidentType,
        SeverityLevel,
    )

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
            )
        )
        if len(batch) == 5000:
            Incident.objects.bulk_create(batch)
            batch = []
    if batch:
        Incident.objects.bulk_create(batch)


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
    manager = User.objects.create_user(
        "bench-manager", password="bench-password-1", is_superuser=True
    )
    manager.groups.add(*Group.objects.all())
    client = Client()
    client.login(username="bench-manager", password="bench-password-1")
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
                cursor.execute("ANALYZE")
        print(f"{size} incidents written in {time.perf_counter() - started:.1f} s")
        for label, path in PATHS.items():
            results.setdefault(label, {})[size] = measure(
                client, path.format(since=since)
            )
    print(f"\n{'':34}" + "".join(f"{size:>18}" for size in sizes))
    for label, by_size in results.items():
        cells = "".join(f"{q:>8} q {ms:>6.0f} ms" for q, ms in by_size.values())
        flat = "" if len({q for q, _ in by_size.values()}) == 1 else "  !! grows"
        print(f"{label:34}{cells}{flat}")
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


if __name__ == "__main__":
    main()
