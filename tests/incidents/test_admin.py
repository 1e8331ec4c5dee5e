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
