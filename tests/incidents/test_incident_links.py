"""Links between incidents: closing a duplicate (its alerts move to the primary,
both timelines record it, its people are told), related and caused-by links,
and visibility: nobody links to, or learns the title of, what they may not see."""

import pytest
from django.utils import timezone

from incidentops import groups
from incidentops.exceptions import Conflict, DomainError, NotPermitted
from incidents import services
from incidents.models import Alert, Incident, IncidentLink, TimelineEntry
from notifications.models import Notification
from reviews.models import Review
from tests.factories import IntegrationFactory, UserFactory, role, severity

LINK = TimelineEntry.Kind.LINK


def _declare(actor, title, **extra):
    return services.incident_declare(actor=actor, title=title, **extra)


def _alert(incident, fingerprint):
    integration = IntegrationFactory()
    now = timezone.now()
    return Alert.objects.create(
        incident=incident,
        integration=integration,
        fingerprint=fingerprint,
        name=f"Alert {fingerprint}",
        status=Alert.Status.FIRING,
        first_seen_at=now,
        last_seen_at=now,
    )


def _links(incident):
    return list(incident.timeline.filter(kind=LINK).order_by("sequence"))


@pytest.fixture
def pair(responder):
    primary = _declare(responder, "Checkout API returning 502 for all EU customers")
    duplicate = _declare(responder, "EU checkout down, 502s everywhere")
    return primary, duplicate


def test_marking_a_duplicate_closes_it_links_it_and_moves_its_alerts(pair, manager):
    # given a duplicate with two alerts, one of which the primary already has
    primary, duplicate = pair
    _alert(primary, "shared")
    _alert(duplicate, "shared")
    _alert(duplicate, "only-on-duplicate")

    # when
    services.incident_mark_duplicate(
        incident=duplicate, primary=primary, actor=manager, note="same outage"
    )

    # then
    duplicate.refresh_from_db()
    assert duplicate.status == Incident.Status.CLOSED
    assert duplicate.closure_reason == Incident.ClosureReason.DUPLICATE
    assert duplicate.closed_at is not None
    link = IncidentLink.objects.get()
    assert (link.source, link.target, link.kind) == (
        duplicate,
        primary,
        IncidentLink.Kind.DUPLICATE_OF,
    )
    assert set(primary.alerts.values_list("fingerprint", flat=True)) == {
        "shared",
        "only-on-duplicate",
    }
    assert list(duplicate.alerts.values_list("fingerprint", flat=True)) == ["shared"]
    [on_duplicate] = _links(duplicate)
    [on_primary] = _links(primary)
    assert f"duplicate of {primary.reference}" in on_duplicate.summary
    assert "1 alert(s) moved there" in on_duplicate.summary
    assert "same outage" in on_duplicate.summary
    assert duplicate.reference in on_primary.summary
    assert "1 of its alert(s) moved here" in on_primary.summary


def test_a_duplicate_gets_no_review_and_leaves_triage_without_a_commander(
    pair, manager
):
    primary, duplicate = pair
    assert duplicate.status == Incident.Status.TRIAGE

    services.incident_mark_duplicate(incident=duplicate, primary=primary, actor=manager)

    assert not Review.objects.filter(incident=duplicate).exists()
    assert not Notification.objects.filter(
        incident=duplicate, kind="incident_resolved"
    ).exists()


def test_its_reporter_and_role_holders_are_told_where_the_work_goes_on(
    pair, responder, manager
):
    primary, duplicate = pair
    scribe = UserFactory(username="sam", groups=[groups.RESPONDERS])
    services.incident_assign_role(
        incident=duplicate, actor=manager, role=role("scribe"), user=scribe
    )

    services.incident_mark_duplicate(incident=duplicate, primary=primary, actor=manager)

    told = Notification.objects.get(incident=duplicate, kind="incident_duplicate")
    recipients = set(told.deliveries.values_list("recipient", flat=True))
    assert recipients == {responder.email, scribe.email}
    assert primary.reference in told.body_text
    assert primary.title in told.body_text


