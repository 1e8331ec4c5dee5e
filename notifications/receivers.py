"""Who is told what, when an incident changes: receivers of ``incidents.events``.

They run inside the publishing service's transaction and only write outbox rows
through ``services.notification_send`` (which registers the sends for after
commit). Inside ``history_import()`` they stay silent
(``events.silent_during_import``). Connected in
``NotificationsConfig.ready()``.
"""

from __future__ import annotations

import uuid

from incidents import events
from incidents.models import Alert, Incident
from incidents.permissions import can_view
from notifications import services
from notifications.models import Channel, StakeholderList


def lists_for(incident: Incident):
    """The incident's lists; before a severity is confirmed, the triage lists."""
    if incident.severity_id is None:
        return StakeholderList.objects.for_declaration()
    return StakeholderList.objects.for_incident(incident)


def _tell_person(recipient, /, *, incident, kind, event_key, actor, **context) -> None:
    """One notification of ``kind`` to one person, ``recipient`` (not to lists);
    ``context`` (``change`` and the template's other names) goes to the
    message."""
    services.notification_send(
        incident=incident,
        kind=kind,
        event_key=event_key,
        users=[recipient],
        actor=actor,
        context=context,
    )


def _stamp(value) -> str:
    return value.isoformat() if value else ""


@events.silent_during_import
def on_incident_declared(sender, *, incident, actor, **kwargs) -> None:
    services.notification_send(
        incident=incident,
        kind="incident_declared",
        event_key=f"incident:{incident.pk}:declared",
        lists=StakeholderList.objects.for_declaration(),
        actor=actor,
        context={"change": "Declared; in triage"},
    )


@events.silent_during_import
def on_severity_confirmed(sender, *, incident, previous_severity, actor, **kwargs):
    severity = incident.severity
    if previous_severity is not None and not severity.is_more_severe_than(
        previous_severity
    ):
        return  # re-confirmed or lowered: the lists already know
    change = (
        f"Severity confirmed as {severity.code}"
        if previous_severity is None
        else f"Severity raised from {previous_severity.code} to {severity.code}"
    )
    services.notification_send(
        incident=incident,
        kind="severity_confirmed",
        event_key=(
            f"incident:{incident.pk}:severity:{severity.code}:"
            f"{_stamp(incident.severity_confirmed_at)}"
        ),
        lists=StakeholderList.objects.for_incident(incident),
        actor=actor,
        context={"change": change, "reason": incident.severity_reason},
    )


@events.silent_during_import
def on_suggestion_raised(
    sender, *, incident, severity, previous, reason, alert, actor, **kwargs
) -> None:
    """A worse alert raised the suggested severity: the people running the
    incident and its lists are told, so a person can confirm or raise it."""
    holders = list({a.user_id: a.user for a in incident.current_assignments()}.values())
    source = "An alert"
    if alert:
        source = "Alert " + Alert.short_name(
            alert["name"], alert["fingerprint"], alert.get("labels") or {}
        )
    services.notification_send(
        incident=incident,
        kind="severity_suggested",
        event_key=f"incident:{incident.pk}:suggested:{severity.code}",
        users=holders,
        lists=lists_for(incident),
        actor=actor,
        context={
            "change": f"{source} suggests {severity.code} "
            f"(was {previous.code if previous else 'no suggestion'})",
            "reason": reason,
            "suggested_code": severity.code,
        },
    )


@events.silent_during_import
def on_role_assigned(sender, *, assignment, previous_assignment, actor, **kwargs):
    if actor is not None and actor.pk == assignment.user_id:
        return  # they took the role themselves
    _tell_person(
        assignment.user,
        incident=assignment.incident,
        kind="role_assigned",
        event_key=f"assignment:{assignment.pk}",
        actor=actor,
        change=f"{assignment.user.display_name} is now {assignment.role.name.lower()}",
        role=assignment.role.name,
        assignee=assignment.user.display_name,
    )


@events.silent_during_import
def on_update_posted(sender, *, update, actor, **kwargs) -> None:
    incident = update.incident
    services.notification_send(
        incident=incident,
        kind="stakeholder_update",
        event_key=f"update:{update.pk}",
        lists=lists_for(incident),
        actor=actor,
        context={"change": "Stakeholder update", "update": update.body},
    )


