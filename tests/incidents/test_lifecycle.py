from datetime import UTC, datetime, timedelta

import pytest

from incidentops.exceptions import InvalidTransition, NotPermitted
from incidents import events, services
from incidents.models import Incident
from tests.factories import UserFactory, role, severity

STATUSES = [s.value for s in Incident.Status]
ALLOWED = {
    ("triage", "investigating"),
    ("investigating", "mitigated"),
    ("investigating", "resolved"),
    ("mitigated", "investigating"),
    ("mitigated", "resolved"),
    ("resolved", "closed"),
    ("resolved", "investigating"),
    ("closed", "investigating"),
}
# How to reach each status from a commanded, confirmed incident in triage.
PATHS = {
    "triage": [],
    "investigating": ["investigating"],
    "mitigated": ["investigating", "mitigated"],
    "resolved": ["investigating", "resolved"],
    "closed": ["investigating", "resolved", "closed"],
}


def _walk(incident, actor, path):
    for status in path:
        services.incident_transition(incident=incident, actor=actor, status=status)


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_model_transition_table(source, target):
    incident = Incident(status=source)
    assert incident.can_transition_to(target) is ((source, target) in ALLOWED)


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_service_follows_the_table(ready, manager, source, target):
    _walk(ready, manager, PATHS[source])
    assert ready.status == source

    if (source, target) in ALLOWED:
        services.incident_transition(incident=ready, actor=manager, status=target)
        ready.refresh_from_db()
        assert ready.status == target
    else:
        with pytest.raises(InvalidTransition):
            services.incident_transition(incident=ready, actor=manager, status=target)
        ready.refresh_from_db()
        assert ready.status == source


def test_cannot_leave_triage_without_confirmed_severity(commanded, manager):
    with pytest.raises(InvalidTransition, match="not confirmed its severity"):
        services.incident_transition(
            incident=commanded, actor=manager, status="investigating"
        )


def test_cannot_leave_triage_without_a_commander(incident, manager):
    # A manager may confirm without being commander.
    services.incident_confirm_severity(
        incident=incident, actor=manager, severity=severity("SEV-3")
    )
    with pytest.raises(InvalidTransition, match="no incident commander"):
        services.incident_transition(
            incident=incident, actor=manager, status="investigating"
        )


def test_reason_names_both_missing_controls(incident, manager):
    with pytest.raises(InvalidTransition) as error:
        services.incident_transition(
            incident=incident, actor=manager, status="investigating"
        )
    assert "severity" in error.value.message
    assert "commander" in error.value.message


def test_cannot_leave_triage_when_the_commander_became_a_service_account(
    ready, manager
):
    commander = ready.commander
    commander.is_service_account = True
    commander.save()
    with pytest.raises(InvalidTransition, match="not an active person"):
        services.incident_transition(
            incident=ready, actor=manager, status="investigating"
        )


def test_transitions_set_timestamps_and_reopen_clears_them(ready, manager):
    t0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    steps = [
        ("investigating", t0),
        ("mitigated", t0 + timedelta(minutes=30)),
        ("resolved", t0 + timedelta(hours=1)),
        ("closed", t0 + timedelta(days=1)),
    ]
    for status, when in steps:
        services.incident_transition(
            incident=ready, actor=manager, status=status, note="ok", now=when
        )
    ready.refresh_from_db()
    assert ready.mitigated_at == t0 + timedelta(minutes=30)
    assert ready.resolved_at == t0 + timedelta(hours=1)
    assert ready.closed_at == t0 + timedelta(days=1)
    assert ready.resolution_summary == "ok"

    services.incident_transition(
        incident=ready, actor=manager, status="investigating", note="It came back"
    )
    ready.refresh_from_db()
    assert (ready.mitigated_at, ready.resolved_at, ready.closed_at) == (None,) * 3
    # History keeps the earlier values.
    assert ready.history.filter(closed_at=t0 + timedelta(days=1)).exists()
    assert "reopened" in ready.timeline.last().summary


def test_resolving_sets_mitigated_and_resolution_summary(investigating, manager):
    services.incident_transition(
        incident=investigating,
        actor=manager,
        status="resolved",
        note="done",
        resolution_summary="Rolled back release 4.2",
    )
    investigating.refresh_from_db()
    assert investigating.mitigated_at == investigating.resolved_at
    assert investigating.resolution_summary == "Rolled back release 4.2"


def test_transition_events(investigating, manager):
    seen = []

    def on_status(sender, incident, previous_status, actor, **kwargs):
        seen.append(("status", previous_status, incident.status))

    def on_resolved(sender, incident, actor, **kwargs):
        seen.append(("resolved", incident.reference))

    events.incident_status_changed.connect(on_status, weak=False)
    events.incident_resolved.connect(on_resolved, weak=False)
    try:
        services.incident_transition(
            incident=investigating, actor=manager, status="resolved"
        )
    finally:
        events.incident_status_changed.disconnect(on_status)
        events.incident_resolved.disconnect(on_resolved)
    assert seen == [
        ("status", "investigating", "resolved"),
        ("resolved", investigating.reference),
    ]


def test_unknown_status_is_refused(ready, manager):
    with pytest.raises(InvalidTransition):
        services.incident_transition(incident=ready, actor=manager, status="done")


def test_responder_without_a_role_may_not_change_status(ready):
    other = UserFactory(groups=["Responders"])
    with pytest.raises(NotPermitted):
        services.incident_transition(
            incident=ready, actor=other, status="investigating"
        )


def test_commander_responder_may_change_status(incident, responder, manager):
    services.incident_assign_role(
        incident=incident, actor=responder, role=role("commander"), user=responder
    )
    services.incident_confirm_severity(
        incident=incident, actor=responder, severity=severity("SEV-2")
    )
    services.incident_transition(
        incident=incident, actor=responder, status="investigating"
    )
    assert incident.status == "investigating"


def test_closing_a_resolved_incident_is_not_called_a_reopening(ready, manager):
    for status in ("investigating", "resolved"):
        services.incident_transition(incident=ready, actor=manager, status=status)

    services.incident_transition(incident=ready, actor=manager, status="closed")

    entry = ready.timeline.filter(kind="status").last()
    assert entry.data == {"from": "resolved", "to": "closed", "note": ""}
    assert "moved it from resolved to closed" in entry.summary
