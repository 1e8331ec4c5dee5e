"""True timestamps: the impact start, and people correcting the record's times."""

from datetime import UTC, datetime, timedelta

import pytest

from incidentops.exceptions import DomainError, NotPermitted
from incidents import analytics, services
from incidents.models import TimelineEntry
from reviews.models import Review
from tests.factories import UserFactory, role, severity

T0 = datetime(2026, 3, 2, 14, 41, tzinfo=UTC)


def _resolved(manager, responder, *, impact_started_at=None):
    incident = services.incident_declare(
        actor=responder,
        title="Checkout failing",
        detected_at=T0,
        impact_started_at=impact_started_at,
        now=T0,
    )
    services.incident_assign_role(
        incident=incident,
        actor=manager,
        role=role("commander"),
        user=manager,
        now=T0 + timedelta(minutes=1),
    )
    services.incident_confirm_severity(
        incident=incident,
        actor=manager,
        severity=severity("SEV-2"),
        reason="SLA",
        now=T0 + timedelta(minutes=1),
    )
    for minutes, status in ((1, "investigating"), (2, "resolved")):
        services.incident_transition(
            incident=incident,
            actor=manager,
            status=status,
            now=T0 + timedelta(minutes=minutes),
        )
    incident.refresh_from_db()
    return incident


def test_impact_start_defaults_to_detection(responder):
    incident = services.incident_declare(
        actor=responder, title="Slow search", detected_at=T0, now=T0
    )
    assert incident.impact_started_at == T0
    assert incident.impact_start == T0


def test_impact_start_in_the_future_is_refused(responder):
    with pytest.raises(DomainError) as refused:
        services.incident_declare(
            actor=responder,
            title="Slow search",
            impact_started_at=T0 + timedelta(hours=1),
            now=T0,
        )
    assert refused.value.field == "impact_started_at"


def test_response_times_count_from_impact_start(manager, responder):
    # given a report "failing since 14:05" declared at 14:41, resolved at 14:43
    incident = _resolved(
        manager, responder, impact_started_at=T0 - timedelta(minutes=36)
    )
    # then time to resolve is 38 minutes, time to acknowledge from detection
    times = incident.response_times()
    assert times["time_to_resolve"] == timedelta(minutes=38)
    assert times["time_to_acknowledge"] == timedelta(minutes=1)


def test_correction_changes_times_timeline_and_metrics(manager, responder):
    incident = _resolved(manager, responder)
    assert incident.response_times()["time_to_resolve"] == timedelta(minutes=2)
    before = TimelineEntry.objects.filter(incident=incident).count()

    services.incident_correct_times(
        incident=incident,
        actor=manager,
        reason="Logs show errors from 14:05",
        impact_started_at=T0 - timedelta(minutes=36),
        resolved_at=T0 + timedelta(minutes=10),
        now=T0 + timedelta(hours=1),
    )

    incident.refresh_from_db()
    assert incident.impact_started_at == T0 - timedelta(minutes=36)
    assert incident.resolved_at == T0 + timedelta(minutes=10)
    assert incident.status == "resolved"
    entries = TimelineEntry.objects.filter(incident=incident).order_by("sequence")
    assert entries.count() == before + 1
    entry = entries.last()
    assert entry.kind == TimelineEntry.Kind.FIELD_CHANGE
    assert entry.data["correction"] is True
    assert entry.data["reason"] == "Logs show errors from 14:05"
    assert set(entry.data["changes"]) == {"impact_started_at", "resolved_at"}
    assert entry.data["changes"]["resolved_at"]["from"].startswith("2026-03-02T14:43")
    assert entry.data["changes"]["resolved_at"]["to"].startswith("2026-03-02T14:51")
    assert "impact started from" in entry.summary
    # the history keeps the earlier value and who changed it
    last = incident.history.order_by("-history_date", "-history_id").first()
    assert last.history_user == manager
    assert last.prev_record.resolved_at == T0 + timedelta(minutes=2)
    # the review's and the trends' metrics read the corrected times
    assert incident.response_times()["time_to_resolve"] == timedelta(minutes=46)
    review = Review.objects.get(incident=incident)
    assert review.response_metrics()["time_to_resolve"] == timedelta(minutes=46)
    rows = analytics.incident_trends(user=manager, group_by="severity", period="month")
    assert rows[0]["mttr_seconds"] == 46 * 60
    assert rows[0]["mtta_seconds"] == 60


@pytest.mark.parametrize(
    ("times", "field"),
    [
        ({"resolved_at": T0 - timedelta(minutes=5)}, "resolved_at"),
        ({"mitigated_at": T0 + timedelta(minutes=5)}, "mitigated_at"),
        ({"impact_started_at": T0 + timedelta(minutes=3)}, "impact_started_at"),
        ({"acknowledged_at": T0 + timedelta(days=2)}, "acknowledged_at"),
    ],
)
def test_times_out_of_order_or_future_are_refused(manager, responder, times, field):
    incident = _resolved(manager, responder)
    with pytest.raises(DomainError) as refused:
        services.incident_correct_times(
            incident=incident,
            actor=manager,
            reason="fix",
            now=T0 + timedelta(days=1),
            **times,
        )
    assert refused.value.field == field
    incident.refresh_from_db()
    assert incident.resolved_at == T0 + timedelta(minutes=2)


def test_a_time_not_reached_cannot_be_corrected(manager, responder):
    incident = services.incident_declare(
        actor=responder, title="Slow search", detected_at=T0, now=T0
    )
    with pytest.raises(DomainError) as refused:
        services.incident_correct_times(
            incident=incident, actor=manager, reason="x", resolved_at=T0
        )
    assert refused.value.field == "resolved_at"


def test_a_reason_is_required(manager, responder):
    incident = _resolved(manager, responder)
    with pytest.raises(DomainError) as refused:
        services.incident_correct_times(
            incident=incident, actor=manager, reason=" ", detected_at=T0
        )
    assert refused.value.field == "reason"


def test_only_people_who_run_the_incident_correct_times(manager, responder, bot):
    incident = _resolved(manager, responder)
    outsider = UserFactory(username="olga", groups=["Responders"])
    for actor in (outsider, bot):
        with pytest.raises(NotPermitted):
            services.incident_correct_times(
                incident=incident,
                actor=actor,
                reason="x",
                detected_at=T0 - timedelta(minutes=1),
            )


def test_unchanged_times_write_nothing(manager, responder):
    incident = _resolved(manager, responder)
    before = TimelineEntry.objects.filter(incident=incident).count()
    services.incident_correct_times(
        incident=incident, actor=manager, reason="same", detected_at=T0
    )
    assert TimelineEntry.objects.filter(incident=incident).count() == before


def test_a_time_before_1970_is_refused(manager, responder):
    incident = _resolved(manager, responder)
    with pytest.raises(DomainError) as refused:
        services.incident_correct_times(
            incident=incident,
            actor=manager,
            reason="typo",
            impact_started_at=datetime(1, 1, 1, tzinfo=UTC),
        )
    assert refused.value.field == "impact_started_at"
