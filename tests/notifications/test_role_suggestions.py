"""Role suggestions (the ``oncall`` provider) and asking a person to take a role."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidentops import groups
from incidentops.exceptions import DomainError, NotPermitted
from incidents import providers, services
from incidents.models import RoleAssignment, RoleRequest, TeamMembership, TimelineEntry
from notifications.models import Delivery
from notifications.oncall.schedule_models import Schedule, ScheduleOverride
from tests.factories import ServiceFactory, TeamFactory, UserFactory, role


@pytest.fixture
def people(db):
    return {
        "mia": UserFactory(
            username="mia",
            first_name="Mia",
            groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
        ),
        "sam": UserFactory(
            username="sam", first_name="Sam", groups=[groups.RESPONDERS]
        ),
        "lena": UserFactory(
            username="lena", first_name="Lena", groups=[groups.RESPONDERS]
        ),
        "robot": UserFactory(
            username="robot", service_account=True, groups=[groups.RESPONDERS]
        ),
        "rita": UserFactory(username="rita", groups=[groups.RESPONDERS]),
    }


@pytest.fixture
def checkout(people):
    team = TeamFactory(name="Checkout", slug="checkout", manager=people["mia"])
    for name in ("sam", "lena"):
        TeamMembership.objects.create(team=team, user=people[name])
    # A service account slipped into a team (bypassing the service) is still
    # never suggested: control 1.
    TeamMembership.objects.create(team=team, user=people["robot"])
    return ServiceFactory(slug="checkout-api", name="checkout-api", team=team, tier=1)


def declare(people, checkout, **extra):
    return services.incident_declare(
        actor=people["rita"],
        title="Checkout failing",
        services=[checkout],
        **extra,
    )


def suggested(incident, viewer, role_slug="commander"):
    return [
        (s.user.username, s.reason)
        for s in providers.role_suggestions(incident, viewer)
        if s.role == role_slug
    ]


def test_without_a_schedule_the_team_members_are_suggested(people, checkout):
    incident = declare(people, checkout)

    names = [name for name, _ in suggested(incident, people["mia"])]

    assert names == ["lena", "sam"]
    assert "robot" not in names
    reason = dict(suggested(incident, people["mia"]))["sam"]
    assert reason == "Member of Checkout, which owns checkout-api"


def test_the_on_call_comes_first_with_the_reason(people, checkout):
    schedule = Schedule.objects.create(
        name="Checkout primary", team=checkout.team, time_zone="Europe/London"
    )
    now = timezone.now()
    ScheduleOverride.objects.create(
        schedule=schedule,
        user=people["sam"],
        start=now - timedelta(hours=1),
        end=now + timedelta(hours=1),
    )
    incident = declare(people, checkout)

    first = suggested(incident, people["mia"])[0]

    assert first == (
        "sam",
        "On call now for Checkout (Checkout primary), which owns checkout-api",
    )


def test_members_who_held_the_role_before_come_next(people, checkout):
    for holder in ("lena", "lena", "sam"):
        earlier = declare(people, checkout)
        services.incident_assign_role(
            incident=earlier,
            actor=people["mia"],
            role=role("commander"),
            user=people[holder],
        )
    incident = declare(people, checkout)

    rows = suggested(incident, people["mia"])

    assert [name for name, _ in rows] == ["lena", "sam"]
    assert "incident commander on 2 earlier incidents" in rows[0][1]
    assert "incident commander on 1 earlier incident," in rows[1][1]


def test_nobody_is_suggested_for_a_role_already_held_and_nothing_is_assigned(
    people, checkout
):
    incident = declare(people, checkout)
    before = RoleAssignment.objects.count()

    services.incident_assign_role(
        incident=incident,
        actor=people["mia"],
        role=role("commander"),
        user=people["lena"],
    )

    assert suggested(incident, people["mia"]) == []
    assert RoleAssignment.objects.count() == before + 1


def test_a_restricted_incident_suggests_only_people_who_may_see_it(people, checkout):
    incident = services.incident_declare(
        actor=people["lena"],
        title="Card data in logs",
        restricted=True,
        services=[checkout],
    )

    names = [name for name, _ in suggested(incident, people["lena"])]

    assert names == ["lena"]  # the reporter is granted; Sam is not


def test_an_incident_without_team_owned_services_gets_no_suggestion(people):
    incident = services.incident_declare(actor=people["rita"], title="Odd noise")

    assert providers.role_suggestions(incident, people["mia"]) == []


# --- asking and answering --------------------------------------------------------------


def test_asking_logs_and_tells_the_person_through_the_outbox(
    people, checkout, django_capture_on_commit_callbacks
):
    incident = declare(people, checkout)

    with django_capture_on_commit_callbacks(execute=True):
        request = services.role_request_create(
            incident=incident,
            actor=people["mia"],
            role=role("commander"),
            user=people["sam"],
            reason="On call now for Checkout",
        )

    assert request.status == "pending"
    assert not RoleAssignment.objects.filter(incident=incident).exists()
    delivery = Delivery.objects.get(notification__kind="role_requested")
    assert delivery.user == people["sam"]
    assert "Mia Tester asks you to take command" in delivery.notification.subject
    assert "Why you: On call now for Checkout" in delivery.notification.body_text
    summaries = list(
        TimelineEntry.objects.filter(incident=incident).values_list(
            "summary", flat=True
        )
    )
    assert any("asked Sam Tester to take command" in s for s in summaries)
    assert any(
        e for e in TimelineEntry.objects.filter(incident=incident, kind="communication")
    )


def test_asking_twice_while_waiting_is_one_request(people, checkout):
    incident = declare(people, checkout)
    arguments = {
        "incident": incident,
        "actor": people["mia"],
        "role": role("commander"),
        "user": people["sam"],
    }

    first = services.role_request_create(**arguments)
    second = services.role_request_create(**arguments)

    assert first.pk == second.pk
    assert RoleRequest.objects.count() == 1


def test_the_person_asked_accepts_with_one_click_and_is_commander(people, checkout):
    incident = declare(people, checkout)
    request = services.role_request_create(
        incident=incident,
        actor=people["mia"],
        role=role("commander"),
        user=people["sam"],
    )

    assignment = services.role_request_accept(request=request, actor=people["sam"])

    incident.refresh_from_db()
    assert incident.commander == people["sam"]
    assert assignment.user == people["sam"]
    request.refresh_from_db()
    assert request.status == "accepted"
    with pytest.raises(DomainError):
        services.role_request_accept(request=request, actor=people["sam"])


def test_only_the_person_asked_may_answer(people, checkout):
    incident = declare(people, checkout)
    request = services.role_request_create(
        incident=incident,
        actor=people["mia"],
        role=role("commander"),
        user=people["sam"],
    )

    with pytest.raises(NotPermitted):
        services.role_request_accept(request=request, actor=people["lena"])
    assert incident.commander is None


def test_a_responder_asks_and_the_asked_takes_command_nobody_held(people, checkout):
    incident = declare(people, checkout)
    request = services.role_request_create(
        incident=incident,
        actor=people["rita"],
        role=role("commander"),
        user=people["sam"],
    )

    services.role_request_accept(request=request, actor=people["sam"])

    assert incident.commander == people["sam"]


def test_declining_is_on_the_timeline(people, checkout):
    incident = declare(people, checkout)
    request = services.role_request_create(
        incident=incident,
        actor=people["mia"],
        role=role("commander"),
        user=people["sam"],
    )

    services.role_request_decline(
        request=request, actor=people["sam"], note="on a train until 14:00"
    )

    assert incident.commander is None
    assert TimelineEntry.objects.filter(
        incident=incident, summary__contains="declined to take command: on a train"
    ).exists()


def test_a_service_account_cannot_be_asked_to_command(people, checkout):
    incident = declare(people, checkout)

    with pytest.raises(DomainError) as refused:
        services.role_request_create(
            incident=incident,
            actor=people["mia"],
            role=role("commander"),
            user=people["robot"],
        )

    assert refused.value.code == "not_human"
    assert not RoleRequest.objects.exists()


def test_nobody_is_asked_about_an_incident_they_may_not_see(people, checkout):
    incident = services.incident_declare(
        actor=people["mia"], title="Card data in logs", restricted=True
    )

    with pytest.raises(DomainError):
        services.role_request_create(
            incident=incident,
            actor=people["mia"],
            role=role("commander"),
            user=people["sam"],
        )


def test_whoever_acknowledged_is_suggested_first_for_command(people, checkout):
    incident = declare(people, checkout)
    services.incident_acknowledge(incident=incident, user=people["lena"])

    rows = suggested(incident, people["mia"])

    assert rows[0][0] == "lena"
    assert rows[0][1].startswith(f"Acknowledged {incident.reference} at ")
    assert [name for name, _ in rows] == ["lena", "sam"]
    assert suggested(incident, people["mia"], "communications") == []
