"""Alert intake fidelity: whole-key identity, every alert kept, severity words,
Grafana and Events API v2 senders, start times, and refusals that store nothing."""

import copy
import hashlib
import json
import logging
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from incidents import services
from incidents.ingestion import service as ingestion_service
from incidents.ingestion.parsers import alertmanager as am_format
from incidents.ingestion.parsers import events_v2 as ev2_format
from incidents.models import Alert, AlertState, Incident, Integration, TimelineEntry
from incidents.timeline import verify_timeline
from tests.api.conftest import client_for
from tests.factories import (
    INTEGRATION_SECRET,
    IncidentTypeFactory,
    IntegrationFactory,
    UserFactory,
    role,
    severity,
)

AUTH = {"HTTP_AUTHORIZATION": f"Bearer {INTEGRATION_SECRET}"}
PATH = "/api/v1/integrations/{id}/alerts/"


@pytest.fixture(autouse=True)
def _fresh_rate_windows():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def am(db):
    from incidents.ingestion.severity import default_label_map

    return IntegrationFactory(
        kind="alertmanager", name="prometheus", severity_label_map=default_label_map()
    )


@pytest.fixture
def generic(db):
    from incidents.ingestion.severity import default_label_map

    return IntegrationFactory(name="hooks", severity_label_map=default_label_map())


@pytest.fixture
def events(db):
    from incidents.ingestion.severity import default_label_map

    return IntegrationFactory(
        kind="events-v2", name="uptime", severity_label_map=default_label_map()
    )


def post(client, integration, body, **extra):
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(
        PATH.format(id=integration.pk),
        data=raw,
        content_type="application/json",
        **{**AUTH, **extra},
    )


