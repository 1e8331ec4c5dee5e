"""The insights figures: medians and p90 against values worked out by hand,
buckets in the organisation's zone, filters and visibility."""

from datetime import UTC, date, datetime, timedelta

import pytest

from incidentops import groups
from incidents import insights
from incidents.importing import import_incidents
from incidents.insights import InsightFilters, percentile
from tests.factories import IncidentTypeFactory, UserFactory

HEADER = (
    "external_id,title,type,severity,time_zone,impact_started_at,detected_at,"
    "acknowledged_at,resolved_at,services\n"
)
T = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _row(
    n,
    *,
    type_slug="outage",
    severity="SEV-2",
    impact=0,
    ack=1,
    resolve=60,
    services="checkout",
    at=T,
):
    detected = at

    def iso(value):
        return value.isoformat() if value else ""

    return ",".join(
        [
            f"X-{n}",
            f"Incident {n}",
            type_slug,
            severity,
            "UTC",
            iso(detected - timedelta(minutes=impact)),
            iso(detected),
            iso(detected + timedelta(minutes=ack)) if ack is not None else "",
            iso(detected + timedelta(minutes=resolve)) if resolve is not None else "",
            services,
        ]
    )


@pytest.fixture
def manager(db):
    return UserFactory(username="mia", groups=[groups.INCIDENT_MANAGERS])


@pytest.fixture
def history(manager):
    IncidentTypeFactory(slug="outage", name="Outage")
    IncidentTypeFactory(slug="breach", name="Breach", restricted=True)
    rows = [
        # Outage SEV-2: times to resolve from impact start 10, 20, 30, 100 min
        _row(1, resolve=10),
        _row(2, resolve=20),
        _row(3, impact=10, resolve=20),  # 30 from impact start
        _row(4, resolve=100, ack=5),
        # one still open: counted, no resolution time
        _row(5, resolve=None, ack=None, services="search"),
        # a restricted breach only its people see
        _row(6, type_slug="breach", severity="SEV-1", services="payroll"),
    ]
    report = import_incidents(
        (HEADER + "\n".join(rows) + "\n").encode(), format="native", actor=manager
    )
    assert report.count("refused") == 0, report.refused
    return report


def test_percentile_matches_percentile_cont():
    assert percentile([1, 2, 3, 10], 0.5) == 2.5
    assert percentile([1, 2, 3, 10], 0.9) == pytest.approx(7.9)
    assert percentile([5], 0.9) == 5
    assert percentile([], 0.5) is None


def test_medians_and_p90_by_type_by_hand(history, manager):
    filters = InsightFilters(since=date(2026, 1, 1), until=date(2026, 12, 31))
    rows = {
        r["group"]: r
        for r in insights.response_times(manager, filters, group_by="incident_type")
    }
    outage = rows["Outage"]
    assert outage["count"] == 5
    resolve = outage["time_to_resolve"]
    # 600, 1200, 1800, 6000 s: median 1500; p90 at rank 2.7: 1800 + 0.7*4200
    assert resolve == {"count": 4, "median": 1500.0, "p90": 4740.0}
    # acknowledgement from detection: 60, 60, 60, 300 s
    assert outage["time_to_acknowledge"] == {"count": 4, "median": 60.0, "p90": 228.0}
    # the manager was not granted on the restricted breach
    assert "Breach" not in rows


def test_volume_buckets_in_the_organisations_zone(history, manager, settings):
    settings.INCIDENTOPS_TIME_ZONE = "Europe/London"
    filters = InsightFilters(since=date(2026, 1, 1), until=date(2026, 12, 31))
    volume = insights.volume(manager, filters)
    assert volume["incident_type"] == [
        {"period_start": date(2026, 3, 1), "group": "Outage", "count": 5}
    ]
    assert {r["group"] for r in volume["severity"]} == {"SEV-2"}


def test_filters_and_recurrence(history, manager):
    filters = InsightFilters(
        since=date(2026, 1, 1), until=date(2026, 12, 31), service="checkout"
    )
    rows = insights.response_times(manager, filters, group_by="severity")
    assert [(r["group"], r["count"]) for r in rows] == [("SEV-2", 4)]
    recurrence = insights.recurrence(
        manager, InsightFilters(since=date(2026, 1, 1), until=date(2026, 12, 31))
    )
    assert recurrence["incident_type"] == [
        {"group": "Outage", "slug": "outage", "count": 5}
    ]
    assert recurrence["service"] == [{"group": "checkout", "count": 4}]
    empty = InsightFilters(since=date(2025, 1, 1), until=date(2025, 12, 31))
    assert insights.response_times(manager, empty, group_by="severity") == []


