"""Update-cadence reminders (``now`` injected) and what reaches the timeline."""

from datetime import timedelta

import pytest

from incidents import services as incident_services
from incidents.timeline import verify_timeline
from notifications import services
from notifications.models import Delivery, Notification
from tests.factories import UserFactory, role
from tests.notifications.conftest import command, confirm, declare
from tests.notifications.factories import StakeholderListFactory


@pytest.fixture
def sev1(responder, manager):
    """A SEV-1 (30-minute cadence) confirmed at a known time."""
    incident = command(declare(responder), manager)
    confirm(incident, manager, "SEV-1")
    incident.refresh_from_db()
    return incident


def reminders(incident):
    return list(
        Notification.objects.filter(
            incident=incident, kind__startswith="update_"
        ).order_by("pk")
    )


def test_reminders_go_once_per_due_time_to_comms_then_commander(sev1, manager, comms):
    incident_services.incident_assign_role(
        incident=sev1, actor=manager, role=role("communications"), user=comms
    )
    due = sev1.next_update_due_at()
    assert due == sev1.severity_confirmed_at + timedelta(minutes=30)

    # well before due: nothing
    assert services.cadence_reminders_sweep(now=due - timedelta(minutes=20)) == []
    # near due: the communications lead, once
    [due_soon] = services.cadence_reminders_sweep(now=due - timedelta(minutes=4))
    assert services.cadence_reminders_sweep(now=due) == []
    assert due_soon.kind == "update_due"
    assert {d.recipient for d in due_soon.deliveries.all()} == {"carl@example.com"}
    # overdue (past due and a short grace): comms lead and commander, once
    [overdue] = services.cadence_reminders_sweep(now=due + timedelta(minutes=31))
    assert services.cadence_reminders_sweep(now=due + timedelta(minutes=45)) == []
    assert overdue.kind == "update_overdue"
    assert {d.recipient for d in overdue.deliveries.all()} == {
        "carl@example.com",
        "mia@example.com",
    }
    # each reminder is on the timeline as a reminder
    assert sev1.timeline.filter(kind="reminder").count() == 2

    # an update moves the due time: a new round of reminders
    incident_services.stakeholder_update_post(
        incident=sev1,
        actor=comms,
        body="Still investigating.",
        now=due + timedelta(minutes=50),
    )
    next_due = sev1.next_update_due_at()
    assert next_due == due + timedelta(minutes=80)
    [again] = services.cadence_reminders_sweep(now=next_due)
    assert again.kind == "update_due"
    assert len(reminders(sev1)) == 3


def test_a_sweep_that_first_sees_it_late_sends_only_the_overdue_reminder(
    sev1, manager, comms
):
    incident_services.incident_assign_role(
        incident=sev1, actor=manager, role=role("communications"), user=comms
    )
    due = sev1.next_update_due_at()

    [late] = services.cadence_reminders_sweep(now=due + timedelta(minutes=24))

    assert late.kind == "update_overdue"
    assert "overdue" in late.subject.lower()
    assert services.cadence_reminders_sweep(now=due + timedelta(minutes=25)) == []
    assert [n.kind for n in reminders(sev1)] == ["update_overdue"]


def test_without_a_comms_lead_the_commander_is_reminded(sev1):
    due = sev1.next_update_due_at()
    [reminder] = services.cadence_reminders_sweep(now=due)
    assert {d.recipient for d in reminder.deliveries.all()} == {"mia@example.com"}
    assert "due" in reminder.subject.lower()


def test_no_cadence_no_reminders(responder, manager):
    incident = command(declare(responder), manager)
    confirm(incident, manager, "SEV-4")
    far = incident.severity_confirmed_at + timedelta(days=3)
    assert services.cadence_reminders_sweep(now=far) == []


# --- the timeline ---------------------------------------------------------------


def test_a_large_list_is_one_entry_listing_channels_and_recipients(
    db, responder, manager
):
    for n in range(60):
        UserFactory(username=f"exec{n:02d}", groups=["Executives"])
    StakeholderListFactory(triage=True, name="Everyone", groups=["Executives"])
    incident = declare(responder)

    [entry] = incident.timeline.filter(kind="communication")
    assert entry.data["recipient_count"] == 60
    assert entry.data["channels"] == [{"channel": "E-mail", "deliveries": 60}]
    assert entry.data["lists"] == ["Everyone"]
    assert len(entry.data["recipients"]) == services.NAMES_ON_TIMELINE + 1
    assert entry.data["recipients"][-1] == "and 35 more"
    assert "to 60 recipient(s) via E-mail (60)" in entry.summary


def test_one_outcome_entry_when_all_deliveries_settle(db, responder):
    StakeholderListFactory(
        triage=True, emails=["a@example.com", "b@example.com", "c@example.com"]
    )
    incident = declare(responder)
    notification = incident.notifications.get()
    first, second, third = notification.deliveries.order_by("pk")

    services.delivery_send(delivery_id=first.pk)
    services.delivery_send(delivery_id=second.pk)
    assert incident.timeline.filter(kind="communication").count() == 1
    # the last one fails for good: one outcome entry names it
    Delivery.objects.filter(pk=third.pk).update(channel=_disabled_channel())
    services.delivery_send(delivery_id=third.pk)

    entries = list(incident.timeline.filter(kind="communication"))
    assert len(entries) == 2
    outcome = entries[-1].data
    assert outcome["status"] == "partial"
    assert (outcome["sent"], outcome["failed"]) == (2, 1)
    assert outcome["failures"][0]["recipient"] == third.recipient
    assert verify_timeline(incident).ok


def _disabled_channel():
    from tests.notifications.factories import ChannelFactory

    return ChannelFactory(name="Old mail", is_enabled=False)


def _open_sev1_incidents(count, responder, manager, comms):
    made = []
    for number in range(count):
        incident = command(declare(responder, title=f"Outage {number}"), manager)
        confirm(incident, manager, "SEV-1")
        incident_services.incident_assign_role(
            incident=incident, actor=manager, role=role("communications"), user=comms
        )
        incident_services.stakeholder_update_post(
            incident=incident, actor=comms, body="Working on it."
        )
        incident.refresh_from_db()
        made.append(incident)
    return made


@pytest.mark.parametrize("count", [2, 10])
def test_the_cadence_sweep_reads_a_fixed_number_of_queries(
    responder, manager, comms, count, django_assert_max_num_queries
):
    # given: open incidents already reminded for their current due time
    incidents = _open_sev1_incidents(count, responder, manager, comms)
    now = max(i.next_update_due_at() for i in incidents) + timedelta(minutes=31)
    assert len(services.cadence_reminders_sweep(now=now)) == count

    # when / then: the next run reads a fixed number of queries and sends nothing
    with django_assert_max_num_queries(4):
        assert services.cadence_reminders_sweep(now=now) == []


def test_nobody_to_remind_is_on_the_timeline_once(db, responder, manager):
    # given: a commander without an e-mail address
    silent = UserFactory(username="sam", email="", groups=["Incident managers"])
    incident = command(declare(responder), silent)
    confirm(incident, manager, "SEV-1")
    incident.refresh_from_db()
    due = incident.next_update_due_at()

    # when: two sweeps see it overdue
    assert services.cadence_reminders_sweep(now=due + timedelta(minutes=31)) == []
    assert services.cadence_reminders_sweep(now=due + timedelta(minutes=32)) == []

    # then: one entry says nobody was told
    [entry] = incident.timeline.filter(
        data__status="no_recipients", data__kind="update_overdue"
    )
    assert entry.summary.startswith("No recipients for update_overdue: nobody to tell")
    assert entry.kind == "reminder"