@events.silent_during_import
def on_resolved(sender, *, incident, actor, **kwargs) -> None:
    services.notification_send(
        incident=incident,
        kind="incident_resolved",
        event_key=f"incident:{incident.pk}:resolved:{_stamp(incident.resolved_at)}",
        lists=lists_for(incident),
        actor=actor,
        context={
            "change": "Resolved",
            "resolution": incident.resolution_summary,
        },
    )


@events.silent_during_import
def on_incident_changed(sender, *, incident, change, actor, data, **kwargs):
    """Integration webhooks subscribed to ``incident_changed``."""
    subscribers = [
        channel
        for channel in Channel.objects.filter(
            kind=Channel.Kind.WEBHOOK, is_enabled=True
        )
        if channel.wants_change(change)
    ]
    if not subscribers:
        return
    services.notification_send(
        incident=incident,
        kind="incident_changed",
        # Each event is distinct: there is no natural key for "the n-th change".
        event_key=f"incident:{incident.pk}:changed:{change}:{uuid.uuid4().hex}",
        channels=subscribers,
        actor=actor,
        event="incident_changed",
        event_data={"change": change, **(data or {})},
        context={"change": change.replace("_", " ")},
    )


@events.silent_during_import
def on_role_requested(sender, *, request, actor, **kwargs) -> None:
    """Tell the person asked to take a role, through the outbox (logged on the
    timeline with its deliveries: control 3)."""
    ask = request.role.ask_phrase
    _tell_person(
        request.user,
        incident=request.incident,
        kind="role_requested",
        event_key=f"role-request:{request.pk}",
        actor=actor,
        change=f"{request.asked_by.display_name} asked "
        f"{request.user.display_name} to {ask}",
        person=request.user.display_name,
        asker=request.asked_by.display_name,
        ask=ask,
        reason=request.reason,
    )


def on_marked_duplicate(sender, *, incident, primary, actor, **kwargs) -> None:
    """Tell the duplicate's reporter and role holders (people, not the one who
    marked it) where the work goes on. Whoever may not see the primary is told
    only that it is a restricted incident, never its reference or title."""
    if events.importing_history():
        return
    people = {a.user_id: a.user for a in incident.current_assignments()}
    if incident.reporter_id:
        people.setdefault(incident.reporter_id, incident.reporter)
    people = [
        person
        for person in people.values()
        if person.is_human and (actor is None or person.pk != actor.pk)
    ]
    may_see = [p for p in people if can_view(p, primary)]
    may_not = [p for p in people if not can_view(p, primary)]
    who = actor.display_name if actor is not None else "IncidentOps"
    for audience, name, part in (
        (may_see, f"{primary.reference} “{primary.title}”", "primary"),
        (may_not, "a restricted incident", "restricted"),
    ):
        if not audience:
            continue
        services.notification_send(
            incident=incident,
            kind="incident_duplicate",
            event_key=(
                f"incident:{incident.pk}:duplicate-of:{primary.pk}:"
                f"{_stamp(incident.closed_at)}:{part}"
            ),
            users=audience,
            actor=actor,
            context={
                "change": f"{who} closed it as a duplicate of {name}; the "
                "response goes on there.",
                "primary": name,
            },
        )


def connect() -> None:
    """Subscribe to the incident events (dispatch_uid: once only)."""
    for signal, receiver in (
        (events.incident_declared, on_incident_declared),
        (events.incident_severity_confirmed, on_severity_confirmed),
        (events.severity_suggestion_raised, on_suggestion_raised),
        (events.incident_role_assigned, on_role_assigned),
        (events.stakeholder_update_posted, on_update_posted),
        (events.incident_resolved, on_resolved),
        (events.incident_changed, on_incident_changed),
        (events.role_requested, on_role_requested),
        (events.incident_marked_duplicate, on_marked_duplicate),
    ):
        signal.connect(
            receiver, sender=Incident, dispatch_uid=f"notifications.{receiver.__name__}"
        )
