"""``make bench``: how IncidentOps behaves as data and load grow.

1. Query counts and timings of the hot pages and endpoints at 10, 100 and 1000
   incidents (each built through the services, with commanders, actions, updates and
   timelines). The counts must stay flat: a count that grows with the data is an N+1
   and fails the run.
2. Load on a real gunicorn server on loopback: an alert storm (many concurrent
   deliveries over a few dedup keys — exactly one incident per key must result),
   the Alertmanager intake workload (``benchmarks/ingest.py``: 1,000 new groups and
   1,000 repeats, end to end, latency and CPU per delivery) and concurrent API
   reads; throughput and latency percentiles; the live pages (``benchmarks/live.py``:
   50 open pages polling with ETags while incidents change: requests/s, 304
   share, propagation time, queries per refresh).
3. "Who is on call now" over 500 schedules of 4 layers and 50 overrides each
   (``benchmarks/oncall.py``): time and query count, which must be flat.
4. Escalation (``benchmarks/escalation.py``): 1,000 running escalations falling
   due at once: the lag from due to each page's e-mail going out, and the
   sweep's queries (flat per escalation).
5. Importing history (``benchmarks/importing.py``): 10,000 past incidents from
   a native CSV, the same as JSON, and a PagerDuty export, each timed with
   ``import_incidents``, and the CSV again (every row unchanged).

Uses ``DATABASE_URL`` (a ``<name>_bench`` database beside it, PostgreSQL) or a
throw-away SQLite file under ``var/bench/``. Results are printed and written to
``var/bench/results.json``.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "bench"


def bench_environment() -> dict[str, str]:
    """Environment for this process and the server: a dedicated database."""
    env = dict(os.environ)
    url = env.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(url)
        name = parts.path.lstrip("/") or "incidentops"
        bench_name = f"{name}_bench"
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_name}"))
        _recreate_postgres_database(url, bench_name)
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        db = OUT / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db}"
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "incidentops.settings",
            "DEBUG": "false",
            "SECRET_KEY": "benchmark-only-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def _recreate_postgres_database(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


# --- 1. query counts -----------------------------------------------------------


def populate(n: int, *, start: int) -> None:
    """Add ``n`` incidents through the services, most of them resolved."""
    from django.utils import timezone

    from incidentops.models import User
    from incidents import services
    from incidents.events import history_import
    from incidents.models import Incident, Role, SeverityLevel

    manager = User.objects.get(username="bench-manager")
    commander = Role.objects.get(slug="commander")
    levels = list(SeverityLevel.objects.order_by("rank"))
    now = timezone.now()
    with history_import():
        for i in range(start, start + n):
            at = now - timezone.timedelta(hours=i + 1)
            incident = services.incident_declare(
                actor=manager,
                title=f"Checkout latency above SLO in region {i % 7} ({i})",
                description="p99 latency above 2 s for card payments.",
                customer_facing=i % 3 == 0,
                now=at,
            )
            services.incident_confirm_severity(
                incident=incident, actor=manager, severity=levels[i % 4], now=at
            )
            services.incident_assign_role(
                incident=incident, actor=manager, role=commander, user=manager, now=at
            )
            services.action_create(
                incident=incident, actor=manager, title="Roll back release", now=at
            )
            services.stakeholder_update_post(
                incident=incident, actor=manager, body="Investigating.", now=at
            )
            if i % 5:  # four in five are history; the rest stay on the board
                for status in (
                    Incident.Status.INVESTIGATING,
                    Incident.Status.MITIGATED,
                    Incident.Status.RESOLVED,
                ):
                    services.incident_transition(
                        incident=incident, actor=manager, status=status, now=at
                    )


def measure(client, path: str, repeats: int = 5) -> tuple[int, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings = []
    queries = 0
    for _ in range(repeats):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        queries = len(captured)
    return queries, statistics.median(timings)


def query_counts(sizes: list[int]) -> dict:
    from django.test import Client

    from incidents.models import Incident

    client = Client()
    client.login(username="bench-manager", password="bench-password-1")
    results: dict[str, dict[int, tuple[int, float]]] = {}
    total = 0
    for size in sizes:
        populate(size - total, start=total)
        total = size
        # the same incident every round: the data grows around it
        sample = Incident.objects.order_by("pk").first()
        paths = {
            "status board /": "/",
            "API incident list (100)": "/api/v1/incidents/?page_size=100",
            "incident page": f"/incidents/{sample.reference}/",
            "API timeline": f"/api/v1/incidents/{sample.pk}/timeline/",
            "API trends (month)": "/api/v1/analytics/trends/"
            "?group_by=severity&period=month",
            "insights page": "/insights/",
            "API insights": "/api/v1/analytics/insights/",
            "incidents list": "/incidents/",
            "incidents search": "/incidents/?q=latency",
        }
        for label, path in paths.items():
            results.setdefault(label, {})[size] = measure(client, path)
    return results


# --- 2. load on a real server -------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url: str, *, data: bytes | None = None, headers: dict) -> tuple[int, float]:
    started = time.perf_counter()
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            response.read()
            code = response.status
    except urllib.error.HTTPError as error:
        code = error.code
    return code, (time.perf_counter() - started) * 1000


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50_ms": pick(0.50), "p95_ms": pick(0.95), "p99_ms": pick(0.99)}


def run_load(jobs, *, concurrency: int) -> dict:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        outcomes = list(pool.map(lambda job: job(), jobs))
    elapsed = time.perf_counter() - started
    codes: dict[int, int] = {}
    for code, _ in outcomes:
        codes[code] = codes.get(code, 0) + 1
    return {
        "requests": len(outcomes),
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "per_second": round(len(outcomes) / elapsed, 1),
        "status_codes": codes,
        **percentiles([ms for _, ms in outcomes]),
    }


def load(env: dict, *, deliveries: int, reads: int, only: str = "") -> dict:
    from rest_framework.authtoken.models import Token

    from benchmarks import ingest
    from incidentops.models import User
    from incidents.models import Incident
    from incidents.services import integration_create

    bot = User.objects.create(username="bench-bot", is_service_account=True)
    integration, secret = integration_create(
        actor=None,
        name="bench-generic",
        kind="generic",
        service_account=bot,
        rate_limit_per_minute=1_000_000,
    )
    am_bot = User.objects.create(username="bench-am-bot", is_service_account=True)
    alertmanager, am_secret = integration_create(
        actor=None,
        name="bench-alertmanager",
        kind="alertmanager",
        service_account=am_bot,
        rate_limit_per_minute=1_000_000,
    )
    token = Token.objects.create(user=User.objects.get(username="bench-manager")).key
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "incidentops.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=10).read()
                break
            except OSError:  # refused, reset or timed out while it boots
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        # Warm every worker thread (imports, database connection, broker) on the
        # generic integration, so that the timed runs measure steady state.
        warm = f"{base}/api/v1/integrations/{integration.pk}/alerts/"
        warm_headers = {
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
        }
        run_load(
            [
                (
                    lambda n=n: request(
                        warm,
                        data=json.dumps(
                            {"title": "Warm-up", "dedup_key": f"warm-up-{n % 4}"}
                        ).encode(),
                        headers=warm_headers,
                    )
                )
                for n in range(64)
            ],
            concurrency=16,
        )
        # Each new process trains the triage prior once, in a background thread
        # (about 2.5 s of CPU here): a start-up cost, not a per-request one, so
        # the timed runs begin when the server has gone idle.
        settled = ingest.wait_until_idle(server.pid)
        print(f"server idle after warm-up: {settled:.1f} s")
        results = {}
        if only in ("", "alerts"):
            results["alert intake (Alertmanager)"] = ingest.run(
                base,
                integration=alertmanager,
                secret=am_secret,
                server_pid=server.pid,
                run_load=run_load,
                request=request,
            )
        if only == "alerts":
            return results
        if only in ("", "live"):
            from benchmarks import live

            results["live pages (50 open)"] = live.run(
                base, manager=User.objects.get(username="bench-manager")
            )
        if only == "live":
            return results
        before = Incident.objects.count()
        keys = 20
        ingest = f"{base}/api/v1/integrations/{integration.pk}/alerts/"
        headers = {
            "Authorization": f"Bearer {secret}",
            "Content-Type": "application/json",
        }

        def delivery(i: int):
            body = json.dumps(
                {
                    "title": f"Disk filling on db-{i % keys}",
                    "description": "Volume above 90%.",
                    "dedup_key": f"disk-db-{i % keys}",
                    "status": "firing",
                    "labels": {"host": f"db-{i % keys}"},
                }
            ).encode()
            return lambda: request(ingest, data=body, headers=headers)

        storm = run_load([delivery(i) for i in range(deliveries)], concurrency=16)
        created = Incident.objects.count() - before
        storm["incidents_created"] = created
        storm["dedup_keys"] = keys
        if created != keys:
            raise SystemExit(f"alert storm made {created} incidents for {keys} keys")

        api = {"Authorization": f"Token {token}"}
        reads_result = run_load(
            [
                (lambda: request(f"{base}/api/v1/incidents/?page_size=50", headers=api))
                for _ in range(reads)
            ],
            concurrency=8,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {**results, "alert storm": storm, "API list reads": reads_result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument(
        "--only",
        choices=["alerts", "live", "oncall", "escalation", "import"],
        default="",
        help="run just this load workload (no query counts)",
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    env = bench_environment()
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    from incidentops.models import User

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    manager = User.objects.create_user(
        "bench-manager", password="bench-password-1", is_superuser=True
    )
    manager.groups.add(*Group.objects.all())

    print(f"Database: {env['DATABASE_URL'].split('@')[-1]}")
    print("\n1. Queries (and median ms) per request as incidents grow")
    counts = query_counts(sizes) if not args.only else {}
    header = "".join(f"{size:>16}" for size in sizes)
    print(f"{'':28}{header}")
    flat = True
    for label, by_size in counts.items():
        cells = "".join(f"{q:>7} q {ms:>5.0f} ms" for q, ms in by_size.values())
        print(f"{label:28}{cells}")
        queries = [q for q, _ in by_size.values()]
        if max(queries) > min(queries):
            flat = False
            print(f"  !! query count grows with the data: {queries}")

    loads = {}
    if args.only not in ("oncall", "escalation", "import"):
        print("\n2. Load on gunicorn (2 processes x 4 threads) over loopback")
        loads = load(env, deliveries=args.deliveries, reads=args.reads, only=args.only)
        for label, result in loads.items():
            print(f"{label}: {json.dumps(result)}")

    oncall_result = {}
    if args.only in ("", "oncall"):
        from benchmarks import oncall

        print("\n3. Who is on call now (benchmarks/oncall.py)")
        oncall_result = oncall.run()
        oncall.report(oncall_result)
        flat = flat and oncall_result["flat"]

    escalations = {}
    if args.only in ("", "escalation"):
        from benchmarks import escalation

        print("\n4. Escalation: 1,000 running escalations fall due at once")
        postgres = env["DATABASE_URL"].startswith(("postgres://", "postgresql://"))
        escalations = escalation.run(senders=4 if postgres else 1)
        print(json.dumps(escalations, indent=2))
        if not escalations["queries_flat"]:
            flat = False
            print("  !! the sweep's queries per escalation grow with the load")

    imports = {}
    if args.only in ("", "import"):
        from benchmarks import importing

        print("\n5. Importing history: 10,000 past incidents per file")
        imports = importing.run()

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "queries": {
                    label: {
                        str(size): {"queries": q, "median_ms": round(ms, 1)}
                        for size, (q, ms) in by_size.items()
                    }
                    for label, by_size in counts.items()
                },
                "load": loads,
                "oncall": oncall_result,
                "escalation": escalations,
                "import": imports,
            },
            indent=2,
        )
    )
    if not flat:
        raise SystemExit("query counts are not flat")


if __name__ == "__main__":
    main()
