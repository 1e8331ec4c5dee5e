"""What each kind of timeline entry records: one builder per kind.

A service never hands ``timeline_record`` a hand-made ``data`` dict: it asks the
builder of the entry's kind, which documents the kind's ``data`` (the keys, their
types and units) and returns an ``Entry`` (kind, summary, data) to record::

    timeline_record(
        incident=incident,
        actor=actor,
        occurred_at=now,
        entry=timeline_entries.status(
            summary=..., previous="triage", status="investigating", note=""
        ),
    )

The summary is the sentence people read on the timeline; the caller writes it.
``data`` is for machines (the API, exports, the review timeline): times are
aware datetimes (stored as ISO 8601, UTC), people are usernames, roles slugs,
severities level codes, rows their primary key. Keys a builder marks optional
are left out when not given, so an entry records only what its event had.
Every ``TimelineEntry.Kind`` has exactly one builder here (``BUILDERS``; a test
holds the two and the portal's templates together).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incidents.models import TimelineEntry

Kind = TimelineEntry.Kind


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()  # an optional key that is left out of ``data``


@dataclass(frozen=True)
class Entry:
    """One timeline entry to record: its kind, the sentence people read and the
    kind's documented data."""

    kind: str
    summary: str
    data: dict = field(default_factory=dict)


def _entry(kind: str, summary: str, **data) -> Entry:
    return Entry(
        kind=kind,
        summary=summary,
        data={key: value for key, value in data.items() if value is not ABSENT},
    )


def declared(
    *,
    summary: str,
    title: Any = ABSENT,
    incident_type: str | None = ABSENT,
    restricted: bool = ABSENT,
    detected_at: datetime = ABSENT,
    impact_started_at: datetime | None = ABSENT,
    customer_facing: bool = ABSENT,
    data_exposed: bool = ABSENT,
    regulatory: bool = ABSENT,
    integration: str | None = ABSENT,
    dedup_key: str = ABSENT,
    suggested_severity: str | None = ABSENT,
    rationale: str = ABSENT,
    imported: bool = ABSENT,
    source: str = ABSENT,
    external_id: str = ABSENT,
    external_url: str = ABSENT,
) -> Entry:
    """``declared``: the incident came to be. ``data``: ``title``;
    ``incident_type`` (slug or None); ``restricted``; ``detected_at``,
    ``impact_started_at``; the report's flags ``customer_facing``,
    ``data_exposed``, ``regulatory``; ``integration`` (its name, None for a
    person) and ``dedup_key`` ("" for a person). Declared from alerts also:
    ``suggested_severity`` (code) and the suggestion's ``rationale``. Imported:
    ``imported`` (True), ``source``, ``external_id``, ``external_url``. Every
    key optional."""
    return _entry(
        Kind.DECLARED,
        summary,
        title=title,
        incident_type=incident_type,
        restricted=restricted,
        detected_at=detected_at,
        impact_started_at=impact_started_at,
        customer_facing=customer_facing,
        data_exposed=data_exposed,
        regulatory=regulatory,
        integration=integration,
        dedup_key=dedup_key,
        suggested_severity=suggested_severity,
        rationale=rationale,
        imported=imported,
        source=source,
        external_id=external_id,
        external_url=external_url,
    )


def status(
    *,
    summary: str,
    previous: str,
    status: str,
    note: str = "",
    imported: bool = ABSENT,
    closure_reason: str = ABSENT,
) -> Entry:
    """``status``: a lifecycle move. ``data``: ``from`` and ``to`` (status
    values), ``note`` (text, may be ""); ``imported`` (True) when read from
    another tool's history; ``closure_reason`` ("false_alarm") when resolved
    or closed as one."""
    return _entry(
        Kind.STATUS,
        summary,
        **{"from": previous, "to": status},
        note=note,
        imported=imported,
        closure_reason=closure_reason,
    )


def severity_suggested(
    *,
    summary: str,
    suggestion: dict | None = None,
    restricted: bool = ABSENT,
    severity: str = ABSENT,
    previous: str | None = ABSENT,
    label: str = ABSENT,
    alert: dict | None = ABSENT,
) -> Entry:
    """``severity_suggested``: the system suggests (a person confirms).
    At triage ``data`` is the stored suggestion (``Suggestion.as_dict()``:
    ``incident_type``, ``severity``, the confidences, ``rationale``,
    ``similar``), with ``restricted`` (True) when the suggested type restricted
    the incident. When a worse alert raises it: ``severity`` (code),
    ``previous`` (code or None), the alert's severity ``label`` and ``alert``
    (``{"name", "fingerprint", "labels"}`` or None)."""
    raised = _entry(
        Kind.SEVERITY_SUGGESTED,
        summary,
        restricted=restricted,
        severity=severity,
        previous=previous,
        label=label,
        alert=alert,
    )
    return Entry(raised.kind, summary, {**(suggestion or {}), **raised.data})


