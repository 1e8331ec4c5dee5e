"""The alert intake workload: Alertmanager deliveries against a real server.

2,000 Alertmanager webhook bodies by default: 1,000 that each open a new group
and 1,000 repeats spread over 20 of those groups, interleaved in a fixed order,
posted by 16 concurrent clients, each on a new connection (``urllib`` sends
``Connection: close``). Groups are keyed as Alertmanager keys them with
``group_by: ['...']``: several hundred characters that differ only near the end.

Measured: end to end (the first POST until the last reply, when every alert is
stored and grouped, since a 202 means stored), acceptance latency percentiles,
and CPU per delivery of the application server (gunicorn's processes) and of
PostgreSQL (the backends serving the benchmark database), from ``/proc``.
Checked: exactly one incident per group, one alert row per alert, every
delivery counted, no error reply.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _group_key(i: int) -> str:
    # The shape of a real ``group_by: ['...']`` key: the route's matchers, then
    # every label of the alert, the distinguishing ones last.
    labels = {
        "alertname": "HighRequestLatency",
        "cluster": "eu-west-1-production-main",
        "job": "checkout-api",
        "namespace": "payments",
        "prometheus": "monitoring/k8s",
        "service": "checkout-api-http",
        "severity": "warning" if i % 3 else "critical",
        "pod": f"checkout-api-7c9f8d6b5d-{i:05d}",
    }
    inner = ", ".join(f'{k}="{v}"' for k, v in labels.items())
    return '{}/{severity=~"critical|warning"}:{' + inner + "}"


def alert_body(i: int, *, starts_at: str) -> bytes:
    key = _group_key(i)
    labels = {
        "alertname": "HighRequestLatency",
        "instance": f"10.2.{i // 250}.{i % 250}:8080",
        "pod": f"checkout-api-7c9f8d6b5d-{i:05d}",
        "severity": "warning" if i % 3 else "critical",
        "job": "checkout-api",
    }
    body = {
        "version": "4",
        "groupKey": key,
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "incidentops",
        "groupLabels": labels,
        "commonLabels": labels,
        "commonAnnotations": {
            "summary": f"p99 latency above 2 s on pod {labels['pod']}",
            "runbook_url": "https://runbooks.example/latency",
        },
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {
                    "summary": f"p99 latency above 2 s on pod {labels['pod']}",
                    "runbook_url": "https://runbooks.example/latency",
                },
                "startsAt": starts_at,
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example/graph?g0.expr=latency",
                "fingerprint": f"{i:016x}",
            }
        ],
    }
    return json.dumps(body).encode()


def workload(new_groups: int, repeats: int, hot: int) -> list[int]:
    """Group numbers in posting order: every group once, and ``repeats`` more
    deliveries spread over the first ``hot`` groups, shuffled (seeded). A repeat
    that overtakes its group's first delivery simply opens the group itself."""
    order = list(range(new_groups)) + [i % hot for i in range(repeats)]
    random.Random(42).shuffle(order)
    return order


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    # utime and stime are the 14th and 15th fields (0-based 11, 12 after comm)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class CpuMeter:
    """CPU seconds of the server's process tree and of the benchmark
    database's PostgreSQL backends (not the benchmark's own connection)."""

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid
        self.start: dict[int, float] = {}

    def _postgres_pids(self) -> list[int]:
        from django.db import connection

        if connection.vendor != "postgresql":
            return []
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            return [row[0] for row in cursor.fetchall()]

    def _server_pids(self) -> list[int]:
        if self.server_pid is None:
            return []
        return [self.server_pid, *_children(self.server_pid)]

    def sample(self) -> dict[str, dict[int, float]]:
        return {
            "app": {pid: _cpu_seconds(pid) for pid in self._server_pids()},
            "postgres": {pid: _cpu_seconds(pid) for pid in self._postgres_pids()},
        }

    def begin(self) -> None:
        self.start = self.sample()

    def end(self) -> dict[str, float]:
        now = self.sample()
        return {
            part: sum(
                value - self.start.get(part, {}).get(pid, 0.0)
                for pid, value in now[part].items()
            )
            for part in now
        }


