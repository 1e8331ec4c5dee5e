"""Update-cadence reminders: the sweep that tells the communications lead
(then the commander) when an open incident's next stakeholder update is due,
through the outbox (``notifications.services.notification_send``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Prefetch

from incidents.models import COMMANDER, COMMUNICATIONS, Incident, RoleAssignment
from notifications.models import Notification
from notifications.services import Kind, notification_send

# The "update due" reminder goes out this long before the due time.
REMINDER_LEAD = timedelta(minutes=5)


def _holder(incident: Incident, role_slug: str):
    """The current holder of the role, from the prefetched open assignments."""
    for assignment in incident.open_assignments:
        if assignment.role.slug == role_slug:
            return assignment.user
    return None


def cadence_reminders_sweep(*, now: datetime) -> list[Notification]:
    """Remind people when an open incident's next stakeholder update is due.

    For each open incident whose severity has an update cadence: from
    ``REMINDER_LEAD`` before the due time until as long after it, an
    ``update_due`` reminder to the communications lead (the commander if there
    is none); after that, an ``update_overdue`` reminder to both. Each is one
    notification (timeline kind ``reminder``) whose key names the incident, the
    due time and the stage, so each goes out once per due time whatever how often
    this runs. Returns the notifications written by this run. Reads a fixed
    number of queries whatever the number of open incidents (plus the writes of
    each reminder it sends).
    """
    written = []
    incidents = (
        Incident.objects.open()
        .filter(severity__update_cadence__isnull=False)
        .select_related("severity", "incident_type")
        .with_last_update()
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=RoleAssignment.objects.filter(
                    ended_at__isnull=True
                ).select_related("role", "user"),
                to_attr="open_assignments",
            )
        )
        .order_by("pk")
    )
    due_now = []
    for incident in incidents:
        due = incident.next_update_due_at()
        if due is None:
            continue
        cadence = incident.severity.update_cadence
        comms = _holder(incident, COMMUNICATIONS)
        commander = _holder(incident, COMMANDER)
        lead = min(REMINDER_LEAD, cadence / 2)
        if now >= due + lead:
            # past due (and past a short grace): the comms lead and the commander;
            # a sweep that first sees it late sends only this, never "due"
            stage, people = "overdue", [comms, commander]
        elif now >= due - lead:
            stage, people = "due", [comms or commander]
        else:
            continue
        people = [p for p in dict.fromkeys(people) if p is not None]
        if people:
            key = f"reminder:{incident.pk}:{due.isoformat()}:{stage}"
            due_now.append((incident, due, stage, people, key))
    sent_before = set(
        Notification.objects.filter(
            event_key__in=[key for *_, key in due_now]
        ).values_list("event_key", flat=True)
    )
    for incident, due, stage, people, key in due_now:
        if key in sent_before:
            continue
        notification = notification_send(
            incident=incident,
            kind=f"update_{stage}",
            event_key=key,
            users=people,
            context={"due_at": due, "change": f"Stakeholder update {stage}"},
            timeline_kind=Kind.REMINDER,
            now=now,
        )
        if notification is not None:
            written.append(notification)
    return written
