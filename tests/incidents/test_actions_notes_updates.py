from datetime import UTC, datetime, timedelta

import pytest

from incidentops import groups
from incidentops.exceptions import DomainError, NotPermitted
from incidents import events, services
from tests.factories import UserFactory, role


def test_action_create_update_complete(incident, responder, manager):
    due = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)
    action = services.action_create(
        incident=incident,
        actor=responder,
        title="Roll back release",
        owner=manager,
        role=role("operations"),
        due_at=due,
        priority="high",
    )
    assert (action.status, action.priority, action.created_by) == (
        "open",
        "high",
        responder,
    )

    services.action_update(action=action, actor=responder, status="in_progress")
    action.refresh_from_db()
    assert action.status == "in_progress"

    done_at = due - timedelta(minutes=5)
    services.action_complete(action=action, actor=manager, now=done_at)
    action.refresh_from_db()
    assert action.status == "done"
    assert action.completed_at == done_at
    assert action.completed_by == manager

    kinds = list(incident.timeline.filter(kind="action").values_list("data", flat=True))
    assert [d["change"] for d in kinds] == ["created", "updated", "updated"]
    assert kinds[1]["changes"]["status"] == {"from": "open", "to": "in_progress"}


def test_reopening_an_action_clears_completion(incident, responder):
    action = services.action_create(incident=incident, actor=responder, title="X")
    services.action_complete(action=action, actor=responder)
    services.action_update(action=action, actor=responder, status="open")
    action.refresh_from_db()
    assert action.completed_at is None
    assert action.completed_by is None


def test_completing_twice_is_refused(incident, responder):
    action = services.action_create(incident=incident, actor=responder, title="X")
    services.action_complete(action=action, actor=responder)
    action.refresh_from_db()
    with pytest.raises(DomainError, match="already"):
        services.action_complete(action=action, actor=responder)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "finished"},
        {"priority": "urgent"},
        {"title": " "},
        {"incident": None},
    ],
)
def test_action_update_refuses_bad_input(incident, responder, fields):
    action = services.action_create(incident=incident, actor=responder, title="X")
    with pytest.raises(DomainError):
        services.action_update(action=action, actor=responder, **fields)


def test_action_create_refuses_bad_input(incident, responder):
    with pytest.raises(DomainError):
        services.action_create(incident=incident, actor=responder, title="")
    with pytest.raises(DomainError):
        services.action_create(
            incident=incident, actor=responder, title="X", priority="urgent"
        )


def test_viewers_may_not_manage_actions(incident, responder):
    executive = UserFactory(groups=[groups.EXECUTIVES])
    with pytest.raises(NotPermitted):
        services.action_create(incident=incident, actor=executive, title="X")
    action = services.action_create(incident=incident, actor=responder, title="X")
    with pytest.raises(NotPermitted):
        services.action_complete(action=action, actor=executive)


def test_action_changed_event(incident, responder):
    seen = []

    def receiver(sender, action, actor, created, **kwargs):
        seen.append((action.title, created))

    events.action_changed.connect(receiver, weak=False)
    try:
        action = services.action_create(incident=incident, actor=responder, title="A")
        services.action_update(action=action, actor=responder, title="B")
    finally:
        events.action_changed.disconnect(receiver)
    assert seen == [("A", True), ("B", False)]


def test_add_note(incident, responder):
    entry = services.incident_add_note(
        incident=incident, actor=responder, body="Error rate falling"
    )
    assert (entry.kind, entry.summary, entry.actor) == (
        "note",
        "Error rate falling",
        responder,
    )


def test_add_note_refusals(incident):
    with pytest.raises(NotPermitted):
        services.incident_add_note(
            incident=incident,
            actor=UserFactory(groups=[groups.REVIEWERS]),
            body="hi",
        )
    with pytest.raises(DomainError):
        services.incident_add_note(
            incident=incident, actor=incident.reporter, body="  "
        )


def test_stakeholder_update_is_stored_logged_and_published(
    ready, responder, django_capture_on_commit_callbacks
):
    seen = []

    def receiver(sender, update, actor, **kwargs):
        seen.append((update.body, actor))

    events.stakeholder_update_posted.connect(receiver, weak=False)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            update = services.stakeholder_update_post(
                incident=ready, actor=responder, body="Payments recovering."
            )
    finally:
        events.stakeholder_update_posted.disconnect(receiver)

    assert seen == [("Payments recovering.", responder)]
    # The core itself sends nothing after commit: fan-out is notifications' job.
    assert callbacks == []
    entry = ready.timeline.last()
    assert entry.kind == "stakeholder_update"
    assert entry.data == {"update": update.pk}
    # SEV-2 cadence: 60 minutes after the latest update.
    assert ready.next_update_due_at() == update.created_at + timedelta(minutes=60)


def test_stakeholder_update_refusals(incident):
    with pytest.raises(NotPermitted):
        services.stakeholder_update_post(
            incident=incident, actor=UserFactory(groups=[groups.REVIEWERS]), body="x"
        )
    with pytest.raises(DomainError):
        services.stakeholder_update_post(
            incident=incident, actor=incident.reporter, body=""
        )
