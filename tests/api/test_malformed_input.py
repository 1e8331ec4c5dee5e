"""No 500 from input: every malformed body, field or query gets a 4xx with a
JSON error body and stores nothing (run on PostgreSQL too, which refuses NUL
characters and lone surrogates that SQLite would store)."""

import json

import pytest

from incidents import services
from incidents.models import Incident, TimelineEntry
from tests.api.conftest import client_for
from tests.factories import (
    INTEGRATION_SECRET,
    IntegrationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NUL = "a\x00b"
SURROGATE = "a\ud800b"


@pytest.fixture
def manager(db):
    return UserFactory(username="mia", groups=["Incident managers", "Responders"])


@pytest.fixture
def api(manager):
    return client_for(manager)


@pytest.fixture
def incident(manager):
    return services.incident_declare(actor=manager, title="Checkout is slow")


def raw_post(api, path, text, method="post"):
    """Send ``text`` as the body exactly (json.dumps would escape it anyway)."""
    return getattr(api, method)(
        path,
        data=text.encode("utf-8", "surrogatepass"),
        content_type="application/json",
    )


def assert_refused(response, *codes):
    assert response.status_code in (codes or (400,)), (
        response.status_code,
        response.content[:300],
    )
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def stored():
    return Incident.objects.count(), TimelineEntry.objects.count()


@pytest.mark.parametrize("value", [NUL, SURROGATE])
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/incidents/", "incident_type"),
        ("/api/v1/incidents/", "title"),
        ("/api/v1/incidents/{id}/confirm-severity/", "severity"),
        ("/api/v1/incidents/{id}/assign-role/", "role"),
        ("/api/v1/incidents/{id}/assign-role/", "user"),
        ("/api/v1/incidents/{id}/actions/", "owner"),
        ("/api/v1/triage/suggest/", "title"),
    ],
)
def test_nul_and_lone_surrogates_in_fields_are_400(api, incident, path, field, value):
    body = {
        "title": "Fine title",
        "severity": "SEV-2",
        "role": "scribe",
        "user": "mia",
        field: value,
    }
    before = stored()

    response = raw_post(api, path.format(id=incident.pk), json.dumps(body))

    assert_refused(response)
    assert stored() == before


@pytest.mark.parametrize("value", [NUL, SURROGATE])
def test_nul_and_lone_surrogates_in_a_key_are_400(api, value):
    response = raw_post(api, "/api/v1/incidents/", json.dumps({value: 1, "title": "x"}))
    assert_refused(response)


def test_json_nested_ten_thousand_deep_is_400(api):
    before = stored()
    response = raw_post(api, "/api/v1/incidents/", "[" * 10_000 + "]" * 10_000)
    assert_refused(response)
    assert stored() == before


def test_an_oversized_api_body_is_a_json_413(api, settings):
    body = json.dumps({"title": "x", "description": "y" * (3 * 1024 * 1024)})
    response = raw_post(api, "/api/v1/incidents/", body)
    assert_refused(response, 413)
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "created_before=9999-12-31",
        "created_after=9999-12-31T23:59:59Z",
        "created_before=0001-01-01",
        "q=a%00b",
        "type=a%00b",
        "severity=SEV%001",
    ],
)
def test_malformed_queries_are_4xx(api, incident, query):
    response = api.get(f"/api/v1/incidents/?{query}")
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json")


def test_a_long_follow_up_title_is_400(api, manager):
    from django.utils import timezone

    from reviews.models import Review
    from tests.factories import IncidentFactory

    review = Review.objects.create(
        incident=IncidentFactory(reporter=manager),
        owner=manager,
        due_at=timezone.now(),
    )

    response = api.post(
        f"/api/v1/reviews/{review.pk}/follow-ups/",
        {"title": "x" * 201},
        format="json",
    )

    assert_refused(response)
    assert "title" in response.json()["errors"]


def test_create_refuses_severity_and_commander_like_patch(api):
    for field, value in (("severity", "SEV-1"), ("commander", "mia")):
        created = api.post(
            "/api/v1/incidents/", {"title": "x", field: value}, format="json"
        )
        patched_like = created.json()
        assert created.status_code == 400, patched_like
        assert field in patched_like.get("errors", {}), patched_like
    assert not Incident.objects.exists()


@pytest.mark.parametrize("value", [NUL, SURROGATE])
def test_ingestion_refuses_nul_and_surrogates_in_label_keys(client, value):
    integration = IntegrationFactory()
    body = json.dumps(
        {"title": "Disk full", "dedup_key": "disk", "labels": {value: "x"}}
    )

    response = client.post(
        f"/api/v1/integrations/{integration.pk}/alerts/",
        data=body.encode("utf-8", "surrogatepass"),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {INTEGRATION_SECRET}",
    )

    assert_refused(response)
    assert not Incident.objects.exists()


def test_ingestion_refuses_deep_json(client):
    integration = IntegrationFactory()
    response = client.post(
        f"/api/v1/integrations/{integration.pk}/alerts/",
        data="[" * 10_000 + "]" * 10_000,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {INTEGRATION_SECRET}",
    )
    assert_refused(response)


def test_bidi_overrides_are_neutralised_in_titles_and_subjects(api, manager):
    from notifications.models import Notification
    from tests.notifications.factories import StakeholderListFactory

    StakeholderListFactory(triage=True, users=[manager])
    title = "Invoice \u202egpj.exe\u202c export failed"

    created = api.post("/api/v1/incidents/", {"title": title}, format="json")

    assert created.status_code == 201
    assert created.json()["title"] == "Invoice gpj.exe export failed"
    subject = Notification.objects.get().subject
    assert "\u202e" not in subject and "gpj.exe" in subject
    patched = api.patch(
        f"/api/v1/incidents/{created.json()['id']}/",
        {"title": "\u2066Renamed\u2069"},
        format="json",
    )
    assert patched.json()["title"] == "Renamed"


def test_ingestion_accepts_while_the_cache_is_down(client, monkeypatch):
    """Redis stopped: every cache call fails; intake still answers 202 (the
    rate limit and the wrong-secret count fail open)."""
    from django.core.cache import cache

    from incidentops import throttle
    from incidents.ingestion import ratelimit

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    for name in ("get", "add", "incr", "set", "delete", "get_many"):
        monkeypatch.setattr(cache, name, down)
    monkeypatch.setattr(ratelimit.sharedcache, "count", down)
    monkeypatch.setattr(ratelimit, "_cache_down_until", 0.0)
    monkeypatch.setattr(throttle, "_cache_down_until", 0.0)
    integration = IntegrationFactory()

    response = client.post(
        f"/api/v1/integrations/{integration.pk}/alerts/",
        data=json.dumps({"title": "Disk full", "dedup_key": "disk"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {INTEGRATION_SECRET}",
    )

    assert response.status_code == 202, response.content
    assert Incident.objects.count() == 1
    monkeypatch.setattr(ratelimit, "_cache_down_until", 0.0)
    monkeypatch.setattr(throttle, "_cache_down_until", 0.0)


def test_bidi_overrides_are_neutralised_in_action_item_titles(api, incident):
    created = api.post(
        f"/api/v1/incidents/{incident.pk}/actions/",
        {"title": "Check \u202egpj.exe\u202c on hosts"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["title"] == "Check gpj.exe on hosts"
    patched = api.patch(
        f"/api/v1/actions/{created.json()['id']}/",
        {"title": "\u2066Renamed\u2069"},
        format="json",
    )
    assert patched.json()["title"] == "Renamed"