def test_people_who_may_not_see_the_primary_are_not_told_its_title(responder, manager):
    secret_primary = _declare(
        manager, "Payroll export leaked to a vendor", restricted=True
    )
    duplicate = _declare(responder, "Payroll export sent to the wrong address")

    services.incident_mark_duplicate(
        incident=duplicate, primary=secret_primary, actor=manager
    )

    told = Notification.objects.get(incident=duplicate, kind="incident_duplicate")
    assert set(told.deliveries.values_list("recipient", flat=True)) == {responder.email}
    assert secret_primary.title not in told.body_text
    assert secret_primary.reference not in told.body_text
    assert "a restricted incident" in told.body_text
    # and the duplicate's timeline, which the responder reads, names neither
    [entry] = _links(duplicate)
    assert secret_primary.reference not in entry.summary
    assert secret_primary.title not in entry.summary


def test_nobody_marks_a_duplicate_of_what_they_may_not_see(responder, manager):
    secret = _declare(manager, "Customer records exposed", restricted=True)
    mine = _declare(responder, "Customer records exposed?")
    services.incident_assign_role(
        incident=mine, actor=manager, role=role("commander"), user=responder
    )

    with pytest.raises(DomainError) as refused:
        services.incident_mark_duplicate(incident=mine, primary=secret, actor=responder)
    with pytest.raises(DomainError) as missing:
        services.incident_mark_duplicate(incident=mine, primary=None, actor=responder)

    assert refused.value.message == missing.value.message
    assert refused.value.code == "not_found"
    assert not IncidentLink.objects.exists()
    mine.refresh_from_db()
    assert mine.is_open


def test_marking_a_duplicate_is_refused_where_it_makes_no_sense(pair, manager, bot):
    primary, duplicate = pair
    with pytest.raises(NotPermitted):
        services.incident_mark_duplicate(incident=duplicate, primary=primary, actor=bot)
    with pytest.raises(DomainError, match="itself"):
        services.incident_mark_duplicate(
            incident=duplicate, primary=duplicate, actor=manager
        )
    services.incident_mark_duplicate(incident=duplicate, primary=primary, actor=manager)
    with pytest.raises(Conflict):
        services.incident_mark_duplicate(
            incident=duplicate, primary=primary, actor=manager
        )
    third = _declare(manager, "EU checkout 502 again")
    with pytest.raises(DomainError, match="itself closed as a duplicate"):
        services.incident_mark_duplicate(
            incident=third, primary=duplicate, actor=manager
        )


def test_an_open_incident_is_not_a_duplicate_of_a_resolved_one(responder, manager):
    old = _declare(manager, "Checkout 502s")
    services.incident_assign_role(
        incident=old, actor=manager, role=role("commander"), user=manager
    )
    services.incident_confirm_severity(
        incident=old, actor=manager, severity=severity("SEV-2"), reason="x"
    )
    services.incident_transition(incident=old, actor=manager, status="investigating")
    services.incident_transition(incident=old, actor=manager, status="resolved")
    new = _declare(responder, "Checkout 502s again")

    with pytest.raises(DomainError, match="reopen it first, or link"):
        services.incident_mark_duplicate(incident=new, primary=old, actor=manager)


def test_reopening_a_duplicate_keeps_the_pair_related(pair, manager):
    primary, duplicate = pair
    services.incident_mark_duplicate(incident=duplicate, primary=primary, actor=manager)

    services.incident_transition(
        incident=duplicate, actor=manager, status="investigating"
    )

    duplicate.refresh_from_db()
    assert duplicate.closure_reason == ""
    assert duplicate.is_open
    link = IncidentLink.objects.get()
    assert link.kind == IncidentLink.Kind.RELATED
    assert "no longer a duplicate" in _links(duplicate)[-1].summary
    assert "no longer a duplicate" in _links(primary)[-1].summary


