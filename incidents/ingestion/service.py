"""Storing a parsed delivery: one open incident per group, every alert a record.

``alert_ingest`` is the one write path for deliveries. It does the least it
must, under one lock (the incident's row), so that a storm of deliveries is
answered fast and in parallel:

- one open incident per (integration, dedup key), the key being the SHA-256 of
  the whole group key; the database's partial unique constraint decides races,
  a lost race attaches to the winner;
- every alert upserted on its incident (``Alert``, one row per fingerprint);
- timeline ``alert`` entries for what is new (alerts, status changes, the group
  resolving or firing again, a sender's acknowledgement) and at most one
  "N repeats" summary per ``REPEAT_SUMMARY_INTERVAL``;
- new alerts whose labels identify a catalog service link it to the incident
  (``alert_link_services``), with a timeline entry naming the labels;
- the suggested severity rises with the worst firing alert (a suggestion only);
- for a new incident, its reference is drawn as the transaction's last write,
  and the triage suggestion and the "declared" notifications follow after commit
  (``alert_follow_up``), swept by ``alert_follow_up_sweep`` if a worker missed it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from incidents import services
from incidents import timeline_entries as entries
from incidents.ingestion import configcache, sharedcache
from incidents.ingestion.batch import (
    ACKNOWLEDGE,
    FIRING,
    RESOLVED,
    TRIGGER,
    Alert,
    AlertBatch,
)
from incidents.ingestion.describe import incident_description
from incidents.ingestion.severity import SeverityMapper
from incidents.ingestion.sharedcache import first_row
from incidents.models import Alert as AlertRecord
from incidents.models import AlertState, Incident, Integration

logger = logging.getLogger(__name__)

REPEAT_SUMMARY_INTERVAL = timedelta(minutes=5)
FOLLOW_UP_GRACE = timedelta(minutes=2)
_BULK = 500
# The fields a delivery may change on an alert row (the last two always do).
_UPDATED = [
    "status",
    "name",
    "labels",
    "annotations",
    "links",
    "details",
    "starts_at",
    "ends_at",
    "generator_url",
    "severity_label",
    "severity",
    "acknowledged_at",
    "last_seen_at",
    "deliveries",
]
# The fields a delivery may change on the group's ``AlertState``.
_STATE_UPDATED = [
    "status",
    "deliveries",
    "repeats_unreported",
    "truncated_alerts",
    "last_seen_at",
    "last_summary_at",
]
_COMPARED = ["severity_id" if name == "severity" else name for name in _UPDATED[:-2]]


@dataclass(frozen=True)
class IngestResult:
    """``incident`` is None only for a resolve or acknowledge of a key that never
    had an incident."""

    incident: Incident | None
    created: bool


@dataclass
class _Changes:
    new: list[AlertRecord] = field(default_factory=list)
    changed: list[AlertRecord] = field(default_factory=list)
    status_changed: list[AlertRecord] = field(default_factory=list)
    acknowledged: list[AlertRecord] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)


# --- the incident ------------------------------------------------------------------


def _open_locked(integration: Integration, dedup_key: str) -> Incident | None:
    # Not joined with its alert state: a read that waited for this lock would
    # see the joined row as it was before the wait (PostgreSQL re-checks only
    # the locked row), and counters would lose updates. ``_state`` reads it
    # once the lock is held.
    return first_row(
        Incident.objects.open()
        .select_for_update()
        .filter(integration=integration, dedup_key=dedup_key)
    )


def _latest_locked(integration: Integration, dedup_key: str) -> Incident | None:
    latest = (
        Incident.objects.filter(integration=integration, dedup_key=dedup_key)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if latest is None:
        return None
    return Incident.objects.select_for_update().get(pk=latest)


def _declare(
    integration: Integration, batch: AlertBatch, mapper: SeverityMapper, now: datetime
) -> Incident:
    """Declare the group's incident in this transaction, without a savepoint:
    a lost race raises ``DedupRaceLost`` (``alert_ingest`` then starts over
    and attaches to the winner)."""
    started = batch.earliest_start()
    worst, label = _worst_of_batch(batch, mapper)
    return services.incident_declare(
        actor=integration.service_account,
        title=batch.title,
        description=incident_description(batch),
        incident_type=integration.default_incident_type,
        integration=integration,
        dedup_key=batch.dedup_key,
        detected_at=min(started, now) if started else now,
        now=now,
        deferred=True,
        suggested_severity=worst,
        suggestion_rationale=_rationale(integration, label, worst),
    )


def _rationale(integration: Integration, label: str, level) -> str:
    if level is None:
        return ""
    return (
        f"the worst firing alert's severity {label!r} maps to {level.code} "
        f"in integration {integration.name}"
    )


def _worst_of_batch(batch: AlertBatch, mapper: SeverityMapper):
    worst, label = None, ""
    for alert in batch.firing:
        level = mapper.level(alert.severity_label)
        if level is not None and level.is_more_severe_than(worst):
            worst, label = level, alert.severity_label
    return worst, label


# --- the alert rows ----------------------------------------------------------------


def _record(
    alert: Alert, incident: Incident, integration, mapper, now: datetime
) -> AlertRecord:
    return AlertRecord(
        incident=incident,
        integration=integration,
        fingerprint=alert.fingerprint,
        name=alert.name,
        status=alert.status,
        labels=alert.labels,
        annotations=alert.annotations,
        links=alert.links,
        details=alert.details,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        generator_url=alert.generator_url,
        severity_label=alert.severity_label[:60],
        severity=mapper.level(alert.severity_label),
        first_seen_at=now,
        last_seen_at=now,
        deliveries=1,
    )


def _merge(row: AlertRecord, alert: Alert, mapper, action: str, now) -> bool:
    """Bring ``row`` up to date with ``alert``; True when anything but the
    counters changed. What an acknowledge or resolve event leaves out (its
    labels, its text) is kept, not blanked."""
    before = {name: getattr(row, name) for name in _COMPARED}
    row.status = alert.status
    for name in ("name", "labels", "annotations", "links", "details"):
        if getattr(alert, name):
            setattr(row, name, getattr(alert, name))
    if alert.starts_at is not None:
        row.starts_at = alert.starts_at
    row.ends_at = alert.ends_at or (now if alert.status == RESOLVED else None)
    if alert.generator_url:
        row.generator_url = alert.generator_url
    if alert.severity_label and alert.severity_label[:60] != row.severity_label:
        row.severity_label = alert.severity_label[:60]
        row.severity = mapper.level(alert.severity_label)
    if action == ACKNOWLEDGE and row.acknowledged_at is None:
        row.acknowledged_at = now
    row.last_seen_at = now
    row.deliveries += 1
    return any(getattr(row, name) != value for name, value in before.items())


def _upsert_alerts(
    incident: Incident, integration, batch: AlertBatch, mapper, now, created: bool
) -> _Changes:
    """New alerts inserted, changed ones updated, repeats counted: four
    statements at most, whatever the number of alerts."""
    changes = _Changes()
    alerts = {a.fingerprint: a for a in batch.alerts}  # last one wins
    known = {}
    if not created:  # a new incident has no alerts yet
        known = {
            row.fingerprint: row
            for row in AlertRecord.objects.filter(
                incident=incident, fingerprint__in=list(alerts)
            )
        }
    for fingerprint, alert in alerts.items():
        row = known.get(fingerprint)
        if row is None:
            if batch.action != TRIGGER and not alert.name:
                continue  # an acknowledge or resolve of an alert never seen
            changes.new.append(_record(alert, incident, integration, mapper, now))
            continue
        status, acknowledged = row.status, row.acknowledged_at
        if _merge(row, alert, mapper, batch.action, now):
            changes.changed.append(row)
            if row.status != status:
                changes.status_changed.append(row)
            if row.acknowledged_at != acknowledged:
                changes.acknowledged.append(row)
        else:
            changes.unchanged.append(row.pk)
    if changes.new:
        AlertRecord.objects.bulk_create(changes.new, batch_size=_BULK)
    if changes.changed:
        AlertRecord.objects.bulk_update(changes.changed, _UPDATED, batch_size=_BULK)
    if changes.unchanged:
        AlertRecord.objects.filter(pk__in=changes.unchanged).update(
            deliveries=F("deliveries") + 1, last_seen_at=now
        )
    return changes


# --- the timeline --------------------------------------------------------------------


class _Timeline:
    """Appends ``alert`` entries to an incident whose row this transaction has
    locked, inside ``alert_ingest``'s ``timeline_batch``: no re-lock, no
    savepoint, no read of the last entry, and the chain's head and the
    revision written once for the delivery."""

    def __init__(self, incident: Incident, integration: Integration, now):
        self.incident = incident
        self.actor = integration.service_account
        self.now = now

    def add(self, entry: entries.Entry):
        return services.timeline_append(
            incident=self.incident,
            entry=entry,
            actor=self.actor,
            occurred_at=self.now,
        )


def _names(rows: list[AlertRecord], limit: int = 5) -> str:
    names = sorted({row.display_name for row in rows})
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _log_new(timeline: _Timeline, integration, batch, changes: _Changes) -> None:
    firing = [row for row in changes.new if row.status == FIRING]
    timeline.add(
        entries.alert(
            summary=f"{len(changes.new)} new alert(s) from {integration.name}"
            + (f", {len(firing)} firing" if firing else "")
            + f": {_names(changes.new)}",
            fingerprints=[row.fingerprint for row in changes.new[:100]],
            new=len(changes.new),
            status=batch.status,
            truncated_alerts=batch.truncated_alerts,
            source=batch.source,
        )
    )


def _log_changes(
    timeline: _Timeline, integration, batch, changes, group_changed: bool
) -> None:
    if changes.status_changed and not group_changed:
        rows = changes.status_changed
        timeline.add(
            entries.alert(
                summary=f"{len(rows)} alert(s) changed status: "
                + ", ".join(f"{r.display_name} {r.status}" for r in rows[:5])
                + (f" and {len(rows) - 5} more" if len(rows) > 5 else ""),
                changed={r.fingerprint: r.status for r in rows[:100]},
            )
        )
    if changes.acknowledged:
        timeline.add(
            entries.alert(
                summary=f"{integration.name} reports {_names(changes.acknowledged)} "
                "acknowledged by its sender. This is not a person taking command: "
                "the incident still needs a human commander.",
                acknowledged=[r.fingerprint for r in changes.acknowledged[:100]],
                dedup_key=batch.dedup_key,
            )
        )


def _log_repeats(timeline: _Timeline, integration, state: AlertState, now) -> None:
    due = state.last_summary_at is None or (
        now - state.last_summary_at >= REPEAT_SUMMARY_INTERVAL
    )
    if not state.repeats_unreported or not due:
        return
    timeline.add(
        entries.alert(
            summary=f"{state.repeats_unreported} repeat notification(s) from "
            f"{integration.name} ({state.deliveries} deliveries in all)",
            repeats=state.repeats_unreported,
            deliveries=state.deliveries,
            first_seen_at=state.first_seen_at,
        )
    )
    state.repeats_unreported = 0
    state.last_summary_at = now


def _log_group_status(
    timeline: _Timeline, incident: Incident, integration, batch: AlertBatch
) -> None:
    if batch.status == FIRING:
        timeline.add(
            entries.alert(
                summary=f"{integration.name} reports the alert firing again.",
                status=FIRING,
                dedup_key=batch.dedup_key,
            )
        )
        return
    timeline.add(
        entries.alert(
            summary=f"{integration.name} reports the alert resolved"
            + ("; a person confirms the resolution." if incident.is_open else "."),
            status=RESOLVED,
            dedup_key=batch.dedup_key,
        )
    )


# --- the detection time ---------------------------------------------------------------


def _follow_earliest_start(
    incident: Incident, integration, batch: AlertBatch, timeline: _Timeline, now
) -> None:
    """A firing alert that started before the open incident's ``detected_at``
    moves it earlier (one comparison when it does not: the usual repeat)."""
    started = batch.earliest_start()
    if started is None or min(started, now) >= incident.detected_at:
        return
    first = min(
        (a for a in batch.firing if a.starts_at is not None),
        key=lambda a: a.starts_at,
        default=None,
    )
    named = None
    if first is not None:
        named = {"fingerprint": first.fingerprint, "name": first.name}
        named["labels"] = first.labels
    services.incident_detected_earlier(
        incident=incident,
        detected_at=started,
        actor=integration.service_account,
        now=now,
        alert=named,
    )


# --- the suggestion -------------------------------------------------------------------


def _follow_worst_alert(
    incident: Incident,
    integration: Integration,
    mapper: SeverityMapper,
    changes: _Changes,
    now,
) -> None:
    """Raise the suggested severity when a worse alert fires (never lower it,
    never touch the confirmed severity: a person confirms, control 2)."""
    touched = [r for r in changes.new + changes.changed if r.status == FIRING]
    worst, worst_level = None, None
    for row in touched:
        level = mapper.by_id(row.severity_id)
        if level is not None and level.is_more_severe_than(worst_level):
            worst, worst_level = row, level
    if worst is None or not worst_level.is_more_severe_than(
        mapper.by_id(incident.suggested_severity_id)
    ):
        return
    services.incident_record_suggestion(
        incident=incident,
        severity=worst_level,
        rationale=(
            f"alert {worst.display_name} "
            f"({worst.severity_label!r}) maps to {worst_level.code} in "
            f"integration {integration.name}"
        ),
        label=worst.severity_label,
        actor=integration.service_account,
        now=now,
        locked=True,
        alert={
            "fingerprint": worst.fingerprint,
            "name": worst.name,
            "labels": worst.labels,
        },
    )


# --- the delivery ---------------------------------------------------------------------


def _state(incident: Incident, batch: AlertBatch, created: bool, now) -> AlertState:
    """The incident's ingestion state (saved by the caller), new for a new
    incident, and for one raised before alert states existed."""
    if not created:
        state = first_row(AlertState.objects.filter(incident=incident))
        if state is not None:
            return state
    return AlertState(
        incident=incident,
        group_key=batch.group_key,
        status=batch.status,
        first_seen_at=now,
        last_seen_at=now,
        followed_up_at=None if created else now,
    )


def _attach(
    incident: Incident,
    integration: Integration,
    batch: AlertBatch,
    mapper: SeverityMapper,
    created: bool,
    now: datetime,
) -> None:
    state = _state(incident, batch, created, now)
    changes = _upsert_alerts(incident, integration, batch, mapper, now, created)
    group_changed = (
        not created and batch.action != ACKNOWLEDGE and state.status != batch.status
    )
    timeline = _Timeline(incident, integration, now)
    if changes.new:
        _log_new(timeline, integration, batch, changes)
        services.alert_link_services(
            incident=incident,
            actor=integration.service_account,
            labels_list=[row.labels for row in changes.new],
            now=now,
            record=timeline.add,
            candidates=configcache.cached(
                "alert-services", services.services_with_alert_labels
            ),
        )
    _log_changes(timeline, integration, batch, changes, group_changed)
    state.deliveries += 1
    state.last_seen_at = now
    state.truncated_alerts = batch.truncated_alerts
    if not (changes.new or changes.status_changed or changes.acknowledged) and not (
        group_changed
    ):
        state.repeats_unreported += 1
    _log_repeats(timeline, integration, state, now)
    if group_changed:
        state.status = batch.status
        _log_group_status(timeline, incident, integration, batch)
    if state._state.adding:
        state.save()
    else:  # the group key (hundreds of characters) never changes
        state.save(update_fields=_STATE_UPDATED)
    if not created:
        _follow_earliest_start(incident, integration, batch, timeline, now)
        _follow_worst_alert(incident, integration, mapper, changes, now)
    if group_changed and batch.status == RESOLVED:
        _resolved_moves_to_mitigated(incident, integration, now)


def _resolved_moves_to_mitigated(incident: Incident, integration, now) -> None:
    # A monitor going quiet is evidence, not a resolution: at most it moves the
    # incident to mitigated, and only from investigating. A person resolves.
    if (
        integration.resolve_moves_to_mitigated
        and incident.status == Incident.Status.INVESTIGATING
    ):
        services.incident_transition(
            incident=incident,
            actor=integration.service_account,
            status=Incident.Status.MITIGATED,
            note=f"{integration.name} reports the alert resolved.",
            now=now,
        )


def alert_ingest(
    *, integration: Integration, batch: AlertBatch, now: datetime | None = None
) -> IngestResult:
    """Attach a parsed delivery to the integration's open incident for its group,
    declaring one (as the integration's service account) when there is none.

    Changes: a ``trigger`` with no open incident for the group → a new incident
    through ``incident_declare`` (the integration's default type; ``detected_at``
    the earliest ``startsAt`` of its firing alerts, never later than ``now``; the
    description naming the first delivery's alerts; a *suggested* severity from
    the worst firing alert's label, never a confirmed one) with its
    ``AlertState`` (the whole group key). Every delivery: its alerts upserted as
    ``Alert`` rows (fingerprint, status, labels, annotations, times, links,
    first/last seen, deliveries), the ``AlertState`` counters, timeline ``alert``
    entries for new alerts, status changes, an acknowledgement, the group
    resolving or firing again, and at most one repeat summary per
    ``REPEAT_SUMMARY_INTERVAL``. A worse firing alert raises the suggested
    severity (``incident_record_suggestion``); a firing alert that started
    before the open incident's ``detected_at`` moves it earlier
    (``incident_detected_earlier``). A resolved group moves an
    investigating incident to mitigated when ``resolve_moves_to_mitigated`` is
    set, never further. An ``acknowledge`` (Events API v2) marks the alerts
    acknowledged by their sender and nothing else: it never sets the incident's
    ``acknowledged_at`` or a commander, which only a person does. A resolve or
    acknowledge for a group without an open incident is recorded on the
    group's latest incident, if any; it opens nothing.
    Sends: after commit, the new incident's follow-up (a debounced
    ``alert_follow_up_task`` drain: triage suggestion and the
    ``incident_declared`` notifications); what
    ``incident_record_suggestion`` / ``incident_transition`` send.
    Runs in a transaction of its own (a savepoint inside the caller's); a
    concurrent delivery of the same new group that committed its incident
    first rolls this one back whole, and it runs once more and attaches to it.
    Raises: ``NotPermitted`` if the integration's account may not declare.
    """
    now = now or timezone.now()
    try:
        return _ingest(integration, batch, now)
    except services.DedupRaceLost:
        # The winner has committed (the insert waited for it): attach to it.
        return _ingest(integration, batch, now)


@transaction.atomic
def _ingest(integration: Integration, batch: AlertBatch, now) -> IngestResult:
    mapper = SeverityMapper(integration.severity_label_map)
    with services.timeline_batch():  # the head and revision once, at its end
        incident = _open_locked(integration, batch.dedup_key)
        created = False
        if incident is None and batch.action != TRIGGER:
            incident = _latest_locked(integration, batch.dedup_key)
            if incident is None:
                return IngestResult(incident=None, created=False)
        elif incident is None:
            incident, created = _declare(integration, batch, mapper, now), True
        services.timeline_hold_lock(incident.pk)
        _attach(incident, integration, batch, mapper, created, now)
    if created:
        transaction.on_commit(_enqueue_follow_up)
        # The year's reference counter is locked from here to the commit: last.
        services.incident_number(incident=incident)
    return IngestResult(incident=incident, created=created)


# --- after commit --------------------------------------------------------------------
# A new incident's follow-up runs in a worker. A storm opens hundreds of incidents
# a second, so a request does not queue a task per incident: it queues one drain
# unless one was queued in the last FOLLOW_UP_DEBOUNCE seconds (a flag in the
# shared cache), and the drain follows up every incident still waiting. The
# drain clears the flag before its last look, so an incident committed after
# that look queues a new drain; the beat sweep catches what a lost message or a
# stopped worker left.

FOLLOW_UP_DEBOUNCE = 2  # seconds
FOLLOW_UP_FLAG = "ingest-follow-up-queued"


def _enqueue_follow_up() -> None:
    from incidents.tasks import alert_follow_up_task

    try:
        if sharedcache.add_flag(FOLLOW_UP_FLAG, seconds=FOLLOW_UP_DEBOUNCE):
            alert_follow_up_task.delay()
    except Exception:  # noqa: BLE001 - broker or cache down: the sweep catches up
        logger.warning(
            "Could not queue the alert follow-up; the sweep will do it.",
            exc_info=True,
        )


@transaction.atomic
def alert_follow_up(*, incident_id: int, now: datetime | None = None) -> bool:
    """What a new alert incident's request left for after commit: the triage
    suggestion (type, confidence, rationale, similar incidents; the severity
    stays the worst alert's when one mapped) and the ``incident_declared``
    notifications, through ``incident_complete_declaration``.

    Changes: that, and ``AlertState.followed_up_at``, under the incident's row
    lock (taken first, as ``alert_ingest`` does); returns False (changing
    nothing) when already done or gone.
    Sends: ``incident_declared``, ``incident_changed("declared")``.
    """
    now = now or timezone.now()
    incident = first_row(Incident.objects.select_for_update().filter(pk=incident_id))
    state = first_row(
        AlertState.objects.filter(incident_id=incident_id, followed_up_at__isnull=True)
    )
    if incident is None or state is None:
        return False
    services.incident_complete_declaration(incident=incident, now=now)
    state.followed_up_at = now
    state.save(update_fields=["followed_up_at"])
    return True


def _waiting(older_than: datetime | None = None) -> list[int]:
    waiting = AlertState.objects.filter(followed_up_at__isnull=True)
    if older_than is not None:
        waiting = waiting.filter(first_seen_at__lte=older_than)
    return list(waiting.order_by("pk").values_list("incident_id", flat=True)[:500])


def alert_follow_up_drain(*, now: datetime | None = None) -> int:
    """Follow up every alert incident still waiting, until none is; returns how
    many it did. Clears the queued flag before its last look (see above)."""
    done = 0
    cleared = False
    while True:
        waiting = _waiting()
        if not waiting and not cleared:
            sharedcache.delete(FOLLOW_UP_FLAG)
            cleared = True
            waiting = _waiting()
        if not waiting:
            return done
        done += sum(
            alert_follow_up(incident_id=pk, now=now or timezone.now()) for pk in waiting
        )


def alert_follow_up_sweep(*, now: datetime) -> int:
    """Follow up every alert incident whose follow-up has waited longer than
    ``FOLLOW_UP_GRACE`` (a lost broker message, a worker down). Returns how many
    it did; running it again does nothing new."""
    waiting = _waiting(older_than=now - FOLLOW_UP_GRACE)
    return sum(alert_follow_up(incident_id=pk, now=now) for pk in waiting)
