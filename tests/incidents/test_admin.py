import pytest
from django.urls import reverse

from incidentops import groups
from incidents import services
from tests.factories import IncidentFactory, UserFactory


@pytest.fixture
def staff_manager(db):
    user = UserFactory(
        username="staffmia", is_staff=True, groups=[groups.INCIDENT_MANAGERS]
    )
    return user


def test_admin_incident_list_hides_restricted_incidents(client, staff_manager):
    public = IncidentFactory(title="Public outage")
    secret = services.incident_declare(
        actor=UserFactory(groups=[groups.RESPONDERS]),
        title="Executive fraud inquiry",
        restricted=True,
    )
    client.force_login(staff_manager)

    page = client.get(reverse("admin:incidents_incident_changelist"))

    assert page.status_code == 200
    assert public.title in page.text
    assert secret.title not in page.text
    hidden = client.get(reverse("admin:incidents_incident_change", args=[secret.pk]))
    assert hidden.status_code in (302, 404)


def test_admin_incidents_are_read_only(admin_client):
    incident = IncidentFactory(title="Read only")
    page = admin_client.get(
        reverse("admin:incidents_incident_change", args=[incident.pk])
    )
    assert page.status_code == 200
    assert (
        f'href="/incidents/{incident.reference}/"'
        in admin_client.get(reverse("admin:incidents_incident_changelist")).text
    )
    assert admin_client.get(reverse("admin:incidents_incident_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]),
        {"title": "Changed"},
    )
    incident.refresh_from_db()
    assert response.status_code == 403
    assert incident.title == "Read only"


def test_configurator_edits_the_taxonomy_with_history(client, db):
    configurator = UserFactory(is_staff=True, groups=[groups.CONFIGURATORS])
    client.force_login(configurator)
    response = client.post(
        reverse("admin:incidents_incidentfamily_add"),
        {"slug": "hr", "name": "HR matter", "description": ""},
    )
    assert response.status_code == 302
    from incidents.models import IncidentFamily

    family = IncidentFamily.objects.get(slug="hr")
    assert family.history.get().history_user == configurator


def test_integration_admin_never_shows_the_secret(admin_client):
    account = UserFactory(service_account=True)
    integration, secret = services.integration_create(
        actor=None, name="prom", kind="alertmanager", service_account=account
    )
    page = admin_client.get(
        reverse("admin:incidents_integration_change", args=[integration.pk])
    )
    assert page.status_code == 200
    assert secret not in page.text
    assert integration.secret_hash not in page.text


def test_admin_history_pages_hide_restricted_incidents(client, db):
    # given a staff responder who cannot see a restricted incident
    secret = services.incident_declare(
        actor=UserFactory(groups=[groups.RESPONDERS]),
        title="Executive fraud inquiry",
        restricted=True,
    )
    record = secret.history.earliest("history_date")
    staff_responder = UserFactory(is_staff=True, groups=[groups.RESPONDERS])
    client.force_login(staff_responder)

    # when they open its history list and a historical version
    listing = client.get(reverse("admin:incidents_incident_history", args=[secret.pk]))
    version = client.get(
        reverse(
            "admin:incidents_incident_simple_history",
            args=[secret.pk, record.history_id],
        )
    )

    # then both answer 404 without the title
    assert listing.status_code == 404
    assert version.status_code == 404
    assert secret.title not in listing.text
    assert secret.title not in version.text


def test_admin_history_pages_still_show_visible_incidents(client, staff_manager):
    incident = IncidentFactory(title="Public outage")
    record = incident.history.earliest("history_date")
    client.force_login(staff_manager)

    listing = client.get(
        reverse("admin:incidents_incident_history", args=[incident.pk])
    )
    version = client.get(
        reverse(
            "admin:incidents_incident_simple_history",
            args=[incident.pk, record.history_id],
        )
    )

    assert listing.status_code == 200
    assert version.status_code == 200
    assert "Public outage" in listing.text
    assert (
        client.get(
            reverse("admin:incidents_incident_history", args=["nope"])
        ).status_code
        == 404
    )


# --- alert intake in the admin -------------------------------------------------------


def _alert_incident(restricted_type=None):
    from incidents.ingestion.parsers import alertmanager as am_format
    from incidents.ingestion.service import alert_ingest
    from tests.factories import IntegrationFactory

    integration = IntegrationFactory(
        alertmanager=True, default_incident_type=restricted_type
    )
    batch = am_format.parse(am_format.SAMPLE_ALERTMANAGER)
    return integration, alert_ingest(integration=integration, batch=batch).incident


def test_admin_incident_page_shows_its_alert_records(client, staff_manager):
    integration, incident = _alert_incident()
    client.force_login(staff_manager)

    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    listing = client.get(
        reverse("admin:incidents_alert_changelist"),
        {"incident__id__exact": incident.pk},
    )
    record = incident.alerts.get(fingerprint="0f1e2d3c4b5a6978")
    detail = client.get(reverse("admin:incidents_alert_change", args=[record.pk]))

    assert page.status_code == 200
    assert "HighErrorRate (instance=web-2)" in page.text
    assert "Warning" in page.text and "critical" in page.text
    assert f"?incident__id__exact={incident.pk}" in page.text
    assert "All 2 alert record(s)" in page.text
    assert "{}/{severity=~&quot;critical|warning&quot;}" in page.text  # group key
    assert listing.status_code == 200
    assert "2 alerts" in listing.text
    assert "HighErrorRate (instance=web-1)" in listing.text
    assert detail.status_code == 200
    assert "5xx at 31% on web-2" in detail.text
    # read-only: the services (alert ingestion) are the only writers
    assert (
        client.post(
            reverse("admin:incidents_alert_change", args=[record.pk]),
            {"status": "resolved"},
        ).status_code
        == 403
    )
    record.refresh_from_db()
    assert record.status == "firing"


def test_admin_alert_list_hides_restricted_incidents_alerts(client, db):
    from tests.factories import IncidentTypeFactory

    secret_type = IncidentTypeFactory(restricted_by_default=True)
    _, secret = _alert_incident(restricted_type=secret_type)
    outsider = UserFactory(is_staff=True, groups=[groups.RESPONDERS])
    client.force_login(outsider)

    listing = client.get(reverse("admin:incidents_alert_changelist"))
    record = secret.alerts.first()
    detail = client.get(reverse("admin:incidents_alert_change", args=[record.pk]))

    assert listing.status_code == 200
    assert "0 alerts" in listing.text
    assert detail.status_code in (302, 404)


def test_configurator_edits_the_severity_words_case_free_in_the_admin(client, db):
    from incidents.models import Integration
    from tests.factories import IntegrationFactory

    integration = IntegrationFactory(alertmanager=True)
    configurator = UserFactory(is_staff=True, groups=[groups.CONFIGURATORS])
    client.force_login(configurator)
    url = reverse("admin:incidents_integration_change", args=[integration.pk])
    form = {
        "name": integration.name,
        "kind": integration.kind,
        "service_account": integration.service_account_id,
        "default_incident_type": "",
        "resolve_moves_to_mitigated": "",
        "rate_limit_per_minute": 1200,
        "is_active": "on",
    }

    refused = client.post(url, {**form, "severity_label_map": '{"Disaster": "SEV-9"}'})
    saved = client.post(
        url,
        {**form, "severity_label_map": '{"Disaster": "SEV-1", " P2 ": "SEV-2"}'},
    )

    assert refused.status_code == 200
    assert "Unknown severity codes: SEV-9." in refused.text
    assert saved.status_code == 302
    integration = Integration.objects.get(pk=integration.pk)
    assert integration.severity_label_map == {"disaster": "SEV-1", "p2": "SEV-2"}
    assert integration.history.latest().history_user == configurator
    from incidents.ingestion.parsers import alertmanager as am_format
    from incidents.ingestion.service import alert_ingest

    body = dict(am_format.SAMPLE_ALERTMANAGER)
    body["alerts"] = [
        {**body["alerts"][0], "labels": {"alertname": "X", "severity": "DISASTER"}}
    ]
    incident = alert_ingest(
        integration=integration, batch=am_format.parse(body)
    ).incident
    assert incident.suggested_severity.code == "SEV-1"
    assert incident.severity is None