def test_related_and_caused_by_links_are_recorded_on_both(pair, responder):
    primary, other = pair

    link = services.incident_link(
        incident=other, other=primary, actor=responder, kind="caused-by"
    )

    assert (link.source, link.target) == (other, primary)
    assert link.label_for(other) == "Caused by"
    assert link.label_for(primary) == "Caused"
    assert f"caused by {primary.reference}" in _links(other)[0].summary
    assert other.reference in _links(primary)[0].summary
    with pytest.raises(Conflict):
        services.incident_link(
            incident=other, other=primary, actor=responder, kind="caused-by"
        )
    related = services.incident_link(incident=primary, other=other, actor=responder)
    with pytest.raises(Conflict):
        services.incident_link(incident=other, other=primary, actor=responder)

    services.incident_unlink(link=related, actor=responder)

    assert list(IncidentLink.objects.values_list("kind", flat=True)) == ["caused-by"]
    assert "removed the related link" in _links(primary)[-1].summary


def test_links_refuse_the_invisible_itself_and_duplicates(pair, responder, manager):
    primary, other = pair
    secret = _declare(manager, "Board papers emailed to a journalist", restricted=True)
    with pytest.raises(DomainError) as hidden:
        services.incident_link(incident=other, other=secret, actor=responder)
    assert hidden.value.code == "not_found"
    with pytest.raises(DomainError, match="itself"):
        services.incident_link(incident=other, other=other, actor=responder)
    with pytest.raises(DomainError, match="mark-duplicate"):
        services.incident_link(
            incident=other, other=primary, actor=responder, kind="duplicate-of"
        )
    with pytest.raises(NotPermitted):
        services.incident_link(incident=other, other=primary, actor=UserFactory())
    assert not IncidentLink.objects.exists()


def test_a_restricted_incident_is_named_on_the_others_timeline_by_no_title(
    responder, manager
):
    secret = _declare(manager, "Board papers emailed to a journalist", restricted=True)
    public = _declare(manager, "Mail gateway relaying outbound mail")

    services.incident_link(incident=public, other=secret, actor=manager)

    [entry] = _links(public)
    assert "a restricted incident" in entry.summary
    assert secret.reference not in entry.summary
    assert secret.title not in entry.summary
    # and the links a responder is shown leave it out altogether
    assert IncidentLink.objects.seen_from(public, responder) == []
    assert len(IncidentLink.objects.seen_from(public, manager)) == 1


def test_a_false_alarm_is_resolved_with_its_reason_and_cleared_on_reopening(
    commanded, manager
):
    services.incident_confirm_severity(
        incident=commanded, actor=manager, severity=severity("SEV-4"), reason="x"
    )
    services.incident_transition(
        incident=commanded, actor=manager, status="investigating"
    )
    with pytest.raises(DomainError, match="resolving or closing"):
        services.incident_transition(
            incident=commanded,
            actor=manager,
            status="mitigated",
            closure_reason="false_alarm",
        )
    with pytest.raises(DomainError, match="marked as a duplicate"):
        services.incident_transition(
            incident=commanded,
            actor=manager,
            status="resolved",
            closure_reason="duplicate",
        )

    services.incident_transition(
        incident=commanded,
        actor=manager,
        status="resolved",
        closure_reason="false_alarm",
    )
    commanded.refresh_from_db()
    assert commanded.closure_reason == "false_alarm"
    resolved = commanded.timeline.filter(kind=TimelineEntry.Kind.STATUS).latest(
        "sequence"
    )
    assert "false alarm" in resolved.summary
    assert resolved.data["closure_reason"] == "false_alarm"

    services.incident_transition(
        incident=commanded, actor=manager, status="investigating"
    )
    commanded.refresh_from_db()
    assert commanded.closure_reason == ""
