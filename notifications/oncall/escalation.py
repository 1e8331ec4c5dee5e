"""Escalation: start a policy for an incident, page its due steps, stop it.

The escalation is a sweep over database state (``escalate_sweep``), run by Celery
beat and by ``python manage.py escalate [--now ISO]``. Each due ``Escalation``
row is taken with ``select_for_update(skip_locked=True)``, so concurrent sweeps
never take the same row; its step's ``Page`` rows, their notifications and
deliveries (the outbox), its timeline entries and its move to the next step are
written in one transaction, and the deliveries are published after commit. A
worker that dies mid-step rolls the step back whole and the next sweep does it
again; a broker that is down leaves the deliveries pending for the outbox
sweeper. Running the sweep twice with the same ``now`` pages nobody twice.

An acknowledgement (``incidents.services.incident_acknowledge``, or anything
else that sets ``Incident.acknowledged_at``) stops the incident's escalations:
at once through the ``incident_acknowledged`` event, and in any case at the
sweep, which never pages for an acknowledged, mitigated or resolved incident.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from incidentops.celery import publish
from incidents import timeline_entries as entries
from incidents.events import importing_history, silent_during_import
from incidents.models import Incident, TimelineEntry
from incidents.services import timeline_record
from notifications.oncall.escalation_models import (
    Escalation,
    EscalationPolicy,
    EscalationStep,
    NotificationRule,
    Page,
)

logger = logging.getLogger(__name__)

Kind = TimelineEntry.Kind
# Escalations taken per transaction by the sweep: small enough that the first
# pages go out while the sweep carries on, large enough to keep queries down.
SWEEP_BATCH = 25
ACK_SALT = "notifications.oncall.acknowledge-page"
# Statuses in which nobody needs paging any more.
QUIET_STATUSES = (
    Incident.Status.MITIGATED,
    Incident.Status.RESOLVED,
    Incident.Status.CLOSED,
)


# --- the signed acknowledge link ----------------------------------------------------


class AcknowledgeLinkError(Exception):
    """The link cannot acknowledge: ``reason`` is "tampered", "expired" or
    "wrong_person"; ``str(exc)`` says it in words."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def acknowledge_token(incident: Incident, user) -> str:
    """A token (URL-safe) that lets ``user``, and only them, acknowledge
    ``incident``; signed with the SECRET_KEY (``django.core.signing``, salt
    ``ACK_SALT``) and timestamped: it expires ``PAGE_ACK_LINK_MAX_AGE`` after
    it was made."""
    return signing.dumps({"i": incident.pk, "u": user.pk}, salt=ACK_SALT)


def acknowledge_link(incident: Incident, user) -> str:
    """The absolute URL of the one-click acknowledge page for ``user``."""
    return settings.SITE_URL + reverse(
        "notifications:acknowledge-page",
        kwargs={"token": acknowledge_token(incident, user)},
    )