def wait_until_idle(
    server_pid: int, *, quiet: float = 0.02, interval: float = 0.5, cap: float = 120
) -> float:
    """Wait until the server's processes use less than ``quiet`` CPU seconds
    in ``interval`` seconds (start-up work done), at most ``cap`` seconds;
    returns the seconds waited."""
    meter = CpuMeter(server_pid)
    started = time.monotonic()
    while time.monotonic() - started < cap:
        meter.begin()
        time.sleep(interval)
        if meter.end()["app"] < quiet:
            break
    return time.monotonic() - started


def _own_backend_cpu() -> float:
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return _cpu_seconds(cursor.fetchone()[0])


def _follow_up(deliveries: int) -> dict:
    """The work each new incident leaves for a worker (triage suggestion,
    declared notifications), done here after the storm and timed apart: it is
    not on the request path, but it is part of what a delivery costs."""
    from incidents.ingestion.service import alert_follow_up_drain

    started = time.perf_counter()
    cpu, backend = time.process_time(), _own_backend_cpu()
    done = alert_follow_up_drain()
    cpu, backend = time.process_time() - cpu, _own_backend_cpu() - backend
    return {
        "follow_ups": done,
        "follow_up_seconds": round(time.perf_counter() - started, 2),
        "follow_up_cpu_ms_per_delivery": round(1000 * (cpu + backend) / deliveries, 2),
    }


def run(base: str, *, integration, secret: str, server_pid, run_load, request):
    """Post the workload; verify and measure. Returns the result dict; raises
    ``SystemExit`` when the data is not exactly right."""
    from django.db.models import Sum
    from django.utils import timezone

    from incidents.models import Alert, AlertState, Incident

    new_groups = int(os.environ.get("BENCH_ALERT_GROUPS", 1000))
    repeats = int(os.environ.get("BENCH_ALERT_REPEATS", 1000))
    hot = 20
    starts_at = (timezone.now() - timezone.timedelta(minutes=3)).isoformat()
    bodies = {g: alert_body(g, starts_at=starts_at) for g in range(new_groups)}
    url = f"{base}/api/v1/integrations/{integration.pk}/alerts/"
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    jobs = [
        (lambda body=bodies[g]: request(url, data=body, headers=headers))
        for g in workload(new_groups, repeats, hot)
    ]
    before = Incident.objects.filter(integration=integration).count()
    meter = CpuMeter(server_pid)
    meter.begin()
    result = run_load(jobs, concurrency=16)
    cpu = meter.end()
    deliveries = len(jobs)
    incidents = Incident.objects.filter(integration=integration).count() - before
    alerts = Alert.objects.filter(integration=integration)
    counted = alerts.aggregate(n=Sum("deliveries"))["n"] or 0
    state = AlertState.objects.filter(incident__integration=integration).aggregate(
        n=Sum("deliveries")
    )["n"]
    result.update(
        {
            "deliveries": deliveries,
            "alerts_per_second_end_to_end": round(deliveries / result["seconds"], 1),
            "incidents_created": incidents,
            "alert_rows": alerts.count(),
            "alert_deliveries_counted": counted,
            "cpu_ms_per_delivery_app": round(1000 * cpu["app"] / deliveries, 2),
            "cpu_ms_per_delivery_postgres": round(
                1000 * cpu["postgres"] / deliveries, 2
            ),
        }
    )
    result["cpu_ms_per_delivery"] = round(
        result["cpu_ms_per_delivery_app"] + result["cpu_ms_per_delivery_postgres"], 2
    )
    result.update(_follow_up(deliveries))
    errors = {c: n for c, n in result["status_codes"].items() if c != 202}
    problems = []
    if errors:
        problems.append(f"error replies {errors}")
    if incidents != new_groups:
        problems.append(f"{incidents} incidents for {new_groups} groups")
    if result["alert_rows"] != new_groups:
        problems.append(f"{result['alert_rows']} alert rows for {new_groups} alerts")
    if counted != deliveries or state != deliveries:
        problems.append(f"{counted}/{state} deliveries counted of {deliveries}")
    if problems:
        raise SystemExit("alert intake: " + "; ".join(problems))
    return result
