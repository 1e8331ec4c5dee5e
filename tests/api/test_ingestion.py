import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from incidentops.exceptions import InvalidTransition
from incidents import services
from incidents.ingestion import parsers, ratelimit
from incidents.ingestion.service import REPEAT_SUMMARY_INTERVAL, alert_ingest
from incidents.models import Alert, AlertState, Incident, Integration, TimelineEntry
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


def alertmanager_body(
    status="firing", group='{}:{alertname="HighErrorRate"}', alerts=None
):
    alerts = alerts or [("fp-1", status)]
    return {
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "incidentops",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate", "severity": "critical"},
        "commonAnnotations": {
            "summary": "Checkout error rate above 5%",
            "description": "5xx ratio on checkout is 7%.",
        },
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": alert_status,
                "labels": {
                    "alertname": "HighErrorRate",
                    "instance": fingerprint,
                    "severity": "critical",
                },
                "annotations": {"summary": "Checkout error rate above 5%"},
                "startsAt": "2026-03-01T10:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example/graph",
                "fingerprint": fingerprint,
            }
            for fingerprint, alert_status in alerts
        ],
    }


def generic_body(**overrides):
    return {
        "title": "Disk almost full on db-1",
        "description": "95% used",
        "dedup_key": "db-1-disk",
        "severity_hint": "",
        "status": "firing",
        "labels": {"host": "db-1"},
        **overrides,
    }


@pytest.fixture
def am(db):
    return IntegrationFactory(alertmanager=True, name="prometheus")


@pytest.fixture
def generic(db):
    return IntegrationFactory(name="generic-hook")


def post(client, integration, body, **extra):
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(
        PATH.format(id=integration.pk),
        data=raw,
        content_type="application/json",
        **{**AUTH, **extra},
    )


def counts():
    return (
        Incident.objects.count(),
        TimelineEntry.objects.count(),
        AlertState.objects.count(),
        Alert.objects.count(),
    )


# --- alertmanager ----------------------------------------------------------------


def test_alertmanager_first_delivery_opens_a_triage_incident(client, am):
    from tests.api.openapi import assert_conforms

    response = post(client, am, alertmanager_body())

    assert response.status_code == 202
    body = response.json()
    assert body["created"] is True
    incident = Incident.objects.get(reference=body["incident"])
    assert incident.status == "triage"
    assert incident.title == "Checkout error rate above 5%"
    assert incident.integration == am
    assert incident.reporter == am.service_account
    # The label suggests SEV-1; nobody confirmed anything.
    assert incident.suggested_severity == severity("SEV-1")
    assert incident.suggestion["severity"] == "SEV-1"
    assert incident.severity is None
    assert incident.timeline.filter(kind="alert").count() == 1
    assert_conforms(response, PATH, "post")


def test_alertmanager_repeats_and_new_alerts_attach_to_the_open_incident(client, am):
    first = post(client, am, alertmanager_body()).json()

    repeat = post(client, am, alertmanager_body()).json()
    more = post(
        client, am, alertmanager_body(alerts=[("fp-1", "firing"), ("fp-2", "firing")])
    ).json()

    assert repeat == {"incident": first["incident"], "created": False}
    assert more == {"incident": first["incident"], "created": False}
    assert Incident.objects.count() == 1
    incident = Incident.objects.get()
    alert_entries = incident.timeline.filter(kind="alert")
    assert any("fp-2" in str(e.data.get("fingerprints")) for e in alert_entries)
    state = incident.alert_state
    assert state.deliveries == 3
    assert set(incident.alerts.values_list("fingerprint", flat=True)) == {
        "fp-1",
        "fp-2",
    }
    assert incident.alerts.get(fingerprint="fp-1").deliveries == 3


def test_another_group_key_opens_another_incident(client, am):
    one = post(client, am, alertmanager_body(group="g1")).json()
    two = post(client, am, alertmanager_body(group="g2")).json()

    assert one["incident"] != two["incident"]
    assert two["created"] is True