def read_acknowledge_token(token: str) -> tuple[int, int]:
    """(incident id, user id) from a token of ``acknowledge_token``.

    Raises: ``AcknowledgeLinkError`` "expired" when it is older than
    ``PAGE_ACK_LINK_MAX_AGE``, "tampered" when the signature does not match.
    """
    max_age = settings.PAGE_ACK_LINK_MAX_AGE
    try:
        data = signing.loads(token, salt=ACK_SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise AcknowledgeLinkError(
            "expired",
            "This acknowledge link has expired (links last "
            f"{_duration(max_age)}). Acknowledge on the incident's page instead.",
        ) from exc
    except signing.BadSignature as exc:
        raise AcknowledgeLinkError(
            "tampered",
            "This acknowledge link is not valid: it was changed or cut short. "
            "Use the link from the page exactly as it came, or the incident's page.",
        ) from exc
    if not isinstance(data, dict) or not {"i", "u"} <= set(data):
        raise AcknowledgeLinkError("tampered", "This acknowledge link is not valid.")
    return int(data["i"]), int(data["u"])


def _duration(value: timedelta) -> str:
    hours = value.total_seconds() / 3600
    return f"{hours:g} hours" if hours != 1 else "1 hour"


# --- starting and stopping ------------------------------------------------------------


def _named_by(incident: Incident) -> Q:
    """Policies the incident's integration or its linked services name."""
    named = Q(services__incident_links__incident=incident.pk)
    if incident.integration_id is not None:
        named |= Q(integrations=incident.integration_id)
    return named


def policies_for_alert(incident: Incident) -> list[EscalationPolicy]:
    """Active policies an alert-opened ``incident`` starts: its integration's
    and those of the services its alerts' labels matched."""
    return list(
        EscalationPolicy.objects.filter(is_active=True)
        .filter(_named_by(incident))
        .distinct()
        .order_by("name")
    )


def policies_for_severity(incident: Incident) -> list[EscalationPolicy]:
    """Active policies whose start severity the incident's confirmed severity
    reaches: those of its services and integration, and those for every
    incident."""
    if incident.severity_id is None:
        return []
    candidates = EscalationPolicy.objects.filter(
        is_active=True, start_severity__isnull=False
    ).select_related("start_severity")
    own = set(
        candidates.filter(_named_by(incident)).values_list("pk", flat=True).distinct()
    )
    return [
        policy
        for policy in candidates.order_by("name")
        if (policy.pk in own or policy.for_every_incident)
        and policy.starts_at(incident.severity)
    ]


def _needs_paging(incident: Incident) -> bool:
    return incident.acknowledged_at is None and incident.status not in QUIET_STATUSES


def _publish_sweep() -> None:
    from notifications.tasks import escalate_task

    publish(escalate_task)


@transaction.atomic
def escalation_start(
    *,
    incident: Incident,
    policy: EscalationPolicy,
    trigger: str,
    now: datetime | None = None,
) -> Escalation | None:
    """Start ``policy`` for ``incident`` (once per pair), its first step due now.

    Changes: an ``Escalation`` row (running, first step due at ``now``) and a
    ``page`` timeline entry naming the policy and ``trigger`` (why it started).
    Sends: after commit, a sweep task so the first page does not wait for beat
    (if the broker is down, beat's sweep pages it later).
    Returns the new escalation, or None when nothing started: inside
    ``history_import()``, the incident already acknowledged, mitigated or
    resolved, the policy inactive, or already started for this incident.
    Raises nothing of its own.
    """
    if importing_history() or not policy.is_active or not _needs_paging(incident):
        return None
    now = now or timezone.now()
    escalation, created = Escalation.objects.get_or_create(
        incident=incident,
        policy=policy,
        defaults={
            "trigger": trigger[:200],
            "started_at": now,
            "next_due_at": now,
        },
    )
    if not created:
        return None
    steps = policy.steps.count()
    timeline_record(
        incident=incident,
        actor=None,
        occurred_at=now,
        entry=entries.page(
            summary=f"Escalation policy “{policy.name}” started ({trigger}): "
            f"{steps} step(s), "
            + (
                f"repeated up to {policy.repeat_count} time(s)"
                if policy.repeat_count
                else "run once"
            ),
            escalation=escalation.pk,
            policy=policy.name,
            status="started",
            trigger=trigger,
        ),
    )
    transaction.on_commit(_publish_sweep)
    return escalation


@transaction.atomic
def escalation_stop(
    *,
    incident: Incident,
    status: str,
    reason: str,
    actor=None,
    now: datetime | None = None,
) -> list[Escalation]:
    """Stop the incident's running escalations (``status``: acknowledged or
    ended), so no further step and no delayed notification rule is paged.

    Changes: each running ``Escalation`` of the incident (locked, skipping none)
    to ``status`` with ``stopped_at``, ``stopped_by`` (``actor``) and
    ``stop_reason``; one ``page`` timeline entry per escalation stopped.
    Returns the escalations it stopped (none if none were running).
    """
    now = now or timezone.now()
    stopped = []
    running = (
        Escalation.objects.running()
        .filter(incident=incident)
        .select_for_update(of=("self",))
        .select_related("policy")
        .order_by("pk")
    )
    for escalation in running:
        _stop(escalation, status=status, reason=reason, actor=actor, now=now)
        stopped.append(escalation)
    return stopped


def _stop(escalation: Escalation, *, status, reason, actor, now) -> None:
    escalation.status = status
    escalation.stopped_at = now
    escalation.stopped_by = actor
    escalation.stop_reason = reason[:200]
    escalation.next_due_at = None
    escalation.save(
        update_fields=[
            "status",
            "stopped_at",
            "stopped_by",
            "stop_reason",
            "next_due_at",
        ]
    )
    timeline_record(
        incident=escalation.incident,
        actor=actor,
        occurred_at=now,
        entry=entries.page(
            summary=f"Escalation policy “{escalation.policy.name}” stopped: {reason}",
            escalation=escalation.pk,
            policy=escalation.policy.name,
            status=status,
            reason=reason,
        ),
    )


# --- the sweep -----------------------------------------------------------------------


@dataclass
class SweepResult:
    """What one sweep did: pages written (notifications), escalations moved on,
    and escalations stopped or exhausted."""

    pages: list[Page]
    steps: int = 0
    stopped: int = 0
    exhausted: int = 0


def step_people(
    step: EscalationStep, *, at: datetime, oncall: dict | None = None
) -> tuple[list, str]:
    """The active people ``step`` pages at ``at`` (UTC), and a description of
    its target for the timeline: the person; every active member of the team;
    or whoever is on call on the schedule at ``at``
    (``schedules.oncall_users``; ``oncall`` may hold the answer already, by
    schedule id, as ``schedules.oncall_for`` gives it)."""
    from notifications.oncall import schedules

    if step.user_id:
        people = [step.user]
    elif step.team_id:
        people = list(step.team.members.order_by("username"))
    elif step.schedule_id:
        if oncall is not None and step.schedule_id in oncall:
            people = [entry.user for entry in oncall[step.schedule_id]]
        else:
            people = schedules.oncall_users(step.schedule, at)
    else:
        people = []
    people = [person for person in people if person.is_active]
    return list({person.pk: person for person in people}.values()), step.target_label


def _rules_of(users) -> dict[int, list[NotificationRule]]:
    rules: dict[int, list[NotificationRule]] = {}
    for rule in (
        NotificationRule.objects.filter(
            contact_method__user__in=users, contact_method__is_enabled=True
        )
        .select_related("contact_method__user")
        .order_by("delay_minutes", "pk")
    ):
        rules.setdefault(rule.contact_method.user_id, []).append(rule)
    return rules


def _page_step(
    escalation: Escalation, steps, now: datetime, oncall: dict | None = None
) -> list[Page]:
    """Page the escalation's current step: Page rows for each person and rule,
    a timeline entry, the notifications of those due at once; then move it on."""
    policy = escalation.policy
    step = steps[escalation.step_index % len(steps)]
    people, target = step_people(step, at=now, oncall=oncall)
    rules = _rules_of(people)
    pages = []
    for person in people:
        person_rules = rules.get(person.pk) or [None]
        for rule in person_rules:
            method = rule.contact_method if rule else None
            delay = rule.delay_minutes if rule else 0
            pages.append(
                Page(
                    escalation=escalation,
                    incident=escalation.incident,
                    user=person,
                    round=escalation.round,
                    step_index=escalation.step_index,
                    contact_method=method,
                    delay_minutes=delay,
                    key=(
                        f"{escalation.pk}:{escalation.round}:{escalation.step_index}"
                        f":{person.pk}:{method.pk if method else 'account'}:{delay}"
                    ),
                    paged_at=now,
                    due_at=now + timedelta(minutes=delay),
                )
            )
    Page.objects.bulk_create(pages)
    rounds = policy.repeat_count + 1
    where = f"step {escalation.step_index + 1} of {len(steps)}" + (
        f", round {escalation.round + 1} of {rounds}" if rounds > 1 else ""
    )
    names = ", ".join(person.display_name for person in people)
    timeline_record(
        incident=escalation.incident,
        actor=None,
        occurred_at=now,
        entry=entries.page(
            summary=(
                f"“{policy.name}” {where}: paging {names}"
                if people
                else f"“{policy.name}” {where}: nobody to page ({target})"
            )
            + f"; next step in {step.wait_minutes} min unless acknowledged",
            escalation=escalation.pk,
            policy=policy.name,
            status="paging" if people else "nobody",
            round=escalation.round + 1,
            step=escalation.step_index + 1,
            users=[person.username for person in people],
            wait_minutes=step.wait_minutes,
        ),
    )
    escalation.step_index += 1
    if escalation.step_index >= len(steps):
        escalation.step_index = 0
        escalation.round += 1
    escalation.last_paged_at = now
    escalation.next_due_at = now + step.wait
    escalation.save(
        update_fields=["step_index", "round", "last_paged_at", "next_due_at"]
    )
    sent = []
    for page in pages:
        if page.due_at <= now:
            page_send(page=page, now=now)
            sent.append(page)
    return sent


def _managers(escalation: Escalation) -> list:
    """Who is told when nobody acknowledged: the manager of the policy's team;
    without one, the managers of the teams owning the incident's services that
    name the policy."""
    policy = escalation.policy
    if policy.team_id is not None:
        teams = [policy.team]
    else:
        teams = [
            service.team
            for service in policy.services.filter(
                incident_links__incident=escalation.incident_id
            ).select_related("team__manager")
        ]
    managers = [team.manager for team in teams if team.manager_id]
    return [
        person
        for person in {person.pk: person for person in managers}.values()
        if person.is_active
    ]


def _exhaust(escalation: Escalation, now: datetime) -> None:
    """Nobody acknowledged after the last round: stop, and tell the manager."""
    from notifications.services import notification_send

    rounds = escalation.policy.repeat_count + 1
    managers = _managers(escalation)
    _stop(
        escalation,
        status=Escalation.Status.EXHAUSTED,
        reason=f"nobody acknowledged after {rounds} round(s) of its steps"
        + (
            "; telling " + ", ".join(m.display_name for m in managers)
            if managers
            else "; no team manager to tell"
        ),
        actor=None,
        now=now,
    )
    incident = escalation.incident
    for manager in managers:
        contacts = [
            method
            for method in manager.contact_methods.filter(is_enabled=True)
            .select_related("user")
            .order_by("pk")
            if method.rules.exists()
        ]
        notification_send(
            incident=incident,
            kind="page_unanswered",
            event_key=f"escalation:{escalation.pk}:manager:{manager.pk}",
            users=[manager],
            contacts=contacts,
            timeline_kind=Kind.PAGE,
            now=now,
            context={
                "change": "Nobody acknowledged the pages",
                "acknowledge_link": acknowledge_link(incident, manager),
                "policy": escalation.policy.name,
                "rounds": rounds,
                "paged_name": manager.display_name,
                "link_hours": _link_hours(),
            },
        )


def _link_hours() -> str:
    return f"{settings.PAGE_ACK_LINK_MAX_AGE.total_seconds() / 3600:g}"


def page_send(*, page: Page, now: datetime):
    """Write one page's notification through the outbox: to the person's contact
    method (or their account's e-mail), with their signed acknowledge link.

    Changes: a ``page`` ``Notification`` and its ``Delivery`` (unique on the
    page's key), a ``page`` timeline entry (``notification_send``), the page's
    ``handled_at`` and ``notification``. Sends: the delivery, after commit.
    Returns the notification, or None when nobody could be told (no e-mail
    address; a restricted incident the person may not see: withheld and said
    so on the timeline). The caller holds the transaction.
    """
    from notifications.services import notification_send

    escalation = page.escalation
    incident = escalation.incident
    person = page.user
    rounds = escalation.policy.repeat_count + 1
    notification = notification_send(
        incident=incident,
        kind="page",
        event_key=f"page:{page.key}",
        users=[person] if page.contact_method is None else (),
        contacts=[page.contact_method] if page.contact_method is not None else (),
        timeline_kind=Kind.PAGE,
        now=now,
        context={
            "change": f"Paged by escalation policy {escalation.policy.name}",
            "acknowledge_link": acknowledge_link(incident, person),
            "policy": escalation.policy.name,
            "step": page.step_index + 1,
            "round": page.round + 1,
            "rounds": rounds,
            "paged_name": person.display_name,
            "link_hours": _link_hours(),
        },
    )
    page.handled_at = now
    page.notification = notification
    if page.pk:
        page.save(update_fields=["handled_at", "notification"])
    return notification


def _policies_steps(policy_ids) -> dict[int, list[EscalationStep]]:
    steps: dict[int, list[EscalationStep]] = {pk: [] for pk in policy_ids}
    for step in (
        EscalationStep.objects.filter(policy__in=policy_ids)
        .select_related("user", "team", "schedule")
        .order_by("position", "pk")
    ):
        steps[step.policy_id].append(step)
    return steps


def _oncall_now(due, steps, now: datetime) -> dict:
    """Who is on call now on the schedules the due steps page, by schedule id
    (one ``oncall_for`` for the batch)."""
    from notifications.oncall import schedules

    wanted = {}
    for escalation in due:
        policy_steps = steps[escalation.policy_id]
        if policy_steps:
            step = policy_steps[escalation.step_index % len(policy_steps)]
            if step.schedule_id:
                wanted[step.schedule_id] = step.schedule
    return schedules.oncall_for(list(wanted.values()), now) if wanted else {}


def _sweep_escalations(now: datetime, result: SweepResult) -> int:
    """One transaction: up to ``SWEEP_BATCH`` due escalations. Returns how many
    it took."""
    with transaction.atomic():
        due = list(
            Escalation.objects.due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("incident", "policy__team__manager")
            .order_by("next_due_at", "pk")[:SWEEP_BATCH]
        )
        if not due:
            return 0
        steps = _policies_steps({each.policy_id for each in due})
        oncall = _oncall_now(due, steps, now)
        for escalation in due:
            incident = escalation.incident
            policy_steps = steps[escalation.policy_id]
            if not _needs_paging(incident):
                acknowledged = incident.acknowledged_at is not None
                _stop(
                    escalation,
                    status=(
                        Escalation.Status.ACKNOWLEDGED
                        if acknowledged
                        else Escalation.Status.ENDED
                    ),
                    reason=(
                        "the incident was acknowledged"
                        if acknowledged
                        else f"the incident is {incident.get_status_display().lower()}"
                    ),
                    actor=incident.acknowledged_by if acknowledged else None,
                    now=now,
                )
                result.stopped += 1
            elif (
                not policy_steps
                or escalation.round > escalation.policy.repeat_count
                or not escalation.policy.is_active
            ):
                _exhaust(escalation, now)
                result.exhausted += 1
            else:
                result.pages += _page_step(escalation, policy_steps, now, oncall)
                result.steps += 1
        return len(due)


def _sweep_delayed_pages(now: datetime, result: SweepResult) -> int:
    """One transaction: up to ``SWEEP_BATCH`` pages of later notification rules
    that fell due. Returns how many it took."""
    with transaction.atomic():
        due = list(
            Page.objects.due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related(
                "escalation__incident",
                "escalation__policy",
                "user",
                "contact_method__user",
            )
            .order_by("due_at", "pk")[:SWEEP_BATCH]
        )
        for page in due:
            if not _needs_paging(page.escalation.incident):
                page.handled_at = now
                page.save(update_fields=["handled_at"])
                continue
            page_send(page=page, now=now)
            result.pages.append(page)
        return len(due)


def escalate_sweep(*, now: datetime) -> SweepResult:
    """Page every escalation step and notification rule due at ``now`` (UTC).

    Escalations: each running one whose ``next_due_at`` is at or before ``now``,
    taken ``SWEEP_BATCH`` at a time with ``select_for_update(skip_locked=True)``
    (so concurrent sweeps share the work and never take one row twice), is
    stopped if its incident was acknowledged, mitigated or resolved meanwhile;
    exhausted (a timeline entry) after its last round; or else its current step
    is paged (``Page`` rows per person and notification rule, a timeline entry,
    the notifications of the rules due at once) and it moves to the next step,
    due after the step's wait. Then every page of a later rule that fell due is
    sent, unless its escalation stopped. Deliveries are published after each
    batch commits. Running it twice with the same ``now`` pages nobody twice.
    Returns a ``SweepResult``.
    """
    result = SweepResult(pages=[])
    while _sweep_escalations(now, result) == SWEEP_BATCH:
        pass
    while _sweep_delayed_pages(now, result) == SWEEP_BATCH:
        pass
    return result


# --- receivers of incidents.events ----------------------------------------------------


@silent_during_import
def on_incident_declared(sender, *, incident, actor, **kwargs) -> None:
    """An alert-opened incident starts its integration's policies; one declared
    with a confirmed severity starts those its severity reaches. The first step
    is due when the incident was created (a deferred alert declaration that
    completes later pages at once)."""
    started = set()
    if incident.integration_id is not None:
        name = incident.integration.name
        for policy in policies_for_alert(incident):
            escalation_start(
                incident=incident,
                policy=policy,
                trigger=f"alert from {name}",
                now=incident.created_at,
            )
            started.add(policy.pk)
    for policy in policies_for_severity(incident):
        if policy.pk not in started:
            escalation_start(
                incident=incident,
                policy=policy,
                trigger=f"declared at {incident.severity.code}",
                now=incident.created_at,
            )


@silent_during_import
def on_severity_confirmed(sender, *, incident, actor, **kwargs) -> None:
    for policy in policies_for_severity(incident):
        escalation_start(
            incident=incident,
            policy=policy,
            trigger=f"severity confirmed as {incident.severity.code}",
            now=incident.severity_confirmed_at,
        )


def on_acknowledged(sender, *, incident, actor, **kwargs) -> None:
    escalation_stop(
        incident=incident,
        status=Escalation.Status.ACKNOWLEDGED,
        reason=f"{actor.display_name if actor else 'someone'} acknowledged",
        actor=actor,
        now=incident.acknowledged_at,
    )


def on_role_assigned(sender, *, assignment, actor, **kwargs) -> None:
    """Taking command acknowledges: stop paging."""
    incident = assignment.incident
    if incident.acknowledged_at is not None:
        escalation_stop(
            incident=incident,
            status=Escalation.Status.ACKNOWLEDGED,
            reason=f"{assignment.user.display_name} took command",
            actor=actor,
            now=assignment.started_at,
        )


def on_status_changed(sender, *, incident, actor, **kwargs) -> None:
    if incident.status in QUIET_STATUSES:
        escalation_stop(
            incident=incident,
            status=Escalation.Status.ENDED,
            reason=f"the incident is {incident.get_status_display().lower()}",
            actor=actor,
        )
    elif incident.acknowledged_at is not None:
        escalation_stop(
            incident=incident,
            status=Escalation.Status.ACKNOWLEDGED,
            reason="the incident was acknowledged",
            actor=actor,
            now=incident.acknowledged_at,
        )


def connect() -> None:
    """Subscribe to the incident events (dispatch_uid: once only)."""
    from incidents import events

    for signal, receiver in (
        (events.incident_declared, on_incident_declared),
        (events.incident_severity_confirmed, on_severity_confirmed),
        (events.incident_acknowledged, on_acknowledged),
        (events.incident_role_assigned, on_role_assigned),
        (events.incident_status_changed, on_status_changed),
    ):
        signal.connect(
            receiver,
            sender=Incident,
            dispatch_uid=f"notifications.oncall.{receiver.__name__}",
        )