def alert(name="HighErrorRate", severity_word="warning", status="firing", **extra):
    labels = {"alertname": name, "severity": severity_word, **extra.pop("labels", {})}
    fingerprint = (
        extra.pop("fingerprint", None)
        or hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]
    )
    return {
        "status": status,
        "labels": labels,
        "annotations": extra.pop("annotations", {"summary": f"{name} firing"}),
        "startsAt": extra.pop("startsAt", "2026-03-01T10:00:00Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example/graph",
        "fingerprint": fingerprint,
        **extra,
    }


def am_body(alerts, group="g1", status="firing", **extra):
    return {
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "incidentops",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": alerts,
        **extra,
    }


def stored():
    return (
        Incident.objects.count(),
        TimelineEntry.objects.count(),
        AlertState.objects.count(),
        Alert.objects.count(),
    )


# --- identity: the whole group key ----------------------------------------------------


@pytest.mark.parametrize("length", [300, 700, 2000])
def test_long_group_keys_differing_only_at_the_end_are_distinct_groups(
    client, am, length
):
    stem = "{}/{}:{" + "x" * (length - 9)
    one, two = stem + "a}", stem + "b}"
    assert len(one) == length

    first = post(client, am, am_body([alert()], group=one)).json()
    second = post(client, am, am_body([alert()], group=two)).json()
    resolved = post(
        client,
        am,
        am_body([alert(status="resolved")], group=one, status="resolved"),
    ).json()

    assert first["created"] and second["created"]
    assert first["incident"] != second["incident"]
    assert resolved == {"incident": first["incident"], "created": False}
    other = Incident.objects.get(reference=second["incident"])
    assert other.alert_state.status == "firing"
    assert not other.alerts.filter(status="resolved").exists()
    assert other.alert_state.group_key == two
    assert Incident.objects.get(reference=first["incident"]).alert_state.status == (
        "resolved"
    )


# --- every alert kept ------------------------------------------------------------------


def test_a_group_of_18_alerts_gives_18_rows_in_the_api_and_on_the_page(client, am):
    alerts = [
        alert("InstanceDown", "critical", labels={"instance": f"host-{i:02d}"})
        for i in range(18)
    ]
    body = am_body(alerts, commonAnnotations={"summary": "18 servers are down"})
    reference = post(client, am, body).json()["incident"]
    incident = Incident.objects.get(reference=reference)
    manager = UserFactory(groups=["Incident managers", "Responders"])

    api = client_for(manager).get(f"/api/v1/incidents/{incident.pk}/alerts/")
    client.force_login(manager)
    page = client.get(f"/incidents/{reference}/")

    assert api.status_code == 200
    assert api.json()["count"] == 18
    hosts = {row["labels"]["instance"] for row in api.json()["results"]}
    assert hosts == {f"host-{i:02d}" for i in range(18)}
    assert page.content.decode().count('data-testid="alert-row"') == 18
    for i in range(18):
        assert f"host-{i:02d}" in incident.description


def test_repeats_update_the_rows_and_count_deliveries(client, am):
    body = am_body([alert(labels={"instance": "a"}), alert(labels={"instance": "b"})])
    post(client, am, body)
    body["alerts"][0]["annotations"] = {"summary": "now worse"}
    post(client, am, body)

    rows = {r.labels["instance"]: r for r in Alert.objects.all()}
    assert set(rows) == {"a", "b"}
    assert rows["a"].deliveries == rows["b"].deliveries == 2
    assert rows["a"].annotations == {"summary": "now worse"}
    assert rows["a"].last_seen_at >= rows["a"].first_seen_at


def test_a_2000_alert_body_of_about_2_mb_is_stored_whole(client, am):
    alerts = [
        alert(
            "KubePodCrashLooping",
            "warning",
            labels={
                "pod": f"worker-{i:05d}",
                "namespace": "batch-processing",
                "container": "worker",
                "node": f"node-{i % 40:03d}.eu-west-1.compute.internal",
            },
            annotations={
                "summary": f"Pod batch-processing/worker-{i:05d} is crash looping",
                "description": "Pod has restarted more than 5 times in 10 minutes. "
                * 8,
                "runbook_url": "https://runbooks.example/KubePodCrashLooping",
            },
        )
        for i in range(2000)
    ]
    raw = json.dumps(am_body(alerts, truncatedAlerts=15))
    assert 1.8e6 < len(raw) < 3e6

    response = post(client, am, raw)

    assert response.status_code == 202
    incident = Incident.objects.get(reference=response.json()["incident"])
    assert incident.alerts.count() == 2000
    assert incident.alert_state.truncated_alerts == 15
    assert "and 1950 more" in incident.description
    assert "15 more not sent by Alertmanager" in incident.description


def test_the_page_says_what_alertmanager_left_out(client, am):
    body = am_body([alert()], truncatedAlerts=7)
    reference = post(client, am, body).json()["incident"]
    client.force_login(UserFactory(groups=["Responders"]))

    page = client.get(f"/incidents/{reference}/").content.decode()

    assert "and 7 more not sent by Alertmanager" in page


def test_message_annotation_text_is_on_the_incident(client, am):
    body = am_body(
        [
            alert(
                "QueueBacklog",
                annotations={"message": "Backlog of 12,000 jobs on queue billing"},
            )
        ]
    )

    reference = post(client, am, body).json()["incident"]

    incident = Incident.objects.get(reference=reference)
    assert "Backlog of 12,000 jobs on queue billing" in incident.description
    assert incident.alerts.get().annotations["message"].startswith("Backlog")


def test_alerts_api_has_the_incident_visibility(client, am):
    reference = post(client, am, am_body([alert()])).json()["incident"]
    incident = Incident.objects.get(reference=reference)
    outsider = UserFactory(groups=["Responders"])
    Incident.objects.filter(pk=incident.pk).update(restricted=True)

    response = client_for(outsider).get(f"/api/v1/incidents/{incident.pk}/alerts/")

    assert response.status_code == 404
    assert incident.title not in response.content.decode()


# --- severity words ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("Critical", "SEV-1"),
        ("page", "SEV-1"),
        ("emergency", "SEV-1"),
        ("P1", "SEV-1"),
        ("sev-1", "SEV-1"),
        ("major", "SEV-2"),
        ("ERROR", "SEV-2"),
        ("high", "SEV-2"),
        ("Warning", "SEV-3"),
        ("medium", "SEV-3"),
        ("info", "SEV-4"),
        ("low", "SEV-4"),
        ("P5", "SEV-4"),
    ],
)
def test_severity_words_map_whatever_their_case(client, am, word, code):
    reference = post(client, am, am_body([alert(severity_word=word)])).json()[
        "incident"
    ]

    incident = Incident.objects.get(reference=reference)
    assert incident.suggested_severity == severity(code)
    assert incident.severity is None


def test_the_suggestion_follows_the_worst_firing_alert_of_the_first_delivery(
    client, am
):
    body = am_body(
        [alert(severity_word="warning", labels={"i": "1"}), alert(severity_word="page")]
    )

    reference = post(client, am, body).json()["incident"]

    assert Incident.objects.get(reference=reference).suggested_severity == severity(
        "SEV-1"
    )


