"""Declaring an incident from alerts, in two steps around a fast transaction.

Alert ingestion must answer a storm quickly and in parallel, so an incident it
opens is declared ``deferred`` (``incident_declare(deferred=True)``): the row,
its grants and its "declared" entry now, with a provisional reference;
``incident_number`` draws the real reference as the transaction's last write
(the year's counter is then locked only while committing); after commit,
``incident_complete_declaration`` adds the triage suggestion and sends what a
declaration sends. Also the two steps ``incident_declare`` shares with it, and
``incident_detected_earlier`` for a later delivery whose alert started sooner.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from functools import cache

from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents import events
from incidents import timeline_entries as entries
from incidents.metrics import observe_triage
from incidents.models import (
    Alert,
    Incident,
    IncidentReferenceCounter,
    IncidentType,
    SeverityLevel,
)
from incidents.services.base import (
    DedupRaceLost,
    OpenIncidentExists,
    _changed,
    _grant_restricted_access,
    _json,
    _label,
    _lock,
    _refresh_into,
    _save,
)
from incidents.services.restriction import suggested_restriction_reason
from incidents.services.timeline import (
    timeline_append,
    timeline_hold_lock,
)
from incidents.triage import suggest_for

_SHOWN = "%Y-%m-%d %H:%M:%S UTC"


def _suggestion_summary(code: str | None, incident: Incident, suggestion) -> str:
    return (
        f"Triage suggests {code or 'no severity'}"
        " and type "
        + (
            f"“{incident.suggested_type.name}”"
            if incident.suggested_type
            else suggestion.incident_type or "unknown"
        )
        + f" ({suggestion.confidence:.0%} confidence); a person must confirm."
    )


def _insert_or_raise_duplicate(incident: Incident, actor, savepoint=True) -> None:
    """Insert a new incident; a lost race on the one-open-per-key constraint
    raises ``OpenIncidentExists`` naming the winner, or without ``savepoint``
    ``DedupRaceLost`` (the caller's transaction is then unusable: it rolls
    back and looks again)."""
    try:
        if not savepoint:
            _save(incident, actor)
            return
        # A savepoint, so a lost race on the dedup constraint leaves the outer
        # transaction usable for the caller's lookup.
        with transaction.atomic():
            _save(incident, actor)
    except IntegrityError:
        if incident.integration_id is None or not incident.dedup_key:
            raise
        if not savepoint:
            raise DedupRaceLost() from None
        winner = Incident.objects.open().filter(
            integration_id=incident.integration_id, dedup_key=incident.dedup_key
        )
        raise OpenIncidentExists(winner.get()) from None


def triage_suggestion(incident: Incident):
    """The triage suggester's ``Suggestion`` for an incident's fields (its
    latency goes to ``/metrics``)."""
    started = time.perf_counter()
    suggestion = suggest_for(
        title=incident.title,
        description=incident.description,
        impact=incident.impact,
        customer_facing=incident.customer_facing,
        data_exposed=incident.data_exposed,
        regulatory=incident.regulatory,
        incident_type=incident.incident_type.slug if incident.incident_type else None,
        affected_services=incident.affected_services,
        affected_sites=incident.affected_sites,
        affected_suppliers=incident.affected_suppliers,
        incident_pk=incident.pk,
    )
    observe_triage(time.perf_counter() - started)
    return suggestion


def _declare_deferred(
    *, incident: Incident, now: datetime, suggested_severity, rationale: str
) -> Incident:
    """``incident_declare(deferred=True)``: the row (provisional reference, its
    history written by ``incident_number``), grants and the declared entry, in
    the caller's transaction without a savepoint (a lost race on the dedup key
    raises ``DedupRaceLost``)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("A deferred declaration needs the caller's transaction.")
    actor = incident.reporter
    incident.reference = "~" + uuid.uuid4().hex[:19]
    incident.suggested_severity = suggested_severity
    incident.suggestion = {
        "severity": suggested_severity.code if suggested_severity else None,
        "incident_type": None,
        "confidence": 0.0,
        "rationale": rationale,
        "similar": [],
    }
    incident.skip_history_when_saving = True
    _insert_or_raise_duplicate(incident, actor, savepoint=False)
    del incident.skip_history_when_saving
    if incident.restricted:
        _grant_restricted_access(incident)
    integration = incident.integration
    suggests = (
        f" The alerts suggest {suggested_severity.code}; a person must confirm."
        if suggested_severity is not None
        else ""
    )
    timeline_append(
        incident=incident,
        actor=actor,
        occurred_at=now,
        tail=(),  # a new incident: the chain starts here
        entry=entries.declared(
            summary=f"{_label(actor)} declared an incident from alerts: "
            f"{incident.title}.{suggests}",
            title=incident.title,
            incident_type=getattr(incident.incident_type, "slug", None),
            restricted=incident.restricted,
            detected_at=incident.detected_at,
            integration=integration.name if integration else None,
            dedup_key=incident.dedup_key,
            suggested_severity=incident.suggestion["severity"],
            rationale=rationale,
        ),
    )
    # The caller holds the new row's lock (its insert): it may append from here.
    timeline_hold_lock(incident.pk)
    return incident


@cache
def _incident_history():
    # ``Incident.history`` builds a manager class on every access
    # (simple-history's descriptor); this one is built once per process.
    return Incident.history