def severity_confirmed(
    *,
    summary: str,
    severity: str,
    previous: str | None = ABSENT,
    suggested: str | None = ABSENT,
    reason: str = ABSENT,
    imported: bool = ABSENT,
) -> Entry:
    """``severity_confirmed``: a person confirmed (or changed) the severity.
    ``data``: ``severity`` (code), ``previous`` (code or None), ``suggested``
    (the suggestion's code or None) and ``matches_suggestion`` (bool, when
    ``suggested`` is given), ``reason`` (text); imported history records only
    ``severity`` and ``imported`` (True)."""
    matches = ABSENT if suggested is ABSENT else suggested == severity
    return _entry(
        Kind.SEVERITY_CONFIRMED,
        summary,
        severity=severity,
        previous=previous,
        suggested=suggested,
        matches_suggestion=matches,
        reason=reason,
        imported=imported,
    )


def role(
    *,
    summary: str,
    role: str,
    user: str,
    previous: str | None = ABSENT,
    note: str = ABSENT,
    actions: list[int] = ABSENT,
    request: int = ABSENT,
    reason: str = ABSENT,
    status: str = ABSENT,
    imported: bool = ABSENT,
) -> Entry:
    """``role``: who holds or is asked to hold a role. ``data``: ``role`` (slug)
    and ``user`` (username). An assignment: ``previous`` (username or None),
    ``note``, and ``actions`` (ids of action items that followed the role to the
    new holder, when any). A request (``status`` "asked" or "declined"):
    ``request`` (id), ``reason`` or ``note``. Imported: ``imported`` (True)."""
    return _entry(
        Kind.ROLE,
        summary,
        role=role,
        user=user,
        previous=previous,
        note=note,
        actions=actions,
        request=request,
        reason=reason,
        status=status,
        imported=imported,
    )


def action(
    *,
    summary: str,
    change: str,
    action: int = ABSENT,
    title: str = ABSENT,
    changes: dict = ABSENT,
    actions: list[int] = ABSENT,
) -> Entry:
    """``action``: an action item changed. ``data``: ``change`` — "created"
    (with ``action`` id and ``title``), "updated" (``action`` id and ``changes``:
    field name to ``{"from", "to"}``) or "cancelled_on_resolve" (``actions``:
    the ids cancelled)."""
    return _entry(
        Kind.ACTION,
        summary,
        change=change,
        action=action,
        title=title,
        changes=changes,
        actions=actions,
    )


def note(*, body: str) -> Entry:
    """``note``: a person's note; the summary is its text, ``data`` is empty."""
    return _entry(Kind.NOTE, body)


def stakeholder_update(*, summary: str, update: int) -> Entry:
    """``stakeholder_update``: an update was posted to the incident's lists.
    ``data``: ``update`` (the ``StakeholderUpdate`` id); its deliveries follow
    as ``communication`` entries."""
    return _entry(Kind.STAKEHOLDER_UPDATE, summary, update=update)


def communication(
    *,
    summary: str,
    status: str,
    entry_kind: str = Kind.COMMUNICATION,
    **details: Any,
) -> Entry:
    """A message to people (control 3), logged as ``communication`` — or, for
    what ``notification_send`` sends on their behalf, as ``reminder`` or
    ``page`` (``entry_kind``). ``data``: ``status`` and, by status:

    - "queued": ``notification`` (id), ``kind`` (the notification's kind),
      ``channels`` (``[{"channel", "deliveries"}]``), ``recipient_count``,
      ``recipients`` (names), ``lists`` (names), ``withheld`` (count kept from
      a restricted incident);
    - "no_recipients": ``kind``, ``event_key``, ``withheld``;
    - the outcome ("sent", "partly_failed", "failed"): ``notification``,
      ``kind``, ``sent``/``failed``/``withheld`` (counts), ``channels``
      (per channel counts), ``failures`` (``[{"recipient", "channel", "error",
      "attempts"}]``, the first 20);
    - "resent": ``notification``, ``channel`` (name), ``recipient``.

    The incident page renders these (``_communication.html``)."""
    if entry_kind not in (Kind.COMMUNICATION, Kind.REMINDER, Kind.PAGE):
        raise ValueError(f"{entry_kind} is not a kind of communication.")
    return Entry(kind=entry_kind, summary=summary, data={**details, "status": status})