def test_a_critical_alert_joining_a_warning_group_raises_the_suggestion_only(
    client, am
):
    from notifications.models import Notification

    warning = alert("HighLatency", "warning", labels={"instance": "web-1"})
    reference = post(client, am, am_body([warning])).json()["incident"]
    incident = Incident.objects.get(reference=reference)
    manager = UserFactory(groups=["Incident managers", "Responders"])
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    services.incident_confirm_severity(
        incident=incident, actor=manager, severity=severity("SEV-3")
    )

    critical = alert("HighLatency", "critical", labels={"instance": "web-2"})
    response = post(client, am, am_body([warning, critical]))

    assert response.status_code == 202
    incident.refresh_from_db()
    assert incident.suggested_severity == severity("SEV-1")
    assert incident.severity == severity("SEV-3")  # a person confirms
    entry = incident.timeline.filter(kind="severity_suggested").latest("sequence")
    assert "Alert HighLatency (instance=web-2) suggests SEV-1" in entry.summary
    assert entry.data["alert"]["labels"]["instance"] == "web-2"
    assert "a person must confirm" in entry.summary
    told = Notification.objects.get(incident=incident, kind="severity_suggested")
    assert manager.email in {d.recipient for d in told.deliveries.all()}


def test_generic_severity_hint_takes_the_same_words(client, generic):
    body = {"title": "Payments failing", "dedup_key": "pay", "severity_hint": "Major"}

    reference = post(client, generic, body).json()["incident"]

    assert Incident.objects.get(reference=reference).suggested_severity == severity(
        "SEV-2"
    )


# --- senders -------------------------------------------------------------------------------


def test_a_grafana_version_1_body_is_accepted(client, am):
    response = post(client, am, copy.deepcopy(am_format.SAMPLE_GRAFANA))

    assert response.status_code == 202
    incident = Incident.objects.get(reference=response.json()["incident"])
    assert incident.title == "Disk at 97% on db-1"
    row = incident.alerts.get()
    assert row.details["values"] == {"B": 97.2, "C": 1}
    assert {"href": "https://grafana.example/d/storage", "text": "Dashboard"} in (
        row.links
    )


def test_generic_long_title_and_boolean_label_are_accepted(client, generic):
    title = "Nightly settlement export failed for every merchant in region EU " * 5
    body = {
        "title": title,
        "dedup_key": "settlement",
        "labels": {"retryable": False, "attempts": 3, "region": "eu"},
    }

    response = post(client, generic, body)

    assert response.status_code == 202
    incident = Incident.objects.get(reference=response.json()["incident"])
    assert len(incident.title) == 200
    assert title.strip() in incident.description
    assert incident.alerts.get().labels == {
        "retryable": "false",
        "attempts": "3",
        "region": "eu",
    }


def test_events_v2_trigger_acknowledge_resolve_with_one_dedup_key(client, events):
    trigger = copy.deepcopy(ev2_format.SAMPLE)
    trigger["routing_key"] = INTEGRATION_SECRET

    opened = client.post(
        PATH.format(id=events.pk), json.dumps(trigger), content_type="application/json"
    )
    ack = post(
        client,
        events,
        {"event_action": "acknowledge", "dedup_key": "checkout/latency"},
    )
    resolved = client.post(
        PATH.format(id=events.pk),
        json.dumps(
            {
                "routing_key": INTEGRATION_SECRET,
                "event_action": "resolve",
                "dedup_key": "checkout/latency",
            }
        ),
        content_type="application/json",
    )

    assert opened.status_code == ack.status_code == resolved.status_code == 202
    body = opened.json()
    assert body["status"] == "success"
    assert body["message"] == "Event processed"
    assert body["dedup_key"] == "checkout/latency"
    assert body["created"] is True
    assert ack.json()["incident"] == resolved.json()["incident"] == body["incident"]
    incident = Incident.objects.get(reference=body["incident"])
    row = incident.alerts.get()
    assert row.status == "resolved"
    assert row.acknowledged_at is not None
    assert incident.suggested_severity == severity("SEV-2")
    # a machine's acknowledgement is not a person taking the incident on
    assert incident.acknowledged_at is None
    assert incident.commander is None
    assert incident.status == "triage"
    summaries = list(incident.timeline.values_list("summary", flat=True))
    assert any("acknowledged by its sender" in s for s in summaries)
    assert any("resolved" in s for s in summaries)


