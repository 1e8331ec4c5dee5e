"""The admin shows list and map settings as form fields people can type in, and
JSON kept as data read-only and indented, never a restricted incident's title."""

import pytest
from django.urls import reverse

from incidentops import groups
from incidents import services
from incidents.models import Incident, Integration, Service, TimelineEntry
from notifications.models import Channel
from reviews.models import ReviewPolicy
from tests.factories import (
    IncidentFactory,
    IntegrationFactory,
    PlaybookFactory,
    ServiceFactory,
    UserFactory,
    severity,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def configurator(client):
    user = UserFactory(username="cora", is_staff=True, groups=[groups.CONFIGURATORS])
    client.force_login(user)
    return user


def test_severity_words_are_typed_one_per_line(client, configurator):
    integration = IntegrationFactory(
        alertmanager=True, severity_label_map={"critical": "SEV-1"}
    )
    url = reverse("admin:incidents_integration_change", args=[integration.pk])
    form = {
        "name": integration.name,
        "kind": integration.kind,
        "service_account": integration.service_account_id,
        "rate_limit_per_minute": 1200,
        "is_active": "on",
    }

    page = client.get(url).text
    bad_line = client.post(url, {**form, "severity_label_map": "critical SEV-1"})
    saved = client.post(
        url, {**form, "severity_label_map": "Critical = SEV-1\n\n P2 = SEV-2 \n"}
    )

    assert "\ncritical = SEV-1</textarea>" in page
    assert "Line 1: write “name = value”, one per line." in bad_line.text
    assert saved.status_code == 302
    integration = Integration.objects.get(pk=integration.pk)
    assert integration.severity_label_map == {"critical": "SEV-1", "p2": "SEV-2"}


def test_a_services_alert_labels_are_typed_as_name_value_lines(client, configurator):
    service = ServiceFactory(slug="checkout-api", alert_labels={"service": "old"})
    url = reverse("admin:incidents_service_change", args=[service.pk])
    form = {"name": "checkout-api", "slug": "checkout-api", "tier": "1"}

    twice = client.post(url, {**form, "alert_labels": "env = prod\nenv = dev"})
    saved = client.post(
        url, {**form, "alert_labels": "service = checkout-api\nenv = prod"}
    )

    assert "Line 2: “env” is given twice." in twice.text
    assert saved.status_code == 302
    assert Service.objects.get(pk=service.pk).alert_labels == {
        "service": "checkout-api",
        "env": "prod",
    }
    html = client.get(url).text
    assert "\nservice = checkout-api" in html
    assert "\nenv = prod" in html


def test_reminder_days_are_comma_separated_numbers(client, configurator):
    policy = ReviewPolicy.objects.get(severity=severity("SEV-2"))
    policy.approvals.all().delete()
    policy.escalations.all().delete()
    url = f"/admin/reviews/reviewpolicy/{policy.pk}/change/"
    form = {
        "severity": policy.severity_id,
        "mode": policy.mode,
        "due_business_days": 5,
        "batch_period": "week",
        **{
            f"{prefix}-{key}": value
            for prefix in ("approvals", "escalations")
            for key, value in (("TOTAL_FORMS", 0), ("INITIAL_FORMS", 0))
        },
    }

    page = client.get(url).text
    bad = client.post(url, {**form, "reminder_business_days": "3, soon"})
    negative = client.post(url, {**form, "reminder_business_days": "-1"})
    saved = client.post(url, {**form, "reminder_business_days": "3, 1,0"})

    assert f'value="{", ".join(map(str, policy.reminder_business_days))}"' in page
    assert "“soon” is not a whole number" in bad.text
    assert "-1 is below the smallest allowed, 0." in negative.text
    assert saved.status_code == 302
    assert ReviewPolicy.objects.get(pk=policy.pk).reminder_business_days == [3, 1, 0]


def test_a_webhooks_events_and_changes_are_checkboxes(client, configurator):
    hook = Channel.objects.create(
        name="ops-hook",
        kind=Channel.Kind.WEBHOOK,
        target="https://hooks.example.com/ops",
    )
    url = f"/admin/notifications/channel/{hook.pk}/change/"

    page = client.get(url).text
    saved = client.post(
        url,
        {
            "name": "ops-hook",
            "kind": Channel.Kind.WEBHOOK,
            "is_enabled": "on",
            "events": ["incident_changed"],
            "changes": ["status_changed", "declared"],
        },
    )

    assert 'type="checkbox" name="events" value="incident_changed"' in page
    assert 'type="checkbox" name="changes" value="playbook_applied"' in page
    assert saved.status_code == 302
    hook.refresh_from_db()
    assert hook.events == ["incident_changed"]
    assert hook.changes == ["declared", "status_changed"]  # in the listed order
    assert hook.target == "https://hooks.example.com/ops"  # blank keeps it


def test_the_playbook_steps_inline_fits_the_page(client, configurator):
    playbook = PlaybookFactory()

    page = client.get(f"/admin/incidents/playbook/{playbook.pk}/change/").text

    assert "inline-fit" in page
    assert 'name="steps-0-description" cols="40" rows="2"' in page
    assert "css/admin.css" in page


def test_an_incidents_suggestion_is_indented_json_without_hidden_incidents(client, db):
    reporter = UserFactory(groups=[groups.RESPONDERS])
    past = IncidentFactory(resolved=True, title="Checkout API returning 502 in EU")
    hidden = IncidentFactory(resolved=True, title="Checkout API 502 payroll leak")
    incident = services.incident_declare(
        actor=reporter, title="Checkout API returning 502 for all EU customers"
    )
    assert {s["reference"] for s in incident.suggestion["similar"]} == {
        past.reference,
        hidden.reference,
    }
    Incident.objects.filter(pk=hidden.pk).update(restricted=True)
    manager = UserFactory(
        is_staff=True, groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS]
    )
    client.force_login(manager)

    page = client.get(f"/admin/incidents/incident/{incident.pk}/change/").text
    entry = TimelineEntry.objects.get(
        incident=incident, kind=TimelineEntry.Kind.SEVERITY_SUGGESTED
    )
    entry_page = client.get(f"/admin/incidents/timelineentry/{entry.pk}/change/").text

    for html in (page, entry_page):
        assert '<pre class="admin-json">{\n  &quot;' in html  # indented
        assert past.reference in html
        assert hidden.reference not in html
        assert hidden.title not in html
    assert "<textarea" not in page
