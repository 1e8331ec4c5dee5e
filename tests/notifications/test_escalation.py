"""Escalation with time injected: steps, waits, repeats, notification rules,
acknowledgement stopping it, and nobody paged twice."""

from io import StringIO

import pytest
from django.core.management import call_command

from incidentops.exceptions import Conflict, NotPermitted
from incidents import services as incident_services
from incidents.models import TimelineEntry
from notifications.models import (
    Channel,
    ContactMethod,
    Delivery,
    Escalation,
    NotificationRule,
    Page,
)
from notifications.oncall import escalation
from tests.factories import IntegrationFactory, severity
from tests.notifications.conftest import command, confirm, declare
from tests.notifications.escalation_factories import (
    T0,
    alert_incident,
    make_policy,
    minutes,
    paged,
)


@pytest.fixture
def integration(db):
    return IntegrationFactory(name="checkout-alerts")


def test_an_alert_pages_the_steps_in_order_after_each_wait(ann, bob, integration):
    # given: a policy paging Ann, then Bob after 5 minutes
    make_policy(integration, [(ann, 5), (bob, 10)])
    # when: an alert opens an incident and the sweep runs as time passes
    incident = alert_incident(integration)
    started = Escalation.objects.get(incident=incident)
    assert started.status == "running" and started.next_due_at == T0

    escalation.escalate_sweep(now=T0)
    assert paged(incident) == [("ann", 1, 1)]
    escalation.escalate_sweep(now=minutes(4))
    assert paged(incident) == [("ann", 1, 1)], "Bob is not paged before the wait"
    escalation.escalate_sweep(now=minutes(5))
    # then
    assert paged(incident) == [("ann", 1, 1), ("bob", 1, 2)]
    deliveries = Delivery.objects.filter(notification__incident=incident)
    assert sorted(d.recipient for d in deliveries) == [
        "ann@example.com",
        "bob@example.com",
    ]
    page_entries = TimelineEntry.objects.filter(incident=incident, kind="page")
    summaries = [entry.summary for entry in page_entries]
    assert any("started (alert from checkout-alerts)" in s for s in summaries)
    assert any("step 1 of 2: paging First" in s for s in summaries)
    assert sum(1 for s in summaries if s.startswith("Sent “[Page]")) == 2


def test_running_the_sweep_twice_pages_nobody_twice(ann, bob, integration):
    make_policy(integration, [(ann, 5), (bob, 5)])
    incident = alert_incident(integration)
    for moment in (T0, T0, minutes(5), minutes(5), minutes(6)):
        escalation.escalate_sweep(now=moment)
    assert paged(incident) == [("ann", 1, 1), ("bob", 1, 2)]
    assert Delivery.objects.filter(notification__incident=incident).count() == 2


def test_repeats_then_stops_with_nobody_acknowledged(ann, bob, integration):
    make_policy(integration, [(ann, 5), (bob, 5)], repeat=1)
    incident = alert_incident(integration)
    for minute in range(0, 40):
        escalation.escalate_sweep(now=minutes(minute))
    assert paged(incident) == [
        ("ann", 1, 1),
        ("bob", 1, 2),
        ("ann", 2, 1),
        ("bob", 2, 2),
    ]
    run = Escalation.objects.get(incident=incident)
    assert run.status == "exhausted"
    assert run.stopped_at == minutes(20)
    assert TimelineEntry.objects.filter(
        incident=incident, summary__contains="nobody acknowledged after 2 round(s)"
    ).exists()


def test_acknowledging_stops_the_escalation(ann, bob, integration):
    make_policy(integration, [(ann, 5), (bob, 5)])
    incident = alert_incident(integration)
    escalation.escalate_sweep(now=T0)

    incident_services.incident_acknowledge(incident=incident, user=ann, now=minutes(2))

    run = Escalation.objects.get(incident=incident)
    assert run.status == "acknowledged" and run.stopped_by == ann
    incident.refresh_from_db()
    assert incident.acknowledged_at == minutes(2) and incident.acknowledged_by == ann
    for minute in range(2, 30):
        escalation.escalate_sweep(now=minutes(minute))
    assert paged(incident) == [("ann", 1, 1)]
    assert TimelineEntry.objects.filter(
        incident=incident, kind="acknowledged", actor=ann
    ).exists()


def test_acknowledgement_is_first_one_wins(ann, bob, integration):
    incident = alert_incident(integration)
    incident_services.incident_acknowledge(incident=incident, user=ann)
    with pytest.raises(Conflict) as refused:
        incident_services.incident_acknowledge(incident=incident, user=bob)
    assert refused.value.holder == "ann"
    assert "First" in refused.value.message and "already acknowledged" in (
        refused.value.message
    )


def test_a_service_account_cannot_acknowledge(integration):
    incident = alert_incident(integration)
    with pytest.raises(NotPermitted):
        incident_services.incident_acknowledge(
            incident=incident, user=integration.service_account
        )


def test_taking_command_stops_the_escalation_at_once(ann, bob, integration, manager):
    make_policy(integration, [(ann, 5), (bob, 5)])
    incident = alert_incident(integration)
    escalation.escalate_sweep(now=T0)
    command(incident, manager)
    assert Escalation.objects.get(incident=incident).status == "acknowledged"
    escalation.escalate_sweep(now=minutes(10))
    assert paged(incident) == [("ann", 1, 1)]