def test_an_alert_storm_does_not_flood_the_timeline(client, am):
    post(client, am, alertmanager_body())
    before = TimelineEntry.objects.count()

    for _ in range(30):
        assert post(client, am, alertmanager_body()).status_code == 202

    state = AlertState.objects.get()
    assert state.deliveries == 31
    # One "N repeats" summary at most in the interval, not thirty entries.
    assert TimelineEntry.objects.count() - before == 1
    summary = TimelineEntry.objects.order_by("-pk").first()
    assert summary.data["repeats"] == 1
    assert state.repeats_unreported == 29


def test_repeat_summary_comes_again_after_the_interval(am):
    batch = parsers.parse(am.kind, alertmanager_body())
    start = timezone.now()
    alert_ingest(integration=am, batch=batch, now=start)
    alert_ingest(integration=am, batch=batch, now=start)
    for minute in range(1, 4):
        alert_ingest(integration=am, batch=batch, now=start + timedelta(minutes=minute))

    later = start + REPEAT_SUMMARY_INTERVAL + timedelta(seconds=1)
    alert_ingest(integration=am, batch=batch, now=later)

    summaries = TimelineEntry.objects.filter(data__has_key="repeats").order_by("pk")
    assert [s.data["repeats"] for s in summaries] == [1, 4]


def test_resolved_notification_is_recorded_and_does_not_resolve(client, am):
    ref = post(client, am, alertmanager_body()).json()["incident"]

    response = post(
        client, am, alertmanager_body(status="resolved", alerts=[("fp-1", "resolved")])
    )

    assert response.json() == {"incident": ref, "created": False}
    incident = Incident.objects.get(reference=ref)
    assert incident.status == "triage"
    last = incident.timeline.order_by("-sequence").first()
    assert "resolved" in last.summary
    assert last.data["status"] == "resolved"


@pytest.fixture
def investigating_alert(client, am):
    manager = UserFactory(username="mia", groups=["Incident managers", "Responders"])
    ref = post(client, am, alertmanager_body()).json()["incident"]
    incident = Incident.objects.get(reference=ref)
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    services.incident_confirm_severity(
        incident=incident, actor=manager, severity=severity("SEV-1")
    )
    services.incident_transition(
        incident=incident, actor=manager, status="investigating"
    )
    return incident


def test_resolved_moves_to_mitigated_when_the_integration_says_so(
    client, am, investigating_alert
):
    Integration.objects.filter(pk=am.pk).update(resolve_moves_to_mitigated=True)

    post(
        client, am, alertmanager_body(status="resolved", alerts=[("fp-1", "resolved")])
    )

    investigating_alert.refresh_from_db()
    assert investigating_alert.status == "mitigated"
    assert investigating_alert.resolved_at is None


def test_resolved_leaves_status_alone_by_default(client, am, investigating_alert):
    post(
        client, am, alertmanager_body(status="resolved", alerts=[("fp-1", "resolved")])
    )

    investigating_alert.refresh_from_db()
    assert investigating_alert.status == "investigating"


def test_firing_again_after_a_person_resolved_opens_a_new_incident(
    client, am, investigating_alert
):
    manager = investigating_alert.commander
    services.incident_transition(
        incident=investigating_alert, actor=manager, status="resolved"
    )

    response = post(client, am, alertmanager_body())

    assert response.json()["created"] is True
    assert response.json()["incident"] != investigating_alert.reference


def test_resolved_for_an_unknown_key_opens_nothing(client, am):
    response = post(client, am, alertmanager_body(status="resolved"))

    assert response.status_code == 202
    assert response.json() == {"incident": None, "created": False}
    assert counts() == (0, 0, 0, 0)


# --- generic ----------------------------------------------------------------------


def test_generic_one_open_incident_per_dedup_key(client, generic):
    outage = IncidentTypeFactory(slug="service-outage")
    Integration.objects.filter(pk=generic.pk).update(default_incident_type=outage)

    first = post(client, generic, generic_body(severity_hint="SEV-2")).json()
    again = post(client, generic, generic_body()).json()
    other = post(client, generic, generic_body(dedup_key="db-2-disk")).json()

    assert first["created"] is True
    assert again == {"incident": first["incident"], "created": False}
    assert other["created"] is True
    incident = Incident.objects.get(reference=first["incident"])
    assert incident.incident_type == outage
    assert incident.suggested_severity == severity("SEV-2")
    assert incident.severity is None


