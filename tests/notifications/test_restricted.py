"""Restricted incidents are told only to those who may see them, and to lists
and channels that opted in; what was withheld is counted on the timeline."""

import pytest

from incidents.models import TimelineEntry
from notifications.models import Delivery
from tests.factories import UserFactory
from tests.notifications.conftest import declare
from tests.notifications.factories import ChannelFactory, StakeholderListFactory

pytestmark = pytest.mark.django_db


def recipients(incident, kind) -> set[str]:
    return set(
        Delivery.objects.filter(
            notification__incident=incident, notification__kind=kind
        ).values_list("recipient", flat=True)
    )


@pytest.fixture
def triage(responder):
    ola = UserFactory(username="ola", email="ola@example.com", groups=["Responders"])
    return StakeholderListFactory(
        triage=True,
        users=[responder, ola],
        emails=["partner@example.com"],
    )


def test_restricted_declaration_reaches_only_those_who_may_see_it(triage, responder):
    # when: the reporter (granted on declaring) declares a restricted incident
    incident = declare(responder, restricted=True)

    # then: the reporter is told; the responder without a grant and the
    # external address are not
    assert recipients(incident, "incident_declared") == {responder.email}


def test_the_withheld_count_is_on_the_timeline_without_names(triage, responder):
    incident = declare(responder, restricted=True)

    entry = TimelineEntry.objects.get(
        incident=incident, data__notification__isnull=False
    )
    assert entry.data["withheld"] == 2
    assert "withheld from 2 recipient(s) without access" in entry.summary
    assert "ola" not in entry.summary
    assert "partner@example.com" not in entry.summary


def test_a_list_that_opted_in_gets_restricted_incidents(db, responder):
    StakeholderListFactory(
        triage=True, may_receive_restricted=True, emails=["csirt@example.com"]
    )

    incident = declare(responder, restricted=True)

    assert recipients(incident, "incident_declared") == {"csirt@example.com"}


def test_webhook_subscriptions_need_the_opt_in(db, responder):
    ChannelFactory(
        name="siem",
        webhook=True,
        target="https://siem.example.com/hook",
        events=["incident_changed"],
    )
    ChannelFactory(
        name="soc",
        webhook=True,
        target="https://soc.example.com/hook",
        events=["incident_changed"],
        may_receive_restricted=True,
    )

    restricted = declare(responder, restricted=True)
    plain = declare(responder)

    assert recipients(restricted, "incident_changed") == {"soc"}
    assert recipients(plain, "incident_changed") == {"siem", "soc"}


def test_nobody_allowed_is_recorded_as_no_recipients(db, responder):
    StakeholderListFactory(triage=True, emails=["partner@example.com"])

    incident = declare(responder, restricted=True)

    assert not incident.notifications.exists()
    entry = TimelineEntry.objects.get(incident=incident, data__status="no_recipients")
    assert entry.summary == (
        "No recipients for incident_declared: withheld from 1 recipient(s) "
        "without access to this restricted incident"
    )


def test_unrestricted_incidents_are_told_to_everyone(triage, responder):
    incident = declare(responder)

    assert recipients(incident, "incident_declared") == {
        responder.email,
        "ola@example.com",
        "partner@example.com",
    }
    entry = TimelineEntry.objects.get(
        incident=incident, data__notification__isnull=False
    )
    assert entry.data["withheld"] == 0
    assert "withheld" not in entry.summary
