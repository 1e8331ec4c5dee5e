"""Escalation targets and endings: a schedule's on-call, a team's members, the
team's manager when nobody answers; services naming their policy."""

from datetime import date

import pytest
from django.core import mail

from incidentops import groups
from incidents.ingestion import parsers
from incidents.ingestion.service import alert_follow_up_drain, alert_ingest
from incidents.models import TimelineEntry
from notifications.models import Delivery, Escalation, EscalationPolicy, Page
from notifications.oncall import escalation
from notifications.oncall.escalation_models import EscalationStep
from tests.api.conftest import client_for
from tests.factories import IntegrationFactory, ServiceFactory, TeamFactory, UserFactory
from tests.notifications.escalation_factories import T0, minutes, paged
from tests.notifications.schedule_factories import make_layer, make_schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {
        name: UserFactory(username=name, groups=[groups.RESPONDERS])
        for name in ("ann", "bob", "cat", "dan")
    }


@pytest.fixture
def checkout(people):
    """The checkout team (manager Dan), its service, and two schedules: Ann is
    the primary on call, Bob the secondary."""
    team = TeamFactory(
        name="Checkout",
        slug="checkout",
        manager=people["dan"],
        members=[people["ann"], people["bob"], people["cat"]],
    )
    service = ServiceFactory(slug="checkout-api", team=team)
    primary = make_schedule("Checkout primary")
    make_layer(primary, [people["ann"]], start_date=date(2026, 1, 5))
    secondary = make_schedule("Checkout secondary")
    make_layer(secondary, [people["bob"]], start_date=date(2026, 1, 5))
    policy = EscalationPolicy.objects.create(name="Checkout on-call", team=team)
    policy.services.add(service)
    EscalationStep.objects.create(
        policy=policy, position=1, schedule=primary, wait_minutes=5
    )
    EscalationStep.objects.create(
        policy=policy, position=2, schedule=secondary, wait_minutes=5
    )
    return policy


def fire(labels, *, integration=None, key="checkout-5xx"):
    integration = integration or IntegrationFactory(name="prometheus")
    batch = parsers.parse(
        "generic",
        {
            "title": "Checkout API 5xx above 5%",
            "dedup_key": key,
            "status": "firing",
            "labels": labels,
        },
    )
    result = alert_ingest(integration=integration, batch=batch, now=T0)
    alert_follow_up_drain(now=T0)
    return result.incident


def test_an_alert_for_the_service_pages_the_schedules_then_the_manager(
    people, checkout
):
    # given: an alert labelled service=checkout-api at night
    incident = fire({"service": "checkout-api", "severity": "critical"})
    run = Escalation.objects.get(incident=incident)
    assert run.policy == checkout and run.next_due_at == T0

    # when: nobody acknowledges
    for minute in range(0, 12):
        escalation.escalate_sweep(now=minutes(minute))

    # then: the primary's on-call, the secondary's after 5 minutes, then the
    # team's manager is told and the escalation ends
    assert paged(incident) == [("ann", 1, 1), ("bob", 1, 2)]
    run.refresh_from_db()
    assert run.status == "exhausted" and run.stopped_at == minutes(10)
    told = Delivery.objects.get(notification__kind="page_unanswered")
    assert told.recipient == "dan@example.com"
    assert "/pages/acknowledge/" in told.notification.body_text
    assert TimelineEntry.objects.filter(
        incident=incident, summary__contains="telling First"
    ).exists()
    summaries = list(
        TimelineEntry.objects.filter(incident=incident, kind="page").values_list(
            "summary", flat=True
        )
    )
    assert any("step 1 of 2: paging First" in s for s in summaries)


def test_a_schedule_with_nobody_on_call_says_so_and_moves_on(people, checkout):
    step = checkout.steps.get(position=1)
    empty = make_schedule("Nobody")
    step.schedule = empty
    step.save()
    incident = fire({"service": "checkout-api"})
    escalation.escalate_sweep(now=T0)
    assert paged(incident) == []
    assert TimelineEntry.objects.filter(
        incident=incident, summary__contains="nobody to page (the on-call of Nobody)"
    ).exists()
    escalation.escalate_sweep(now=minutes(5))
    assert paged(incident) == [("bob", 1, 2)]


def test_a_team_step_pages_every_active_member(people, checkout):
    step = checkout.steps.get(position=1)
    step.schedule = None
    step.team = checkout.team
    step.save()
    people["cat"].is_active = False
    people["cat"].save()
    incident = fire({"service": "checkout-api"})
    escalation.escalate_sweep(now=T0)
    assert sorted(paged(incident)) == [("ann", 1, 1), ("bob", 1, 1)]


def test_an_alert_for_another_service_does_not_start_it(people, checkout):
    ServiceFactory(slug="search-service")
    incident = fire({"service": "search-service"})
    assert not Escalation.objects.filter(incident=incident).exists()


def test_acknowledging_from_the_secondary_link_stops_everything(people, checkout):
    from django.test import Client

    incident = fire({"service": "checkout-api"})
    escalation.escalate_sweep(now=T0)
    escalation.escalate_sweep(now=minutes(5))
    link = escalation.acknowledge_link(incident, people["bob"])
    path = link.split("127.0.0.1:8000", 1)[-1]
    assert Client().post(path).status_code == 200
    for minute in range(5, 30):
        escalation.escalate_sweep(now=minutes(minute))
    assert paged(incident) == [("ann", 1, 1), ("bob", 1, 2)]
    assert not Delivery.objects.filter(notification__kind="page_unanswered").exists()
    assert Escalation.objects.get(incident=incident).stopped_by == people["bob"]


def test_pages_reach_a_real_smtp_server(people, checkout, smtp_mailer, settings):
    from notifications import services

    incident = fire({"service": "checkout-api"})
    with smtp_mailer() as server:
        escalation.escalate_sweep(now=T0)
        for delivery in Delivery.objects.filter(status="pending"):
            services.delivery_send(delivery_id=delivery.pk)
        assert [m["to"] for m in server.messages] == [["ann@example.com"]]
        message = server.messages[0]["message"]
        assert message["Subject"].startswith(f"[Page] {incident.reference}")
        assert "/pages/acknowledge/" in message.get_body(("plain",)).get_content()
    assert Page.objects.get(incident=incident).notification.deliveries.get().status == (
        "sent"
    )
    assert mail.outbox == []


def test_the_api_lists_the_policies(people, checkout):
    response = client_for(people["ann"]).get("/api/v1/escalation-policies/")
    assert response.status_code == 200
    (policy,) = response.json()["results"]
    assert policy["team"] == "checkout"
    assert policy["services"] == ["checkout-api"]
    assert [step["target"]["type"] for step in policy["steps"]] == [
        "schedule",
        "schedule",
    ]
    assert policy["steps"][0]["target"]["name"] == "the on-call of Checkout primary"
    outsider = UserFactory(username="olga")
    assert client_for(outsider).get("/api/v1/escalation-policies/").json()["count"] == 0