def test_generic_resolved_is_recorded(client, generic):
    ref = post(client, generic, generic_body()).json()["incident"]

    post(client, generic, generic_body(status="resolved"))

    incident = Incident.objects.get(reference=ref)
    assert incident.timeline.filter(data__status="resolved").exists()
    assert incident.alert_state.status == "resolved"


# --- refusals store nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [{}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": "Token x"}],
)
def test_wrong_or_missing_secret_is_401_and_stores_nothing(client, generic, header):
    response = client.post(
        PATH.format(id=generic.pk),
        data=json.dumps(generic_body()),
        content_type="application/json",
        **header,
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert counts() == (0, 0, 0, 0)


def test_unknown_integration_is_401(client, db):
    response = client.post(
        PATH.format(id=999), data="{}", content_type="application/json", **AUTH
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (json.dumps([1, 2]), "JSON object"),
        (json.dumps({"title": "x"}), "dedup_key"),
        (json.dumps(generic_body(status="sleeping")), "status"),
    ],
)
def test_malformed_generic_body_is_400_with_a_reason(client, generic, body, reason):
    response = post(client, generic, body)

    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert counts() == (0, 0, 0, 0)


def test_malformed_alertmanager_body_is_400(client, am):
    body = alertmanager_body()
    body["version"] = "3"

    response = post(client, am, body)

    assert response.status_code == 400
    assert "version" in response.json()["detail"]
    assert counts() == (0, 0, 0, 0)


def test_body_over_the_cap_is_413_and_stores_nothing(client, generic, settings):
    settings.INGEST_MAX_BODY_BYTES = 1024 * 1024
    body = generic_body(description="x" * (1024 * 1024))

    response = post(client, generic, body)

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert counts() == (0, 0, 0, 0)


def test_body_just_under_the_cap_is_accepted(client, generic, settings):
    # Django's own upload limit is lower than ours here: it must not interfere.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    settings.INGEST_MAX_BODY_BYTES = 1024 * 1024
    padding = 1024 * 1024 - len(json.dumps(generic_body(labels={"pad": ""}))) - 10
    body = json.dumps(generic_body(labels={"pad": "x" * padding}))
    assert len(body) < 1024 * 1024

    response = post(client, generic, body)

    assert response.status_code == 202


def test_stream_is_read_only_up_to_the_cap_without_content_length(
    generic, rf, settings
):
    from incidents.api import AlertIngestView

    settings.INGEST_MAX_BODY_BYTES = 1024 * 1024
    raw = json.dumps(generic_body(description="y" * (1024 * 1024 + 10))).encode()
    request = rf.post(
        PATH.format(id=generic.pk), data=raw, content_type="application/json", **AUTH
    )
    # No usable Content-Length (e.g. a chunked upload behind a proxy): the view
    # still reads at most the cap + 1 bytes and refuses.
    request.META["CONTENT_LENGTH"] = ""

    response = AlertIngestView.as_view()(request, pk=generic.pk)

    assert response.status_code == 413
    assert counts() == (0, 0, 0, 0)


def test_rate_limit_answers_429_with_retry_after_and_stores_nothing(
    client, generic, monkeypatch
):
    # The limit counts per clock minute; the three posts must fall in one minute
    # however slow the machine, so the limiter's clock stands still at 10 s past.
    clock = SimpleNamespace(time=lambda: 610.0, monotonic=ratelimit.time.monotonic)
    monkeypatch.setattr(ratelimit, "time", clock)
    Integration.objects.filter(pk=generic.pk).update(rate_limit_per_minute=2)

    codes = [post(client, generic, generic_body()).status_code for _ in range(2)]
    before = counts()
    refused = post(client, generic, generic_body(dedup_key="another"))

    assert codes == [202, 202]
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "throttled"
    assert counts() == before


def test_rate_limit_window_resets(generic):
    generic.rate_limit_per_minute = 1
    assert ratelimit.rate_limit_hit(integration=generic, now=600.0) == 0
    assert ratelimit.rate_limit_hit(integration=generic, now=610.0) == 50
    assert ratelimit.rate_limit_hit(integration=generic, now=660.0) == 0