def test_events_v2_wrong_routing_key_is_401_and_stores_nothing(client, events):
    trigger = {**ev2_format.SAMPLE, "routing_key": "not-the-secret"}

    response = client.post(
        PATH.format(id=events.pk), json.dumps(trigger), content_type="application/json"
    )

    assert response.status_code == 401
    assert stored() == (0, 0, 0, 0)


# --- times ----------------------------------------------------------------------------------


def test_detected_at_is_the_earliest_start_with_its_offset(client, am):
    body = am_body(
        [
            alert(labels={"i": "1"}, startsAt="2026-03-01T18:05:00+08:00"),
            alert(labels={"i": "2"}, startsAt="2026-03-01T18:00:00.5+08:00"),
            alert(
                labels={"i": "3"}, status="resolved", startsAt="2026-03-01T09:00:00Z"
            ),
        ]
    )

    reference = post(client, am, body).json()["incident"]

    incident = Incident.objects.get(reference=reference)
    assert incident.detected_at == datetime(2026, 3, 1, 10, 0, 0, 500000, tzinfo=UTC)
    assert incident.created_at > incident.detected_at


def test_detected_at_is_never_later_than_the_delivery(client, am):
    body = am_body([alert(startsAt="2099-01-01T00:00:00Z")])

    reference = post(client, am, body).json()["incident"]

    incident = Incident.objects.get(reference=reference)
    assert incident.detected_at <= timezone.now()


def test_a_later_alert_that_started_sooner_moves_detection_earlier(client, am):
    first = alert(labels={"i": "1"}, startsAt="2026-03-01T10:00:00Z")
    reference = post(client, am, am_body([first])).json()["incident"]
    incident = Incident.objects.get(reference=reference)
    assert incident.detected_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)

    sooner = alert(
        "DiskFull", labels={"host": "db-2"}, startsAt="2026-03-01T17:45:00+08:00"
    )
    post(client, am, am_body([first, sooner]))
    post(client, am, am_body([first, sooner]))  # a repeat moves nothing

    incident.refresh_from_db()
    assert incident.detected_at == datetime(2026, 3, 1, 9, 45, tzinfo=UTC)
    moved = incident.timeline.filter(kind="field_change")
    assert moved.count() == 1
    entry = moved.get()
    assert "alert DiskFull (host=db-2) started then" in entry.summary
    assert "2026-03-01 09:45:00 UTC" in entry.summary
    assert entry.data["changes"]["detected_at"]["to"].startswith("2026-03-01T09:45")
    assert entry.actor == am.service_account
    assert incident.history.latest().history_user == am.service_account
    assert verify_timeline(incident).ok


def test_a_later_alert_never_moves_detection_later_or_into_the_future(client, am):
    first = alert(labels={"i": "1"}, startsAt="2026-03-01T10:00:00Z")
    reference = post(client, am, am_body([first])).json()["incident"]
    later = alert(labels={"i": "2"}, startsAt="2026-03-01T11:00:00Z")
    future = alert(labels={"i": "3"}, startsAt="2099-01-01T00:00:00Z")
    resolved_sooner = alert(
        labels={"i": "4"}, status="resolved", startsAt="2026-03-01T08:00:00Z"
    )

    post(client, am, am_body([first, later, future, resolved_sooner]))

    incident = Incident.objects.get(reference=reference)
    assert incident.detected_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert not incident.timeline.filter(kind="field_change").exists()


