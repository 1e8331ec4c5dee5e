"""Importing history: 10,000 past incidents from one file, timed.

Three files are generated (a fixed seed, so every run imports the same rows):

- a native CSV of ``ROWS`` incidents: six types (one restricted), four
  severities, times with zones, a commander (one in twenty unknown, so an
  inactive placeholder is made), services and sites, a resolution, and for nine
  in ten a completed review (summary, root cause, two lessons, two follow-ups);
  ten rows are bad (an unknown type, a time that is not a time) and must be
  refused;
- the same rows as native JSON (imported into an empty database of its own);
- a PagerDuty REST API v2 incident list of ``ROWS`` incidents (priority or
  urgency, service, assignments and acknowledgements with e-mails).

Each is imported with ``python manage.py import_incidents`` (in process, the
wall and the CPU time of this process and of PostgreSQL's backend); the native
CSV is imported a second time, which must leave every row unchanged. Target:
each first import of 10,000 rows within 60 s.

    python -m benchmarks --only import      # BENCH_IMPORT_ROWS=10000
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import resource
import time
from datetime import UTC, datetime, timedelta
from io import StringIO

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
TARGET_S = 60
BAD_EVERY = 1000
TYPES = 6
ZONES = ("Europe/London", "America/New_York", "Asia/Tokyo", "UTC")
PEOPLE = 20
WORDS = (
    "checkout latency errors database failover certificate expired queue backlog "
    "carrier missed collection warehouse scanner outage phishing account payroll "
    "export supplier recall firmware rollback config pool exhausted dns"
).split()


def _setup():
    """Types (the last restricted) and known people."""
    from incidentops.models import User
    from incidents.models import IncidentFamily, IncidentType

    family, _ = IncidentFamily.objects.get_or_create(
        slug="import-bench", defaults={"name": "Import bench"}
    )
    for i in range(TYPES):
        IncidentType.objects.get_or_create(
            slug=f"import-type-{i}",
            defaults={
                "name": f"Import type {i}",
                "family": family,
                "restricted_by_default": i == TYPES - 1,
            },
        )
    for i in range(PEOPLE):
        User.objects.get_or_create(
            username=f"responder{i}", defaults={"email": f"responder{i}@example.com"}
        )


def _native_rows(rows: int) -> list[dict]:
    rng = random.Random(12)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    out = []
    for i in range(rows):
        detected = start + timedelta(minutes=rng.randrange(4 * 365 * 24 * 60))
        impact = detected - timedelta(seconds=rng.randrange(0, 1800))
        acknowledged = detected + timedelta(seconds=rng.randrange(30, 3600))
        resolved = acknowledged + timedelta(seconds=rng.randrange(600, 8 * 3600))
        words = rng.sample(WORDS, 4)
        commander = (
            f"former{i % 97}@example.com" if i % 20 == 0 else f"responder{i % PEOPLE}"
        )
        reviewed = i % 10 != 0
        zone = ZONES[i % len(ZONES)]
        local = resolved.astimezone(_zone(zone))
        row = {
            "external_id": f"HIST-{i:05d}",
            "title": " ".join(words).capitalize() + f" ({i})",
            "description": f"Customers saw {words[0]} and {words[1]}.",
            "type": f"import-type-{i % TYPES}",
            "severity": f"SEV-{1 + i % 4}",
            "time_zone": zone,
            "impact_started_at": impact.isoformat(),
            "detected_at": detected.isoformat(),
            "acknowledged_at": acknowledged.isoformat(),
            # one in four written in the row's zone without an offset
            "resolved_at": (
                local.replace(tzinfo=None).isoformat(timespec="minutes")
                if i % 4 == 0
                else resolved.isoformat()
            ),
            "commander": commander,
            "services": f"svc-{i % 40};svc-{(i + 7) % 40}",
            "sites": f"site-{i % 5}",
            "resolution": f"Rolled back the {words[2]} change.",
            "review_summary": f"{words[0]} after a {words[2]} change."
            if reviewed
            else "",
            "root_cause": f"The {words[3]} was not checked." if reviewed else "",
            "lessons": (
                f"- Check the {words[3]} before release.\n- Alert on {words[0]}."
                if reviewed
                else ""
            ),
            "follow_ups": (
                f"Add a {words[3]} check [done] @responder{i % PEOPLE}; "
                f"Runbook for {words[0]} [open]"
                if reviewed
                else ""
            ),
        }
        if i % BAD_EVERY == 999:
            row["type"] = "no-such-type" if i % 2 else row["type"]
            row["detected_at"] = row["detected_at"] if i % 2 else "yesterday"
        out.append(row)
    return out


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def native_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def native_json(rows: list[dict]) -> bytes:
    return json.dumps({"incidents": rows}).encode()


def pagerduty_json(rows: int) -> bytes:
    rng = random.Random(34)
    start = datetime(2022, 1, 1, tzinfo=UTC)
    incidents = []
    for i in range(rows):
        created = start + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        ack = created + timedelta(seconds=rng.randrange(30, 1800))
        resolved = ack + timedelta(seconds=rng.randrange(300, 6 * 3600))
        who = {
            "id": f"PU{i % 30:04d}",
            "type": "user_reference",
            "summary": f"Responder {i % 30}",
            "email": f"responder{i % 30}@example.com",
        }
        words = rng.sample(WORDS, 3)
        incidents.append(
            {
                "id": f"Q{i:013d}",
                "type": "incident",
                "incident_number": i + 1,
                "title": " ".join(words).capitalize() + f" ({i})",
                "description": " ".join(words),
                "html_url": f"https://example.pagerduty.com/incidents/Q{i:013d}",
                "created_at": created.isoformat().replace("+00:00", "Z"),
                "status": "resolved",
                "resolved_at": resolved.isoformat().replace("+00:00", "Z"),
                "urgency": "high" if i % 3 else "low",
                "priority": {"summary": f"P{1 + i % 5}"} if i % 2 else None,
                "service": {"id": f"PS{i % 12}", "summary": f"service-{i % 12}"},
                "assignments": [{"at": ack.isoformat(), "assignee": who}],
                "acknowledgements": [{"at": ack.isoformat(), "acknowledger": who}],
            }
        )
    return json.dumps({"incidents": incidents}).encode()


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (0 elsewhere)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed_import(data: bytes, *, format: str, default_type: str = "") -> dict:
    from django.core.management import call_command

    path = f"/tmp/incidentops-import-bench.{format}"  # noqa: S108
    with open(path, "wb") as out:
        out.write(data)
    args = [path, "--format", format]
    if default_type:
        args += ["--default-type", default_type]
    stdout = StringIO()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    db_cpu = _backend_cpu()
    started = time.perf_counter()
    try:
        call_command("import_incidents", *args, stdout=stdout)
    except SystemExit:
        pass  # refused rows: exit status 1, the summary is printed
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "summary": stdout.getvalue().splitlines()[0],
        "wall_s": round(wall, 1),
        "cpu_s": round(
            after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime, 1
        ),
        "db_cpu_s": round(_backend_cpu() - db_cpu, 1),
    }


def _empty_incidents() -> None:
    """Back to no incidents (for the next file), keeping types and people."""
    from django.db import connection

    from incidents.models import Incident

    tables = [
        "incidents_incident",
        "incidents_historicalincident",
        "incidents_timelineentry",
        "incidents_roleassignment",
        "incidents_historicalroleassignment",
        "reviews_review",
        "reviews_historicalreview",
        "reviews_followup",
        "reviews_historicalfollowup",
        "reviews_lesson",
        "reviews_historicallesson",
        "guardian_userobjectpermission",
        "guardian_groupobjectpermission",
    ]
    if connection.vendor == "postgresql":
        existing = set(connection.introspection.table_names())
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE "
                + ", ".join(t for t in tables if t in existing)
                + " RESTART IDENTITY CASCADE"
            )
    else:
        Incident.objects.all().delete()


def run(rows: int = ROWS) -> dict:
    """Generate the files, import each, and return the timings."""
    _setup()
    native = _native_rows(rows)
    files = {
        "native CSV": (native_csv(native), "native", ""),
        "native JSON": (native_json(native), "native", ""),
        "PagerDuty": (pagerduty_json(rows), "pagerduty", "import-type-0"),
    }
    results = {}
    for label, (data, format, default_type) in files.items():
        _empty_incidents()
        first = _timed_import(data, format=format, default_type=default_type)
        results[f"{label}: first import"] = first
        print(f"{label} ({len(data) / 1e6:.1f} MB), first import: {json.dumps(first)}")
        if first["wall_s"] > TARGET_S:
            print(f"  !! over the {TARGET_S} s target")
        if label == "native CSV":
            again = _timed_import(data, format=format)
            results[f"{label}: the same file again"] = again
            print(f"{label}, the same file again: {json.dumps(again)}")
            bad = rows // BAD_EVERY
            expected = f"imported 0, updated 0, unchanged {rows - bad}, refused {bad}"
            if again["summary"] != expected:
                raise SystemExit(f"a re-import changed rows: {again['summary']}")
    return results