def test_an_incident_acknowledged_behind_the_events_back_stops_at_the_sweep(
    ann, bob, integration
):
    make_policy(integration, [(ann, 5), (bob, 5)])
    incident = alert_incident(integration)
    escalation.escalate_sweep(now=T0)
    # a correction or an import may set it without the event
    type(incident).objects.filter(pk=incident.pk).update(acknowledged_at=minutes(1))
    result = escalation.escalate_sweep(now=minutes(5))
    assert result.stopped == 1
    assert paged(incident) == [("ann", 1, 1)]


def test_notification_rules_follow_their_delays_until_acknowledged(
    ann, bob, integration
):
    # given: Ann wants an e-mail at once and an SMS (Apprise) after 2 minutes
    mail = ContactMethod.objects.create(
        user=ann, kind="email", address="ann.oncall@example.com"
    )
    sms = ContactMethod.objects.create(
        user=ann, kind="apprise", label="Phone", address="json://127.0.0.1:9/sms"
    )
    NotificationRule.objects.create(contact_method=mail, delay_minutes=0)
    NotificationRule.objects.create(contact_method=sms, delay_minutes=2)
    make_policy(integration, [(ann, 10), (bob, 10)])
    incident = alert_incident(integration)

    escalation.escalate_sweep(now=T0)
    first = list(Delivery.objects.filter(notification__incident=incident))
    assert [d.recipient for d in first] == ["ann.oncall@example.com"]

    escalation.escalate_sweep(now=minutes(2))
    sms_delivery = Delivery.objects.get(contact_method=sms)
    assert sms_delivery.channel == Channel.personal("apprise")
    assert sms_delivery.user == ann
    assert "ann" in sms_delivery.recipient and "Phone" in sms_delivery.recipient

    # a later rule is not used once the incident is acknowledged
    NotificationRule.objects.create(contact_method=sms, delay_minutes=5)
    escalation.escalate_sweep(now=minutes(1))  # the new rule applies to new pages
    incident_services.incident_acknowledge(incident=incident, user=ann)
    escalation.escalate_sweep(now=minutes(6))
    assert Delivery.objects.filter(notification__incident=incident).count() == 2


def test_a_person_without_rules_is_paged_on_their_account_email(ann, integration):
    make_policy(integration, [(ann, 5)])
    incident = alert_incident(integration)
    escalation.escalate_sweep(now=T0)
    delivery = Delivery.objects.get(notification__incident=incident)
    assert delivery.recipient == "ann@example.com"
    assert "/pages/acknowledge/" in delivery.notification.body_text


def test_a_severity_at_or_above_the_threshold_starts_a_policy(ann, manager, db):
    policy = make_policy(
        None,
        [(ann, 5)],
        start_severity=severity("SEV-2"),
        for_every_incident=True,
    )
    low = declare(manager, title="Minor glitch")
    confirm(low, manager, "SEV-3")
    assert not Escalation.objects.filter(incident=low).exists()

    high = declare(manager, title="Payments down")
    confirm(high, manager, "SEV-1")
    run = Escalation.objects.get(incident=high)
    assert run.policy == policy and "severity confirmed as SEV-1" in run.trigger


def test_alerts_of_other_integrations_start_nothing(ann, integration):
    make_policy(integration, [(ann, 5)])
    other = IntegrationFactory(name="warehouse-alerts")
    incident = alert_incident(other)
    assert not Escalation.objects.filter(incident=incident).exists()


def test_resolving_ends_the_escalation(ann, bob, integration, manager):
    make_policy(integration, [(ann, 5), (bob, 5)])
    incident = alert_incident(integration)
    escalation.escalate_sweep(now=T0)
    confirm(incident, manager, "SEV-2")
    command(incident, manager)
    assert Escalation.objects.get(incident=incident).status == "acknowledged"


def test_a_sweep_that_dies_mid_batch_keeps_nothing_and_the_next_pages_once(
    ann, integration, monkeypatch
):
    # given: two incidents due at once; the sweep dies after the first page
    make_policy(integration, [(ann, 5)])
    first = alert_incident(integration, key="a")
    second = alert_incident(integration, key="b")
    real_send = escalation.page_send
    calls = []

    def dying(*, page, now):
        calls.append(page.pk)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_send(page=page, now=now)

    monkeypatch.setattr(escalation, "page_send", dying)
    with pytest.raises(SystemExit):
        escalation.escalate_sweep(now=T0)
    # then: nothing of the batch was kept ...
    assert not Page.objects.exists()
    assert not Delivery.objects.exists()
    assert Escalation.objects.filter(next_due_at=T0, round=0, step_index=0).count() == 2
    # ... and the next sweeps page each incident once
    monkeypatch.setattr(escalation, "page_send", real_send)
    escalation.escalate_sweep(now=minutes(1))
    escalation.escalate_sweep(now=minutes(2))
    assert paged(first) == [("ann", 1, 1)]
    assert paged(second) == [("ann", 1, 1)]


def test_the_escalate_command_prints_the_pages(ann, integration):
    make_policy(integration, [(ann, 5)])
    incident = alert_incident(integration)
    out = StringIO()
    call_command("escalate", "--now", T0.isoformat(), stdout=out)
    assert f"Paged ann for {incident.reference} via account e-mail" in out.getvalue()
    out = StringIO()
    call_command("escalate", "--now", T0.isoformat(), stdout=out)
    assert "0 page(s)" in out.getvalue()


def test_imported_history_starts_no_escalation(ann, integration):
    from incidents.events import history_import

    make_policy(integration, [(ann, 5)])
    with history_import():
        incident = alert_incident(integration)
    assert not Escalation.objects.filter(incident=incident).exists()