def test_a_closed_incident_keeps_its_detection_time(client, am):
    first = alert(labels={"i": "1"}, startsAt="2026-03-01T10:00:00Z")
    reference = post(client, am, am_body([first])).json()["incident"]
    incident = Incident.objects.get(reference=reference)
    Incident.objects.filter(pk=incident.pk).update(status="closed")
    sooner = alert(labels={"i": "2"}, startsAt="2026-03-01T08:00:00Z")

    post(client, am, am_body([first, sooner], status="resolved"))

    incident.refresh_from_db()
    assert incident.detected_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def test_events_v2_detection_is_the_earliest_trigger_timestamp(client, events):
    def trigger(timestamp):
        return {
            "routing_key": INTEGRATION_SECRET,
            "event_action": "trigger",
            "dedup_key": "disk/db-1",
            "payload": {
                "summary": "Disk almost full on db-1",
                "source": "db-1",
                "severity": "warning",
                "timestamp": timestamp,
            },
        }

    def send(body):
        return client.post(
            PATH.format(id=events.pk), json.dumps(body), content_type="application/json"
        ).json()

    opened = send(trigger("2026-03-01T18:30:00+08:00"))
    send(trigger("2026-03-01T18:10:00+08:00"))  # a retry that started sooner
    send(trigger("2026-03-01T18:50:00+08:00"))

    incident = Incident.objects.get(reference=opened["incident"])
    assert incident.detected_at == datetime(2026, 3, 1, 10, 10, tzinfo=UTC)
    assert incident.timeline.filter(kind="field_change").count() == 1


# --- refusals store nothing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        (b"{not json", 400, "not JSON"),
        (json.dumps([1, 2]), 400, "JSON object"),
        (json.dumps({"version": "4", "alerts": [alert()]}), 400, "groupKey"),
        (json.dumps(am_body([])), 400, "alerts"),
        (b"[" * 70 + b"]" * 70, 400, "nests deeper"),
    ],
)
def test_every_refusal_stores_nothing(client, am, body, code, reason):
    response = post(client, am, body)

    assert response.status_code == code
    assert reason in response.json()["detail"]
    assert stored() == (0, 0, 0, 0)


def test_over_the_cap_is_413_and_stores_nothing(client, am, settings):
    settings.INGEST_MAX_BODY_BYTES = 4096
    body = am_body([alert(annotations={"summary": "x" * 5000})])

    response = post(client, am, body)

    assert response.status_code == 413
    assert "INGEST_MAX_BODY_BYTES" in response.json()["detail"]
    assert stored() == (0, 0, 0, 0)


def test_the_default_cap_is_10_mib(client, am):
    nine_mib = am_body([alert(annotations={"summary": "x" * (9 * 1024 * 1024)})])
    eleven = am_body([alert(annotations={"summary": "x" * (11 * 1024 * 1024)})])

    assert post(client, am, eleven).status_code == 413
    assert stored() == (0, 0, 0, 0)
    assert post(client, am, nine_mib).status_code == 202


def test_rate_limited_is_429_with_retry_after_and_stores_nothing(client, am):
    Integration.objects.filter(pk=am.pk).update(rate_limit_per_minute=1)
    post(client, am, am_body([alert()], group="first"))
    before = stored()

    refused = post(client, am, am_body([alert()], group="second"))

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    assert stored() == before


def test_the_rate_limit_fails_open_when_the_cache_is_down(
    client, am, monkeypatch, caplog
):
    from incidents.ingestion import ratelimit

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(ratelimit.sharedcache, "count", down)
    monkeypatch.setattr(ratelimit, "_cache_down_until", 0.0)
    Integration.objects.filter(pk=am.pk).update(rate_limit_per_minute=1)

    with caplog.at_level(logging.WARNING, logger="incidents.ingestion.ratelimit"):
        codes = [
            post(client, am, am_body([alert()], group=f"g{i}")).status_code
            for i in range(3)
        ]

    assert codes == [202, 202, 202]
    assert "cache is unavailable" in caplog.text
    monkeypatch.setattr(ratelimit, "_cache_down_until", 0.0)


# --- after commit ---------------------------------------------------------------------------