def incident_number(*, incident: Incident) -> Incident:
    """Draw the reference of an incident declared with ``deferred=True``.

    Call it as the last write of the declaring transaction: from here to the
    commit the year's counter row is locked, so concurrent declarations queue
    only for that moment, and the numbers stay gap-free (a rollback returns the
    number). Changes: the counter, the incident's ``reference`` and its creation
    record in history. The new timeline's head and revision are the caller's
    ``timeline_batch``'s, written when that block ends, before this call.
    Sends nothing. Raises nothing.
    """
    incident.reference = IncidentReferenceCounter.next_reference(
        incident.created_at.year
    )
    incident.skip_history_when_saving = True
    incident.save(update_fields=["reference"])
    del incident.skip_history_when_saving
    _incident_history().bulk_history_create(
        [incident], default_user=incident.reporter, default_date=incident.created_at
    )
    return incident


@transaction.atomic
def incident_complete_declaration(
    *, incident: Incident, now: datetime | None = None
) -> Incident:
    """Finish a ``deferred`` declaration once it committed: the triage suggestion
    and the declaration's events.

    Changes: under the incident's row lock, ``suggested_type`` and the stored
    ``suggestion`` (type, confidence, similar incidents, the rationale after the
    alerts' own); ``suggested_severity`` only if the alerts suggested none (an
    alert's severity word is the better evidence); ``restricted`` (with grants)
    when the incident has no type and the suggested one is restricted by
    default, the rationale saying why; a ``severity_suggested`` timeline entry. Sends: ``incident_declared``, ``incident_changed("declared")``
    (actor: the reporter). Raises nothing of its own.
    """
    now = now or timezone.now()
    locked = _lock(incident)
    suggestion = triage_suggestion(locked)
    stored = suggestion.as_dict()
    alerts_said = locked.suggested_severity
    if alerts_said is not None:
        stored["severity"] = alerts_said.code
    else:
        locked.suggested_severity = SeverityLevel.objects.filter(
            code=suggestion.severity
        ).first()
    stored["rationale"] = "; ".join(
        filter(None, [(locked.suggestion or {}).get("rationale"), stored["rationale"]])
    )
    locked.suggested_type = IncidentType.objects.filter(
        slug=suggestion.incident_type
    ).first()
    fields = ["suggested_severity", "suggested_type", "suggestion"]
    why = ""
    if (
        not locked.restricted
        and locked.incident_type_id is None
        and locked.suggested_type is not None
        and locked.suggested_type.restricted_by_default
    ):
        # Fail-closed before the declaration is sent: the suggested type is
        # restricted by default.
        why = suggested_restriction_reason(locked.suggested_type)
        stored["rationale"] = "; ".join(filter(None, [stored["rationale"], why]))
        locked.restricted = True
        fields.append("restricted")
    locked.suggestion = _json(stored)
    _save(locked, None, update_fields=fields)
    if why:
        _grant_restricted_access(locked)
    timeline_append(  # the row is locked above
        incident=locked,
        actor=None,
        occurred_at=now,
        entry=entries.severity_suggested(
            summary=_suggestion_summary(stored["severity"], locked, suggestion)
            + (f" {why}" if why else ""),
            suggestion=stored,
            restricted=True if why else entries.ABSENT,
        ),
    )
    _refresh_into(incident, locked)
    events.incident_declared.send(
        sender=Incident, incident=incident, actor=incident.reporter
    )
    _changed(incident, "declared", incident.reporter, {"reference": incident.reference})
    return incident


def incident_detected_earlier(
    *,
    incident: Incident,
    detected_at: datetime,
    actor,
    now: datetime | None = None,
    alert: dict | None = None,
    tail: tuple[int, str] | None = None,
):
    """An alert of an open incident started before the incident's recorded
    detection time: ``detected_at`` moves back to it (never later than ``now``,
    never forward), so response times count from when the trouble began.

    For a caller that holds the incident's row lock in its transaction, with
    ``incident`` that locked row (alert ingestion; ``tail`` as for
    ``timeline_append``). ``alert`` (``{"fingerprint", "name", "labels"}``)
    names the alert that started first. Changes: ``detected_at`` and, when it
    was later, ``impact_started_at`` (history
    records ``actor``, the integration's account) and a ``field_change``
    timeline entry from/to (UTC). Returns that entry, or None when nothing
    moved (not earlier, or the incident is closed). Sends nothing. Raises
    nothing of its own.
    """
    now = now or timezone.now()
    detected_at = min(detected_at, now).astimezone(UTC)
    if not incident.is_open or detected_at >= incident.detected_at:
        return None
    previous = incident.detected_at
    incident.detected_at = detected_at
    changed = ["detected_at"]
    changes = {"detected_at": {"from": previous, "to": detected_at}}
    if incident.impact_started_at is None or incident.impact_started_at > detected_at:
        # The impact had begun by the time the alert started.
        changes["impact_started_at"] = {
            "from": incident.impact_started_at,
            "to": detected_at,
        }
        incident.impact_started_at = detected_at
        changed.append("impact_started_at")
    _save(incident, actor, update_fields=changed)
    source = "an alert"
    if alert:
        source = "alert " + Alert.short_name(
            alert["name"], alert["fingerprint"], alert.get("labels") or {}
        )
    return timeline_append(
        incident=incident,
        actor=actor,
        occurred_at=now,
        entry=entries.field_change(
            summary=f"Detection time moved earlier to {_utc(detected_at)} "
            f"(was {_utc(previous)}): {source} started then.",
            changes=changes,
            alert=alert,
        ),
        tail=tail,
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(_SHOWN)
