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