def test_the_follow_up_runs_once_after_commit_and_the_sweep_catches_misses(
    client, am, django_capture_on_commit_callbacks, monkeypatch
):
    IncidentTypeFactory(slug="service-outage")
    queued = []
    monkeypatch.setattr(
        "incidents.tasks.alert_follow_up_task.delay", lambda: queued.append(1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, am, am_body([alert()], group="a")).json()["incident"]
        post(client, am, am_body([alert()], group="b"))
    incident = Incident.objects.get(reference=first)
    # a storm queues one drain, not one task per incident
    assert queued == [1]
    assert incident.alert_state.followed_up_at is None

    # the message was lost: the sweep does it once the grace period passed
    assert ingestion_service.alert_follow_up_sweep(now=timezone.now()) == 0
    later = timezone.now() + ingestion_service.FOLLOW_UP_GRACE
    assert ingestion_service.alert_follow_up_sweep(now=later) == 2
    assert ingestion_service.alert_follow_up_sweep(now=later) == 0

    incident.refresh_from_db()
    assert incident.alert_state.followed_up_at == later
    assert "confidence" in incident.suggestion
    assert incident.timeline.filter(kind="severity_suggested").exists()


def test_the_drain_follows_up_everything_waiting_and_clears_its_flag(
    client, am, django_capture_on_commit_callbacks, monkeypatch
):
    from incidents.ingestion import sharedcache

    monkeypatch.setattr("incidents.tasks.alert_follow_up_task.delay", lambda: None)
    with django_capture_on_commit_callbacks(execute=True):
        for group in ("a", "b", "c"):
            post(client, am, am_body([alert()], group=group))
    assert cache.get(ingestion_service.FOLLOW_UP_FLAG) is not None

    assert ingestion_service.alert_follow_up_drain() == 3

    assert not AlertState.objects.filter(followed_up_at__isnull=True).exists()
    assert cache.get(ingestion_service.FOLLOW_UP_FLAG) is None
    assert sharedcache.add_flag(ingestion_service.FOLLOW_UP_FLAG, seconds=2)
    assert ingestion_service.alert_follow_up_drain() == 0


def test_the_follow_up_announces_the_declaration_once(client, am):
    from notifications.models import Notification
    from tests.notifications.factories import StakeholderListFactory

    watcher = UserFactory(email="triage@example.com")
    StakeholderListFactory(triage=True, users=[watcher])
    reference = post(client, am, am_body([alert()])).json()["incident"]
    incident = Incident.objects.get(reference=reference)
    assert not Notification.objects.filter(incident=incident).exists()

    ingestion_service.alert_follow_up_drain()
    ingestion_service.alert_follow_up_drain()

    declared = Notification.objects.get(incident=incident, kind="incident_declared")
    assert "triage@example.com" in {d.recipient for d in declared.deliveries.all()}
    assert incident.timeline.filter(kind="severity_suggested").count() == 1


@pytest.mark.redis
def test_the_rate_limit_counts_in_redis_with_an_expiring_window(am, settings):
    import os

    from django.core.cache import cache as shared

    from incidents.ingestion import ratelimit, sharedcache

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "incidentops-test-ratelimit",
        }
    }
    shared.clear()
    am.rate_limit_per_minute = 2

    hits = [ratelimit.rate_limit_hit(integration=am, now=1200.0 + i) for i in range(3)]

    assert hits == [0, 0, 58]
    key = shared.make_and_validate_key(f"ingest-rate:{am.pk}:20")
    client = sharedcache.redis_client()
    assert client is not None
    assert 0 < client.ttl(key) <= ratelimit.WINDOW_SECONDS + 30
    assert sharedcache.add_flag("flag", seconds=2)
    assert not sharedcache.add_flag("flag", seconds=2)
    shared.clear()


def test_the_page_links_only_web_addresses_from_a_sender(client, am):
    body = am_body(
        [
            alert(
                annotations={
                    "summary": "Disk full",
                    "runbook_url": "https://runbooks.example/disk",
                },
                generatorURL="javascript:alert(1)",
            )
        ]
    )
    reference = post(client, am, body).json()["incident"]
    client.force_login(UserFactory(groups=["Responders"]))

    page = client.get(f"/incidents/{reference}/").content.decode()

    assert 'href="https://runbooks.example/disk"' in page
    assert "javascript:alert(1)" not in page


# --- the request path's cost ---------------------------------------------------------


def test_a_new_group_seals_its_chain_once_and_is_verifiable(client, am):
    from incidents.models import IncidentRevision, TimelineHead

    reference = post(client, am, am_body([alert()], group="sealed")).json()["incident"]
    incident = Incident.objects.get(reference=reference)

    newest = incident.timeline.order_by("-sequence").first()
    head = TimelineHead.objects.get(incident=incident)
    assert newest.sequence == 2  # declared, then the new alert
    assert (head.count, head.last_hash) == (newest.sequence, newest.hash)
    assert verify_timeline(incident).ok
    assert IncidentRevision.objects.get(incident=incident).revision >= 1

    post(client, am, am_body([alert(), alert(name="Other")], group="sealed"))

    head.refresh_from_db()
    newest = incident.timeline.order_by("-sequence").first()
    assert (head.count, head.last_hash) == (3, newest.hash)
    assert verify_timeline(incident).ok


