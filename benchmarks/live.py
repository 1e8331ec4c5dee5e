"""The live pages under load: 50 open pages (40 incident pages on 10 incidents,
10 status boards) polling a real gunicorn server as ``static/js/app.js`` does
(``X-Live-Poll``, ``If-None-Match``; every 3 s on an incident, 5 s on the board)
while a writer adds a note to one incident every 2 s.

Reports requests per second, the share answered ``304``, latency percentiles,
bytes per answer, how long a change took to reach every page open on its
incident (propagation: the note's commit to the first ``200`` carrying it), and,
in-process, the queries an unchanged and a changed refresh cost.
"""

from __future__ import annotations

import statistics
import threading
import time
import urllib.error
import urllib.request

PAGES_PER_INCIDENT = 4
INCIDENTS = 10
BOARDS = 10
INCIDENT_EVERY = 3.0
BOARD_EVERY = 5.0


def _session_cookie(user) -> str:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.module_loading import import_string

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    # The backend that loads the user back (not a throttle in front of it).
    store[BACKEND_SESSION_KEY] = next(
        path
        for path in settings.AUTHENTICATION_BACKENDS
        if hasattr(import_string(path), "get_user")
    )
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def _setup(manager):
    from incidents import services
    from incidents.models import Role, SeverityLevel

    commander = Role.objects.get(slug="commander")
    level = SeverityLevel.objects.order_by("rank").first()
    incidents = []
    for i in range(INCIDENTS):
        incident = services.incident_declare(
            actor=manager, title=f"Live bench incident {i}", description="x" * 200
        )
        services.incident_assign_role(
            incident=incident, actor=manager, role=commander, user=manager
        )
        services.incident_confirm_severity(
            incident=incident, actor=manager, severity=level
        )
        for n in range(5):
            services.action_create(
                incident=incident, actor=manager, title=f"Action {n} of {i}"
            )
        incidents.append(incident)
    return incidents


def refresh_queries(manager, incident) -> dict:
    """Queries of one refresh, unchanged (304) and changed (200), in-process."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from incidents import services

    client = Client()
    client.force_login(manager)
    poll = {"X-Live-Poll": "1"}
    result = {}
    for label, path in (("incident page", incident.get_absolute_url()), ("board", "/")):
        first = client.get(path, headers=poll)
        with CaptureQueriesContext(connection) as unchanged:
            again = client.get(path, headers={**poll, "If-None-Match": first["ETag"]})
        services.incident_add_note(incident=incident, actor=manager, body="bench")
        with CaptureQueriesContext(connection) as changed:
            fresh = client.get(path, headers={**poll, "If-None-Match": first["ETag"]})
        assert again.status_code == 304 and fresh.status_code == 200, label
        result[label] = {
            "queries_unchanged_304": len(unchanged),
            "queries_changed_200": len(changed),
            "bytes_200": len(fresh.content),
        }
    return result


class _Page(threading.Thread):
    def __init__(self, base, path, every, cookie, stop, stats, seen, key):
        super().__init__(daemon=True)
        self.url, self.every, self.cookie = base + path, every, cookie
        self.stop, self.stats, self.seen, self.key = stop, stats, seen, key
        self.etag = ""

    def run(self):
        time.sleep(self.every * (hash(self.name) % 100) / 100)  # spread the polls
        while not self.stop.is_set():
            headers = {"X-Live-Poll": "1", "Cookie": self.cookie}
            if self.etag:
                headers["If-None-Match"] = self.etag
            started = time.perf_counter()
            status, body = 0, b""
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(self.url, headers=headers), timeout=30
                ) as response:
                    status, body = response.status, response.read()
                    self.etag = response.headers.get("ETag", "")
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError:
                status = -1
            elapsed = time.perf_counter() - started
            self.stats.append((status, elapsed, len(body)))
            if status == 200 and self.key is not None:
                now = time.monotonic()
                for marker in _markers_in(body):
                    self.seen.setdefault((self.key, marker, self.name), now)
            self.stop.wait(self.every)


def _markers_in(body: bytes) -> list[str]:
    text = body.decode(errors="replace")
    found, start = [], 0
    while (at := text.find("live-bench-note-", start)) >= 0:
        end = text.find(" ", at)
        found.append(text[at:end].rstrip("<.\"'"))
        start = at + 1
    return found


def run(base: str, *, manager, seconds: float = 40.0) -> dict:
    """The workload above against the server at ``base``; the figures."""
    from incidents import services

    incidents = _setup(manager)
    cookie = _session_cookie(manager)
    stop, stats, seen = threading.Event(), [], {}
    pages = []
    for incident in incidents:
        for _ in range(PAGES_PER_INCIDENT):
            pages.append(
                _Page(base, incident.get_absolute_url(), INCIDENT_EVERY, cookie,
                      stop, stats, seen, incident.pk)
            )  # fmt: skip
    for _ in range(BOARDS):
        pages.append(_Page(base, "/", BOARD_EVERY, cookie, stop, stats, seen, None))
    for page in pages:
        page.start()
    time.sleep(INCIDENT_EVERY + 1)  # every page has its first full answer
    del stats[:]
    changes = {}
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds:
        incident = incidents[n % len(incidents)]
        marker = f"live-bench-note-{n}"
        services.incident_add_note(incident=incident, actor=manager, body=marker + " ")
        changes[marker] = (incident.pk, time.monotonic())
        n += 1
        time.sleep(2.0)
    time.sleep(INCIDENT_EVERY + 2)  # let the last change propagate
    stop.set()
    for page in pages:
        page.join(timeout=35)
    window = time.monotonic() - started
    delays, missed = [], 0
    for marker, (incident_pk, at) in changes.items():
        for page in pages:
            if page.key != incident_pk:
                continue
            when = seen.get((incident_pk, marker, page.name))
            if when is None:
                missed += 1
            else:
                delays.append(when - at)
    latencies = sorted(elapsed for _, elapsed, _ in stats)
    ok = [s for s in stats if s[0] in (200, 304)]
    delays.sort()

    def pct(values, p):
        return round(values[min(len(values) - 1, int(len(values) * p))], 3)

    return {
        "open_pages": len(pages),
        "seconds": round(window, 1),
        "requests": len(stats),
        "requests_per_s": round(len(stats) / window, 1),
        "errors": len(stats) - len(ok),
        "share_304": round(
            sum(1 for s in stats if s[0] == 304) / max(1, len(stats)), 3
        ),
        "latency_ms": {
            "p50": round(statistics.median(latencies) * 1000, 1),
            "p95": round(pct(latencies, 0.95) * 1000, 1),
            "max": round(latencies[-1] * 1000, 1),
        },
        "bytes_per_200": round(
            statistics.mean([size for status, _, size in stats if status == 200] or [0])
        ),
        "changes": len(changes),
        "propagation_s": {
            "p50": pct(delays, 0.5) if delays else None,
            "p95": pct(delays, 0.95) if delays else None,
            "max": round(delays[-1], 3) if delays else None,
            "pages_missed": missed,
        },
        "per_refresh": refresh_queries(manager, incidents[0]),
    }
