"""My work, and how communications show on the incident's timeline."""

import pytest

from incidents import services
from incidents.models import TimelineEntry
from tests.factories import role

pytestmark = pytest.mark.django_db


def test_my_work_lists_my_open_actions_and_current_roles(
    client, responder, manager, ready, secret_incident
):
    services.action_create(
        incident=ready, actor=manager, title="Call the card processor", owner=responder
    )
    done = services.action_create(
        incident=ready, actor=manager, title="Already finished", owner=responder
    )
    services.action_complete(action=done, actor=manager)
    services.action_create(
        incident=secret_incident, actor=manager, title="Hidden task", owner=responder
    )  # owning an action grants nothing: the incident stays invisible to them
    services.incident_assign_role(
        incident=ready, actor=manager, role=role("scribe"), user=responder
    )
    client.force_login(responder)

    html = client.get("/my/").content.decode()

    assert "Call the card processor" in html
    assert "Already finished" not in html
    assert "Scribe" in html
    assert ready.reference in html
    assert "Hidden task" not in html
    assert secret_incident.title not in html


def test_communications_show_channels_recipients_and_delivery_status(
    client, manager, ready
):
    # given: what the notifications app logs when a message is queued and when
    # its deliveries have settled
    services.timeline_record(
        incident=ready,
        kind=TimelineEntry.Kind.COMMUNICATION,
        summary="Sent “INC update” to 2 recipient(s) via E-mail",
        data={
            "status": "queued",
            "channels": [{"channel": "E-mail", "deliveries": 2}],
            "recipient_count": 2,
            "recipients": ["Ann Exec", "Bob Ops"],
            "lists": ["SEV-2 management"],
        },
    )
    services.timeline_record(
        incident=ready,
        kind=TimelineEntry.Kind.COMMUNICATION,
        summary="“INC update”: 1 delivered, 1 failed",
        data={
            "status": "partial",
            "channels": {"E-mail": {"sent": 1, "failed": 1}},
            "failures": [
                {"recipient": "bob@example.com", "channel": "E-mail", "error": "550"}
            ],
        },
    )
    client.force_login(manager)

    # when
    html = client.get(ready.get_absolute_url(), {"kind": "communication"}).content
    html = html.decode()

    # then
    assert "Delivery: queued" in html
    assert "Delivery: partial" in html
    assert "Ann Exec" in html and "Bob Ops" in html
    assert "SEV-2 management" in html
    assert "1 sent, 1 failed" in html
    assert "bob@example.com via E-mail: 550" in html


def test_a_communication_and_its_outcome_show_as_one_line(client, manager, ready):
    # given: a message queued, then its settled outcome, as notifications logs them
    for summary, data in (
        (
            "Sent “INC update” to 2 recipient(s) via E-mail",
            {"notification": 41, "status": "queued", "recipients": ["Ann Exec"]},
        ),
        ("“INC update”: 2 delivered", {"notification": 41, "status": "delivered"}),
    ):
        services.timeline_record(
            incident=ready,
            kind=TimelineEntry.Kind.COMMUNICATION,
            summary=summary,
            data=data,
        )
    client.force_login(manager)

    html = client.get(ready.get_absolute_url(), {"kind": "communication"}).content
    html = html.decode()

    # then: one entry, its badge showing the outcome; both entries stay recorded
    assert html.count('data-kind="communication"') == 1
    assert "Delivery: delivered" in html
    assert "Delivery: queued" not in html
    assert "“INC update”: 2 delivered" in html  # the outcome, inside the entry
    assert ready.timeline.filter(kind="communication").count() == 2