def test_a_delivery_costs_a_fixed_number_of_statements(client, am):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(body):
        # (the test's transaction makes the delivery's BEGIN a SAVEPOINT)
        with CaptureQueriesContext(connection) as ctx:
            assert post(client, am, body).status_code == 202
        return [q["sql"].split()[0].upper() for q in ctx.captured_queries]

    # A new group: the integration, the open-incident look-up, the severity
    # levels, the incident, two timeline entries, the alert, the services its
    # labels name, the group state, the signed head and the revision (once,
    # one upsert each), the reference, history. (With a Redis cache the levels
    # and services come from the process's copy: two fewer.) No savepoint: the delivery
    # holds the new row's lock and a lost race starts it over.
    post(client, am, am_body([alert()], group="the year's first"))  # its counter
    sql = statements(am_body([alert()], group="counted"))
    assert len(sql) <= 16 and sql.count("SAVEPOINT") == 1
    # The first repeat writes its summary entry: linked from the signed head,
    # then the head and the revision once.
    sql = statements(am_body([alert()], group="counted"))
    assert len(sql) <= 12 and sql.count("SAVEPOINT") == 1
    # A plain repeat: the integration, the lock, the state, the alert rows,
    # one update of each (no timeline entry: repeats are summarised later).
    sql = statements(am_body([alert()], group="counted"))
    assert len(sql) <= 8


def test_a_delivery_of_several_entries_signs_the_head_once(client, am):
    """A new alert joining an open group with a worse severity writes several
    entries (new alert, suggestion raised); the head and revision once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.models import IncidentRevision, TimelineHead

    reference = post(client, am, am_body([alert()], group="several")).json()["incident"]
    incident = Incident.objects.get(reference=reference)
    revision = IncidentRevision.objects.get(incident=incident).revision
    worse = alert(
        name="Down", severity_word="critical", startsAt="2026-02-01T10:00:00Z"
    )
    with CaptureQueriesContext(connection) as ctx:
        post(client, am, am_body([alert(), worse], group="several"))
    sql = [q["sql"] for q in ctx.captured_queries]
    added = incident.timeline.filter(sequence__gt=2).count()
    assert added >= 3  # the new alert, the earlier detection, the suggestion
    assert sum("incidents_timelinehead" in q and "INSERT" in q for q in sql) == 1
    assert sum("incidents_incidentrevision" in q for q in sql) == 1
    head = TimelineHead.objects.get(incident=incident)
    newest = incident.timeline.order_by("-sequence").first()
    assert (head.count, head.last_hash) == (newest.sequence, newest.hash)
    assert IncidentRevision.objects.get(incident=incident).revision == revision + 1
    assert verify_timeline(incident).ok


def test_configuration_is_read_once_per_process_until_it_changes(
    client, am, settings, django_capture_on_commit_callbacks
):
    import os

    from django.core.cache import cache as shared
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.ingestion import configcache
    from incidents.models import IncidentService
    from tests.factories import ServiceFactory

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": "incidentops-test-configcache",
        }
    }
    shared.clear()
    configcache.forget()

    def reads(group, labels=None):
        body = am_body([alert(labels=labels or {})], group=group)
        with CaptureQueriesContext(connection) as ctx:
            assert post(client, am, body).status_code == 202
        sql = " ".join(q["sql"] for q in ctx.captured_queries)
        return {
            table
            for table in ("incidents_severitylevel", "incidents_service")
            if f'FROM "{table}"' in sql
        }

    try:
        assert reads("first") == {"incidents_severitylevel", "incidents_service"}
        assert reads("second") == set()  # this process's copy, stamp unchanged
        # A committed change moves the stamp: the next delivery reads again and
        # sees the new service.
        with django_capture_on_commit_callbacks(execute=True):
            ServiceFactory(slug="checkout", alert_labels={"job": "checkout"})
        assert reads("third", {"job": "checkout"}) == {
            "incidents_severitylevel",
            "incidents_service",
        }
        assert IncidentService.objects.filter(service__slug="checkout").count() == 1
        # Between a change and its commit this process does not cache.
        ServiceFactory(slug="pending", alert_labels={"job": "pending"})
        assert reads("fourth") == {"incidents_severitylevel", "incidents_service"}
        assert reads("fifth") == {"incidents_severitylevel", "incidents_service"}
    finally:
        shared.clear()
        configcache.forget()
        configcache._state["suspended"] = 0