def reminder(*, summary: str, status: str, **details: Any) -> Entry:
    """``reminder``: an update-cadence reminder, sent through the outbox like
    any communication; ``data`` as ``communication``'s."""
    return communication(
        summary=summary, status=status, entry_kind=Kind.REMINDER, **details
    )


def alert(
    *,
    summary: str,
    fingerprints: list[str] = ABSENT,
    new: int = ABSENT,
    status: str = ABSENT,
    truncated_alerts: int = ABSENT,
    source: dict | None = None,
    changed: dict[str, str] = ABSENT,
    acknowledged: list[str] = ABSENT,
    dedup_key: str = ABSENT,
    repeats: int = ABSENT,
    deliveries: int = ABSENT,
    first_seen_at: datetime = ABSENT,
) -> Entry:
    """``alert``: what an integration delivered. ``data`` by event:

    - new alerts: ``fingerprints`` (the first 100), ``new`` (count), the
      group's ``status``, ``truncated_alerts`` (count dropped over the limit)
      and the sender's own fields (``source``: e.g. ``receiver``,
      ``externalURL``, merged in);
    - alerts changed status: ``changed`` (fingerprint to status, first 100);
    - acknowledged by the sender: ``acknowledged`` (fingerprints), ``dedup_key``;
    - repeats: ``repeats``, ``deliveries`` (counts), ``first_seen_at``;
    - the group firing again or resolved: ``status``, ``dedup_key``."""
    delivered = _entry(
        Kind.ALERT,
        summary,
        fingerprints=fingerprints,
        new=new,
        status=status,
        truncated_alerts=truncated_alerts,
        changed=changed,
        acknowledged=acknowledged,
        dedup_key=dedup_key,
        repeats=repeats,
        deliveries=deliveries,
        first_seen_at=first_seen_at,
    )
    return Entry(delivered.kind, summary, {**delivered.data, **(source or {})})


def playbook(
    *,
    summary: str,
    playbook: int,
    name: str,
    severity: str | None,
    actions: list[int],
    required_roles: list[str],
) -> Entry:
    """``playbook``: a playbook was applied. ``data``: ``playbook`` (id),
    ``name``, ``severity`` (code or None), ``actions`` (ids created),
    ``required_roles`` (role names now needed)."""
    return _entry(
        Kind.PLAYBOOK,
        summary,
        playbook=playbook,
        name=name,
        severity=severity,
        actions=actions,
        required_roles=required_roles,
    )


def field_change(
    *,
    summary: str,
    changes: dict,
    reason: str = ABSENT,
    correction: bool = ABSENT,
    alert: dict | None = ABSENT,
    imported: bool = ABSENT,
) -> Entry:
    """``field_change``: fields of the incident changed. ``data``: ``changes``
    (field name to ``{"from", "to"}``); ``reason`` (a restriction change, a
    time correction); ``correction`` (True: the record's times corrected);
    ``alert`` (``{"fingerprint", "name"}`` or None: an alert moved the
    detection time earlier); ``imported`` (True: a re-import changed it)."""
    return _entry(
        Kind.FIELD_CHANGE,
        summary,
        changes=changes,
        reason=reason,
        correction=correction,
        alert=alert,
        imported=imported,
    )


def review(*, summary: str, change: str, **details: Any) -> Entry:
    """``review``: the post-incident review (or the batch review) moved.
    ``data``: ``change`` (what happened: "opened", "submitted", "approved",
    "published", "batched", "batch_decision", "batch_completed", reminders and
    escalations ...), ``review`` (id) or ``batch_review`` (id), and the change's
    own fields (for example ``disposition``, ``note``, ``ticket_url``,
    ``period``, ``due_at``), as ``reviews.services`` documents for each."""
    return Entry(kind=Kind.REVIEW, summary=summary, data={**details, "change": change})


def services(
    *,
    summary: str,
    linked: list[dict] = ABSENT,
    unlinked: list[dict] = ABSENT,
    source: str = ABSENT,
    reason: str = ABSENT,
) -> Entry:
    """``services``: affected services linked or unlinked. ``data``: ``linked``
    or ``unlinked`` (``[{"slug", "name", "tier", "team"}]``), how they were
    linked (``source``: "alert", "declared", "tags", "person") and
    ``reason``."""
    return _entry(
        Kind.SERVICES,
        summary,
        linked=linked,
        unlinked=unlinked,
        source=source,
        reason=reason,
    )


