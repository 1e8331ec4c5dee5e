"""Regulatory notifications: which authority was told, when, by whom, how, and
whether in time. Recorded by the people who run the incident (service, portal,
API), on the timeline, read-only in the admin, and invisible wherever the
incident is."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from incidentops import groups
from incidentops.exceptions import DomainError, NotPermitted
from incidentops.timezones import org_localtime
from incidents import services
from incidents.models import RegulatoryNotification, TimelineEntry
from tests.factories import IncidentTypeFactory, UserFactory, role

pytestmark = pytest.mark.django_db

DETECTED = datetime(2026, 3, 2, 14, 41, 27, tzinfo=UTC)
AUTHORITY = "Information Commissioner's Office"


@pytest.fixture
def breach_type(db):
    return IncidentTypeFactory(
        slug="personal-data-breach",
        notification_deadline_hours=72,
        notification_authority=AUTHORITY,
        restricted=True,
        restricted_groups=[groups.INCIDENT_MANAGERS],
    )


@pytest.fixture
def breach(breach_type, responder, manager):
    incident = services.incident_declare(
        actor=responder,
        title="Order pages shown to the wrong customers",
        incident_type=breach_type,
        detected_at=DETECTED,
        now=DETECTED + timedelta(minutes=3),
    )
    services.incident_assign_role(
        incident=incident,
        actor=manager,
        role=role("commander"),
        user=manager,
        now=DETECTED + timedelta(minutes=5),
    )
    return incident


@pytest.fixture
def outsider(db):
    return UserFactory(username="olly", groups=[groups.RESPONDERS])


def test_recorded_in_time_against_the_types_deadline(breach, manager):
    told = DETECTED + timedelta(hours=30)

    row = services.regulatory_notification_record(
        incident=breach,
        actor=manager,
        notified_at=told,
        method="online_form",
        reference="ICO-123",
    )

    deadline = breach.detected_at + timedelta(
        hours=breach.incident_type.notification_deadline_hours
    )
    assert row.authority == breach.incident_type.notification_authority
    assert row.deadline_at == deadline
    assert row.notified_by == manager and row.recorded_by == manager
    assert row.in_time is True and row.margin == deadline - told
    entry = TimelineEntry.objects.get(incident=breach, kind="regulatory")
    assert entry.actor == manager
    assert entry.data["notification"] == row.pk
    assert entry.data["in_time"] is True and entry.data["reference"] == "ICO-123"
    assert AUTHORITY in entry.summary and "in time" in entry.summary
    assert org_localtime(told).strftime("%Y-%m-%d %H:%M") in entry.summary


def test_a_notification_after_the_deadline_is_late(breach, manager):
    deadline = DETECTED + timedelta(hours=24)
    row = services.regulatory_notification_record(
        incident=breach,
        actor=manager,
        authority="Card scheme",
        notified_at=deadline + timedelta(hours=2),
        deadline_at=deadline,
        method="email",
    )
    assert row.in_time is False and row.margin == -timedelta(hours=2)
    assert "late" in TimelineEntry.objects.get(kind="regulatory").summary


def test_no_deadline_means_no_verdict(breach, manager):
    row = services.regulatory_notification_record(
        incident=breach,
        actor=manager,
        authority="Police",
        notified_at=DETECTED + timedelta(hours=1),
        deadline_at=None,
        method="phone",
    )
    assert row.deadline_at is None and row.in_time is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"notified_at": DETECTED - timedelta(minutes=1)}, "notified_at"),
        ({"notified_at": timezone.now() + timedelta(hours=1)}, "notified_at"),
        ({"method": "carrier-pigeon"}, "method"),
        ({"deadline_at": DETECTED - timedelta(hours=1)}, "deadline_at"),
        ({"reference": "x" * 201}, "reference"),
    ],
)
def test_bad_input_is_refused_and_stores_nothing(breach, manager, values, field):
    arguments = {
        "notified_at": DETECTED + timedelta(hours=1),
        "method": "email",
        **values,
    }
    with pytest.raises(DomainError) as refused:
        services.regulatory_notification_record(
            incident=breach, actor=manager, **arguments
        )
    assert refused.value.field == field
    assert not RegulatoryNotification.objects.exists()
    assert not TimelineEntry.objects.filter(kind="regulatory").exists()


def test_no_authority_at_all_is_refused(manager, responder):
    incident = services.incident_declare(actor=responder, title="Filing missed")
    with pytest.raises(DomainError) as refused:
        services.regulatory_notification_record(
            incident=incident,
            actor=manager,
            notified_at=incident.detected_at,
            method="email",
        )
    assert refused.value.field == "authority"


def test_the_notifier_must_be_a_person_who_may_see_it(breach, manager, outsider, bot):
    for person in (outsider, bot):
        with pytest.raises(DomainError) as refused:
            services.regulatory_notification_record(
                incident=breach,
                actor=manager,
                notified_at=DETECTED + timedelta(hours=1),
                method="email",
                notified_by=person,
            )
        assert refused.value.field == "notified_by"


def test_only_people_who_run_the_incident_record(incident, outsider, bot):
    # a responder who sees the incident but holds no role; a system account
    for actor in (outsider, bot):
        with pytest.raises(NotPermitted):
            services.regulatory_notification_record(
                incident=incident,
                actor=actor,
                authority="Regulator",
                notified_at=incident.detected_at,
                method="email",
            )


# --- API ---------------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_records_and_lists(breach, manager):
    url = f"/api/v1/incidents/{breach.pk}/regulatory-notifications/"
    told = DETECTED + timedelta(hours=80)  # past the 72 h deadline
    response = _api(manager).post(
        url,
        {"notified_at": told.isoformat(), "method": "online_form", "reference": "R1"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["authority"] == AUTHORITY and body["in_time"] is False
    assert body["notified_by"] == "mia" and body["reference"] == "R1"
    listed = _api(manager).get(url).json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == body["id"]


def test_api_refusals(breach, incident, manager, outsider):
    url = f"/api/v1/incidents/{breach.pk}/regulatory-notifications/"
    good = {"notified_at": (DETECTED + timedelta(hours=1)).isoformat()}
    good["method"] = "email"
    assert _api(outsider).get(url).status_code == 404
    assert _api(outsider).post(url, good, format="json").status_code == 404
    seen = f"/api/v1/incidents/{incident.pk}/regulatory-notifications/"
    assert _api(outsider).get(seen).status_code == 200
    refused = {**good, "authority": "Regulator"}
    refused["notified_at"] = incident.detected_at.isoformat()
    assert _api(outsider).post(seen, refused, format="json").status_code == 403
    unknown = _api(manager).post(url, {**good, "in_time": True}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_field"
    future = {**good, "notified_at": (timezone.now() + timedelta(days=1)).isoformat()}
    assert _api(manager).post(url, future, format="json").status_code == 400
    assert not RegulatoryNotification.objects.exists()


def test_the_schema_documents_the_endpoint(manager):
    schema = _api(manager).get("/api/schema/?format=json").json()
    path = schema["paths"]["/api/v1/incidents/{id}/regulatory-notifications/"]
    assert set(path) >= {"get", "post"}
    assert "201" in path["post"]["responses"]


# --- portal and admin --------------------------------------------------------------


def test_the_incident_page_records_and_shows_it(breach, manager):
    client = Client()
    client.force_login(manager)
    page = client.get(breach.get_absolute_url()).content.decode()
    assert 'aria-label="Record a regulatory notification"' in page
    told = org_localtime(DETECTED + timedelta(hours=2))
    response = client.post(
        f"/incidents/{breach.reference}/regulatory/",
        {
            "authority": AUTHORITY,
            "notified_at": told.strftime("%Y-%m-%dT%H:%M"),
            "notified_by": "mia",
            "method": "online_form",
            "reference": "ICO-9",
            # the deadline as the form shows it, to the minute
            "deadline_at": org_localtime(breach.notification_deadline).strftime(
                "%Y-%m-%dT%H:%M"
            ),
        },
    )
    assert response.status_code == 302
    row = RegulatoryNotification.objects.get()
    assert row.notified_at == told.replace(second=0)
    assert row.deadline_at == breach.notification_deadline  # kept to the second
    page = client.get(breach.get_absolute_url()).content.decode()
    assert 'data-testid="regulatory-in-time"' in page and "ICO-9" in page


def test_a_refused_portal_record_shows_the_reason(breach, manager):
    client = Client()
    client.force_login(manager)
    early = org_localtime(DETECTED - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/incidents/{breach.reference}/regulatory/",
        {
            "authority": AUTHORITY,
            "notified_at": early,
            "notified_by": "mia",
            "method": "email",
        },
    )
    assert response.status_code == 200
    assert "before the incident was detected" in response.content.decode()
    assert not RegulatoryNotification.objects.exists()


def test_the_portal_hides_the_form_from_those_who_do_not_run_it(
    breach, incident, outsider
):
    client = Client()
    client.force_login(outsider)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert "Record a regulatory notification" not in page
    client.force_login(outsider)
    assert client.get(breach.get_absolute_url()).status_code == 404
    response = client.post(
        f"/incidents/{breach.reference}/regulatory/",
        {"authority": "X", "method": "email", "notified_by": "olly"},
    )
    assert response.status_code == 404


def test_the_admin_lists_only_visible_incidents_notifications(breach, manager):
    services.regulatory_notification_record(
        incident=breach,
        actor=manager,
        notified_at=DETECTED + timedelta(hours=1),
        method="email",
    )
    admin = UserFactory(
        username="ada", is_staff=True, groups=[groups.RESPONDERS, groups.REVIEWERS]
    )
    from django.contrib.auth.models import Permission

    admin.user_permissions.add(
        Permission.objects.get(codename="view_regulatorynotification")
    )
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/incidents/regulatorynotification/")
    assert listing.status_code == 200
    assert "Commissioner" not in listing.content.decode()  # restricted, not granted
    row = RegulatoryNotification.objects.get()
    change = f"/admin/incidents/regulatorynotification/{row.pk}/change/"
    assert client.get(change).status_code in (302, 404)
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    listing = client.get("/admin/incidents/regulatorynotification/")
    assert "Commissioner" in listing.content.decode()
    page = client.get(change)
    assert page.status_code == 200 and 'name="authority"' not in page.content.decode()