def test_inactive_integration_is_401(client, generic):
    Integration.objects.filter(pk=generic.pk).update(is_active=False)

    assert post(client, generic, generic_body()).status_code == 401
    assert counts() == (0, 0, 0, 0)


# --- create_integration ---------------------------------------------------------------


def test_create_integration_prints_url_and_secret_that_work(
    client, capsys, settings, db
):
    settings.SITE_URL = "https://ops.example.com"

    call_command("create_integration", "Prometheus EU", "--kind", "alertmanager")

    printed = json.loads(capsys.readouterr().out.strip())
    integration = Integration.objects.get(name="Prometheus EU")
    assert printed["url"] == (
        f"https://ops.example.com/api/v1/integrations/{integration.pk}/alerts/"
    )
    assert printed["secret"] not in integration.secret_hash
    assert integration.check_secret(printed["secret"])
    assert integration.service_account.username == "integration-prometheus-eu"
    assert integration.service_account.is_service_account
    assert integration.severity_label_map["critical"] == "SEV-1"
    path = printed["url"].removeprefix("https://ops.example.com")
    response = client.post(
        path,
        data=json.dumps(alertmanager_body()),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {printed['secret']}",
    )
    assert response.status_code == 202


def test_create_integration_generic_with_type_and_map(capsys, db):
    IncidentTypeFactory(slug="supplier-delay")

    call_command(
        "create_integration",
        "erp",
        "--kind",
        "generic",
        "--type",
        "supplier-delay",
        "--severity-map",
        "high=SEV-2",
        "--resolve-moves-to-mitigated",
    )

    integration = Integration.objects.get(name="erp")
    assert integration.kind == "generic"
    assert integration.default_incident_type.slug == "supplier-delay"
    assert integration.severity_label_map == {"high": "SEV-2"}
    assert integration.resolve_moves_to_mitigated is True


def test_create_integration_refuses_an_unknown_type(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Unknown incident type"):
        call_command("create_integration", "x", "--kind", "generic", "--type", "nope")
    assert Integration.objects.count() == 0


def test_reopening_while_a_newer_incident_is_open_for_the_alert_is_refused(
    client, am, investigating_alert
):
    # given the alert fired again after a person resolved its first incident
    manager = investigating_alert.commander
    services.incident_transition(
        incident=investigating_alert, actor=manager, status="resolved"
    )
    newer = post(client, am, alertmanager_body()).json()["incident"]
    api = APIClient()
    api.force_authenticate(manager)

    # when the person reopens the first one
    response = api.post(
        f"/api/v1/incidents/{investigating_alert.pk}/transition/",
        {"status": "investigating"},
        format="json",
    )

    # then it is refused, naming the open one, and nothing changed
    assert response.status_code == 400
    assert newer in response.json()["detail"]
    investigating_alert.refresh_from_db()
    assert investigating_alert.status == "resolved"
    with pytest.raises(InvalidTransition, match=newer):
        services.incident_transition(
            incident=investigating_alert, actor=manager, status="investigating"
        )


def test_a_label_suggestion_merges_with_the_stored_row_not_a_stale_copy(db, am):
    # given an incident and a stale copy of it, read before triage stored a note
    incident = services.incident_declare(
        actor=UserFactory(groups=["Responders"]), title="Disk full"
    )
    stale = Incident.objects.get(pk=incident.pk)
    Incident.objects.filter(pk=incident.pk).update(
        suggestion={"rationale": "stored meanwhile", "similar": []}
    )

    # when the alert's label suggests a severity through the stale copy
    services.incident_record_suggestion(
        incident=stale,
        severity=severity("SEV-2"),
        rationale="label critical maps to SEV-2",
        label="critical",
        actor=am.service_account,
    )

    # then the stored rationale survives, history names the integration, and
    # the timeline says a person must confirm
    incident.refresh_from_db()
    assert incident.suggested_severity.code == "SEV-2"
    assert incident.severity is None
    assert incident.suggestion["rationale"] == (
        "label critical maps to SEV-2; stored meanwhile"
    )
    assert incident.history.first().history_user == am.service_account
    entry = incident.timeline.filter(kind=TimelineEntry.Kind.SEVERITY_SUGGESTED).latest(
        "sequence"
    )
    assert "a person must confirm" in entry.summary