def acknowledged(*, summary: str, user: str, via: str) -> Entry:
    """``acknowledged``: a person acknowledged (paging stops). ``data``:
    ``user`` (username) and ``via`` (how: "the portal", "the API", a page's
    link; may be "")."""
    return _entry(Kind.ACKNOWLEDGED, summary, user=user, via=via)


def page(
    *, summary: str, escalation: int, policy: str, status: str, **details
) -> Entry:
    """``page``: an escalation policy paging people. ``data``: ``escalation``
    (id), ``policy`` (name), ``status`` and by status: "started" (``trigger``),
    "paging" or "nobody" (``round``, ``step``, ``users``: usernames paged,
    ``wait_minutes``), "acknowledged"/"stopped"/"exhausted" (``reason``).
    The pages themselves are sent through ``notification_send`` and logged as
    ``communication`` entries of kind ``page``."""
    return Entry(
        kind=Kind.PAGE,
        summary=summary,
        data={
            "escalation": escalation,
            "policy": policy,
            "status": status,
            **details,
        },
    )


def link(
    *,
    summary: str,
    link: int | None,
    kind: str,
    incident: int,
    side: str,
    change: str,
    note: str = ABSENT,
    previous: str = ABSENT,
    alerts_moved: int = ABSENT,
    alerts_kept: int = ABSENT,
) -> Entry:
    """``link``: a link to another incident made, removed or changed. ``data``:
    ``link`` (the ``IncidentLink``'s primary key, None once removed), ``kind``
    (``duplicate-of``, ``related``, ``caused-by``), ``incident`` (the other
    incident's primary key), ``side`` ("source" or "target": this incident's
    end), ``change`` ("linked", "unlinked", "marked_duplicate",
    "duplicate_reopened"); optional ``note``; marking a duplicate: ``from``
    (its status before), ``alerts_moved`` and ``alerts_kept`` (counts)."""
    # ``kind`` names the link's kind here, so the entry is built without _entry.
    data = {
        "link": link,
        "kind": kind,
        "incident": incident,
        "side": side,
        "change": change,
        "note": note,
        "from": previous,
        "alerts_moved": alerts_moved,
        "alerts_kept": alerts_kept,
    }
    return Entry(
        kind=Kind.LINK,
        summary=summary,
        data={key: value for key, value in data.items() if value is not ABSENT},
    )


def regulatory(
    *,
    summary: str,
    notification: int,
    authority: str,
    notified_at: datetime,
    notified_by: str,
    method: str,
    reference: str,
    deadline_at: datetime | None,
    in_time: bool | None,
) -> Entry:
    """``regulatory``: a person recorded that an authority was told
    (``regulatory_notification_record``). ``data``: ``notification`` (id),
    ``authority``, ``notified_at`` and ``deadline_at`` (ISO 8601, UTC; the
    deadline null when none applies), ``notified_by`` (username), ``method``
    (``RegulatoryNotification.Method``), ``reference`` (may be "") and
    ``in_time`` (true, false, or null without a deadline)."""
    return _entry(
        Kind.REGULATORY,
        summary,
        notification=notification,
        authority=authority,
        notified_at=notified_at.isoformat(),
        notified_by=notified_by,
        method=method,
        reference=reference,
        deadline_at=deadline_at.isoformat() if deadline_at else None,
        in_time=in_time,
    )


BUILDERS = {
    Kind.LINK: link,
    Kind.DECLARED: declared,
    Kind.STATUS: status,
    Kind.SEVERITY_SUGGESTED: severity_suggested,
    Kind.SEVERITY_CONFIRMED: severity_confirmed,
    Kind.ROLE: role,
    Kind.ACTION: action,
    Kind.NOTE: note,
    Kind.STAKEHOLDER_UPDATE: stakeholder_update,
    Kind.COMMUNICATION: communication,
    Kind.ALERT: alert,
    Kind.PLAYBOOK: playbook,
    Kind.FIELD_CHANGE: field_change,
    Kind.REVIEW: review,
    Kind.REMINDER: reminder,
    Kind.SERVICES: services,
    Kind.ACKNOWLEDGED: acknowledged,
    Kind.PAGE: page,
    Kind.REGULATORY: regulatory,
}