def test_the_page_shows_charts_and_tables_to_managers(client, history, manager):
    client.force_login(manager)
    page = client.get("/insights/?since=2026-01-01&until=2026-12-31")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<svg class="chart"') >= 3
    assert "Outage" in html
    assert "25m" in html  # the median time to resolve, 1500 s
    # the restricted breach is in the type picker, never in the figures
    assert ">Breach</th>" not in html and ">Breach</text>" not in html


def test_the_page_is_refused_to_responders(client, history):
    responder = UserFactory(username="rita", groups=[groups.RESPONDERS])
    client.force_login(responder)
    assert client.get("/insights/").status_code == 403
    assert b"/insights/" not in client.get("/").content


def test_csv_download_has_the_figures(client, history, manager):
    import csv
    import io

    client.force_login(manager)
    response = client.get("/insights/?since=2026-01-01&until=2026-12-31&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["figure", "group", "period_start", "measure", "value"]
    assert [
        "response by type",
        "Outage",
        "",
        "time_to_resolve median seconds",
        "1500.0",
    ] in rows
    assert [
        "response by type",
        "Outage",
        "",
        "time_to_resolve p90 seconds",
        "4740.0",
    ] in rows
    assert not any("Breach" in row for row in rows)


def test_the_api_gives_the_same_figures(history, manager):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)
    response = api.get(
        "/api/v1/analytics/insights/", {"since": "2026-01-01", "until": "2026-12-31"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    outage = next(r for r in body["response_by_type"] if r["group"] == "Outage")
    assert outage["time_to_resolve"] == {"count": 4, "median": 1500.0, "p90": 4740.0}
    assert body["recurrence"]["service"] == [{"group": "checkout", "count": 4}]
    responder = UserFactory(username="rita", groups=[groups.RESPONDERS])
    api.force_authenticate(responder)
    assert api.get("/api/v1/analytics/insights/").status_code == 403


def test_reviews_panel_counts_follow_ups_of_recurring_types(client, manager):
    IncidentTypeFactory(slug="outage", name="Outage")
    header = HEADER.strip() + ",follow_ups,root_cause\n"
    rows = [
        _row(1) + ',"Fix A [open]",cause',
        _row(2) + ',"Fix B [done]",cause',
        _row(3),
    ]
    import_incidents(
        (header + "\n".join(rows) + "\n").encode(), format="native", actor=manager
    )
    from reviews.insights import review_figures

    figures = review_figures(
        manager, InsightFilters(since=date(2026, 1, 1), until=date(2026, 12, 31))
    )
    assert figures["recurrence"] == [
        {"group": "Outage", "reviews": 2, "with_open_follow_ups": 1, "share": 0.5}
    ]
    assert figures["follow_ups"]["opened"] == 2
    assert figures["follow_ups"]["completed"] == 1
    assert figures["follow_ups"]["oldest_open"].title == "Fix A"
    assert figures["timeliness"][0]["on_time"] == 2
    client.force_login(manager)
    page = client.get("/insights/?since=2026-01-01&until=2026-12-31")
    assert "Reviews and follow-ups" in page.content.decode()
    csv_text = client.get(
        "/insights/?since=2026-01-01&until=2026-12-31&format=csv"
    ).content.decode()
    assert "Reviews and follow-ups,Outage,,with_open_follow_ups,1" in csv_text


def test_query_counts_do_not_grow_with_the_data(client, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    IncidentTypeFactory(slug="outage", name="Outage")
    client.force_login(manager)
    client.get("/insights/")  # warm the content-type cache
    counts = []
    for start, n in ((0, 3), (3, 12)):
        rows = [_row(start + i, at=T + timedelta(days=start + i)) for i in range(n)]
        import_incidents(
            (HEADER + "\n".join(rows) + "\n").encode(), format="native", actor=manager
        )
        for path in ("/insights/?since=2026-01-01", "/incidents/?q=incident"):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(path).status_code == 200
            counts.append((path, len(captured)))
    assert counts[:2] == counts[2:]


def test_extreme_days_are_clamped_not_a_crash(manager):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(manager)
    response = api.get(
        "/api/v1/analytics/insights/", {"since": "0001-01-01", "until": "9999-12-31"}
    )
    assert response.status_code == 200
