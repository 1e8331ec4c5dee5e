from datetime import UTC, datetime, timedelta

import pytest

from incidentops import groups
from incidents import services
from incidents.models import Incident, Playbook, Role, SeverityLevel
from tests.factories import (
    IncidentFactory,
    IncidentTypeFactory,
    PlaybookFactory,
    UserFactory,
    role,
    severity,
)


def test_migration_creates_the_severity_framework(db):
    levels = list(SeverityLevel.objects.values_list("code", "rank", "response"))
    assert levels == [
        ("SEV-1", 1, "all_hands"),
        ("SEV-2", 2, "cross_team"),
        ("SEV-3", 3, "team"),
        ("SEV-4", 4, "standard"),
    ]
    assert severity("SEV-1").update_cadence == timedelta(minutes=30)
    assert severity("SEV-3").update_cadence == timedelta(hours=4)
    assert severity("SEV-4").update_cadence is None


def test_migration_creates_builtin_roles(db):
    builtin = dict(
        Role.objects.filter(is_builtin=True).values_list("slug", "human_only")
    )
    assert builtin == {
        "commander": True,
        "communications": False,
        "scribe": False,
        "operations": False,
    }


@pytest.mark.parametrize(
    ("group", "perm", "has"),
    [
        (groups.RESPONDERS, "incidents.add_incident", True),
        (groups.RESPONDERS, "incidents.confirm_severity", False),
        (groups.INCIDENT_MANAGERS, "incidents.confirm_severity", True),
        (groups.INCIDENT_MANAGERS, "incidents.assign_role", True),
        (groups.REVIEWERS, "incidents.view_incident", True),
        (groups.EXECUTIVES, "incidents.add_incident", False),
        (groups.CONFIGURATORS, "incidents.change_incidenttype", True),
        (groups.CONFIGURATORS, "incidents.view_incident", False),
    ],
)
def test_migration_gives_groups_their_permissions(db, group, perm, has):
    assert UserFactory(groups=[group]).has_perm(perm) is has


def test_commander_costs_no_query_per_incident_in_lists(
    django_assert_num_queries, manager
):
    for _ in range(3):
        incident = IncidentFactory()
        services.incident_assign_role(
            incident=incident, actor=manager, role=role("commander"), user=manager
        )
    IncidentFactory()  # no commander

    with django_assert_num_queries(2):
        commanders = [i.commander for i in Incident.objects.with_commander()]
    assert commanders.count(manager) == 3
    assert commanders.count(None) == 1


def test_regulatory_deadline_and_time_left(db):
    gdpr = IncidentTypeFactory(gdpr=True)
    detected = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    incident = IncidentFactory(incident_type=gdpr, detected_at=detected)

    assert incident.notification_deadline == detected + timedelta(hours=72)
    assert incident.notification_authority == "Data-protection authority"
    assert incident.notification_time_left(
        now=detected + timedelta(hours=70)
    ) == timedelta(hours=2)
    assert IncidentFactory().notification_deadline is None


def test_playbook_for_prefers_the_severity_specific_one(db):
    incident_type = IncidentTypeFactory()
    generic = PlaybookFactory(incident_type=incident_type)
    specific = PlaybookFactory(incident_type=incident_type, severity=severity("SEV-1"))
    PlaybookFactory(
        incident_type=incident_type, severity=severity("SEV-2"), is_active=False
    )

    assert Playbook.for_incident(incident_type, severity("SEV-1")) == specific
    assert Playbook.for_incident(incident_type, severity("SEV-2")) == generic
    assert Playbook.for_incident(None, severity("SEV-1")) is None


def test_integration_secret_is_checked_against_its_hash(db):
    from incidents.models import Integration

    integration = Integration(name="x")
    integration.set_secret("s3cret")
    assert integration.check_secret("s3cret")
    assert not integration.check_secret("S3cret")
    assert not integration.check_secret("")


def test_the_one_open_incident_per_alert_key_rule_ends_where_incidents_end():
    # given: the database rule that allows one open incident per alert key
    constraint = next(
        c
        for c in Incident._meta.constraints
        if c.name == "incident_one_open_per_dedup_key"
    )
    ended = next(
        child
        for negated in constraint.condition.children
        for child in negated.children
        if child[0] == "status__in"
    )[1]
    # then: its statuses are exactly those in which an incident has ended
    assert sorted(ended) == sorted(Incident.ENDED_STATUSES)
    assert not any(Incident(status=s).is_open for s in ended)
