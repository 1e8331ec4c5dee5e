"""What the incident's record says, read once, and the four text sections
drafted from it: summary, customer impact, business impact and response.

Each sentence names the record entries it states (``text.Source``); nothing is
guessed and nothing comes from outside IncidentOps. The wording is fixed, so the
same record always gives the same draft.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from incidentops.services import actor_label
from incidents.models import (
    ActionItem,
    Alert,
    Incident,
    RegulatoryNotification,
    RoleAssignment,
    StakeholderUpdate,
    TimelineEntry,
)
from reviews.drafting.text import Sentence, Source, clock, listing, span, when

Kind = TimelineEntry.Kind

# Alert labels that name a host and a region, in the order they are preferred.
HOST_LABELS = ("host", "hostname", "instance", "node", "server", "pod")
REGION_LABELS = ("region", "zone", "availability_zone", "az", "datacenter", "dc")
# Words too common to say that an action is about the authority.
_COMMON = frozenset(
    "the and for via with under after from into days four art item incident "
    "response notify notification report send".split()
)


class Record:
    """One incident's record as the draft reads it, loaded in a few queries."""

    def __init__(self, incident: Incident):
        self.incident = Incident.objects.select_related(
            "severity",
            "suggested_severity",
            "incident_type",
            "reporter",
            "integration",
            "severity_confirmed_by",
        ).get(pk=incident.pk)
        self.entries = list(
            TimelineEntry.objects.filter(incident_id=incident.pk)
            .exclude(kind=Kind.REVIEW)
            .order_by("sequence")
        )
        self.alerts = list(
            Alert.objects.filter(incident_id=incident.pk)
            .select_related("integration")
            .order_by("starts_at", "first_seen_at", "pk")
        )
        self.assignments = list(
            RoleAssignment.objects.filter(incident_id=incident.pk)
            .select_related("role", "user")
            .order_by("started_at", "pk")
        )
        self.actions = list(
            ActionItem.objects.filter(incident_id=incident.pk)
            .select_related("owner", "completed_by")
            .order_by("created_at", "pk")
        )
        self.notifications = list(
            RegulatoryNotification.objects.filter(incident_id=incident.pk)
            .select_related("notified_by")
            .order_by("notified_at", "pk")
        )
        self.updates = list(
            StakeholderUpdate.objects.filter(incident_id=incident.pk)
            .select_related("author")
            .order_by("created_at", "pk")
        )

    # -- finding entries --
    def entries_of(self, kind: str, **data) -> list[TimelineEntry]:
        return [
            entry
            for entry in self.entries
            if entry.kind == kind
            and all(entry.data.get(key) == value for key, value in data.items())
        ]

    def last(self, kind: str, **data) -> TimelineEntry | None:
        found = self.entries_of(kind, **data)
        return found[-1] if found else None

    def first(self, kind: str, **data) -> TimelineEntry | None:
        found = self.entries_of(kind, **data)
        return found[0] if found else None

    @staticmethod
    def entry(entry: TimelineEntry | None) -> list[Source]:
        if entry is None:
            return []
        label = f"#{entry.sequence} {entry.get_kind_display().lower()}"
        return [Source("entry", entry.sequence, label)]

    def field(self, name: str, label: str) -> Source:
        return Source("incident", self.incident.pk, label, field=name)

    def role_entry(self, assignment: RoleAssignment) -> TimelineEntry | None:
        for entry in self.entries_of(Kind.ROLE, role=assignment.role.slug):
            if (
                entry.data.get("user") == assignment.user.username
                and entry.occurred_at == assignment.started_at
            ):
                return entry
        return None

    def action_entry(self, action: ActionItem, change: str) -> TimelineEntry | None:
        found = self.entries_of(Kind.ACTION, action=action.pk, change=change)
        return found[-1] if found else None

    # -- the times --
    @property
    def impact_start(self) -> tuple[datetime, str]:
        """When impact began and what says so: the recorded impact start when
        the incident has one, else its detection."""
        started = getattr(self.incident, "impact_started_at", None)
        if started is not None:
            return started, "impact_started_at"
        return self.incident.detected_at, "detected_at"

    @property
    def end(self) -> datetime | None:
        return self.incident.resolved_at

    def notification_action(self) -> ActionItem | None:
        """The action that notified the authority: the one whose title shares
        at least two words with the authority's name (the playbooks' "Notify
        the lead supervisory authority" for "Lead data-protection authority"),
        done ones first."""
        authority = _words(self.incident.notification_authority)
        if not authority:
            return None
        matching = [
            action
            for action in self.actions
            if len(_words(action.title) & authority) >= 2
        ]
        matching.sort(key=lambda a: (a.status != ActionItem.Status.DONE, a.pk))
        return matching[0] if matching else None

    def label_values(self, names: tuple[str, ...]) -> tuple[list[str], list[Alert]]:
        """Distinct values of the first of ``names`` each alert carries, sorted,
        and the alerts that carry one."""
        values, carriers = set(), []
        for alert in self.alerts:
            for name in names:
                value = str(alert.labels.get(name, "")).strip()
                if value:
                    values.add(value)
                    carriers.append(alert)
                    break
        return sorted(values), carriers


def _words(text: str) -> set[str]:
    return {
        word
        for word in re.findall(r"[a-z0-9]+", (text or "").lower())
        if len(word) >= 3 and word not in _COMMON
    } | ({"8-k"} if "8-k" in (text or "").lower() else set())


_person = actor_label


def _alert_sources(alerts: list[Alert]) -> list[Source]:
    return [Source("alert", a.pk, a.name or a.fingerprint[:12]) for a in alerts[:5]]


# --- summary -------------------------------------------------------------------


def summary(record: Record) -> list[Sentence]:
    """What happened, to whom, for how long, how it was detected, the severity."""
    incident = record.incident
    declared = record.first(Kind.DECLARED)
    kind = f" ({incident.incident_type.name})" if incident.incident_type else ""
    sentences = [
        Sentence(
            f"{incident.reference}: {incident.title}{kind}.",
            record.entry(declared) or [record.field("title", "title")],
        )
    ]
    whom = _whom(incident)
    if whom:
        sentences.append(
            Sentence(
                f"It affected {whom}.",
                [
                    record.field(name, name.replace("_", " "))
                    for name in (
                        "affected_services",
                        "affected_sites",
                        "customer_facing",
                    )
                    if getattr(incident, name)
                ],
            )
        )
    sentences += _duration(record)
    sentences += detection(record)
    sentences += _severity(record)
    resolved = record.last(Kind.STATUS, to=Incident.Status.RESOLVED)
    fix = incident.resolution_summary or (resolved.data.get("note") if resolved else "")
    if fix:
        sentences.append(
            Sentence(
                f"Resolution: {fix.strip().rstrip('.')}.",
                record.entry(resolved)
                or [record.field("resolution_summary", "resolution")],
            )
        )
    return sentences


def _whom(incident: Incident) -> str:
    parts = []
    if incident.customer_facing:
        parts.append("customers")
    for name, word in (("affected_services", "service"), ("affected_sites", "site")):
        values = sorted(getattr(incident, name) or [])
        if values:
            parts.append(
                f"the {word}{'s' if len(values) > 1 else ''} {listing(values)}"
            )
    return listing(parts)


def _duration(record: Record) -> list[Sentence]:
    start, start_field = record.impact_start
    resolved = record.last(Kind.STATUS, to=Incident.Status.RESOLVED)
    if record.end is None:
        return []
    basis = "impact start" if start_field == "impact_started_at" else "detection"
    sources = [record.field(start_field, basis)] + record.entry(resolved)
    text = (
        f"It lasted {span(record.end - start)}, from {basis} at {when(start)} "
        f"to resolution at {when(record.end)}"
    )
    mitigated = record.first(Kind.STATUS, to=Incident.Status.MITIGATED)
    if record.incident.mitigated_at and record.incident.mitigated_at < record.end:
        text += f"; mitigated after {span(record.incident.mitigated_at - start)}"
        sources += record.entry(mitigated)
    return [Sentence(text + ".", sources)]


def detection(record: Record) -> list[Sentence]:
    """How the incident was detected (alert or person) and how quickly."""
    incident = record.incident
    declared = record.first(Kind.DECLARED)
    sentences = []
    if record.alerts:
        first = record.alerts[0]
        names = listing(sorted({a.name for a in record.alerts if a.name})[:5])
        source = first.integration.name if first.integration_id else "an integration"
        started = first.starts_at or first.first_seen_at
        sentences.append(
            Sentence(
                f"Detected by {len(record.alerts)} alert"
                f"{'s' if len(record.alerts) != 1 else ''} from {source}"
                + (f" ({names})" if names else "")
                + f", the first firing at {when(started)}.",
                _alert_sources(record.alerts) + record.entry(declared),
            )
        )
    elif incident.integration_id:
        sentences.append(
            Sentence(
                f"Detected by an alert from {incident.integration.name}.",
                record.entry(declared),
            )
        )
    else:
        sentences.append(
            Sentence(
                f"Reported by {_person(incident.reporter)} at "
                f"{when(incident.created_at)}.",
                record.entry(declared),
            )
        )
    start, start_field = record.impact_start
    if start_field == "impact_started_at" and incident.detected_at >= start:
        sentences.append(
            Sentence(
                f"Time to detect: {span(incident.detected_at - start)} from impact "
                "start to detection.",
                [
                    record.field("impact_started_at", "impact start"),
                    record.field("detected_at", "detection"),
                ],
            )
        )
    lag = incident.created_at - incident.detected_at
    if lag >= timedelta(minutes=1):
        sentences.append(
            Sentence(
                f"It was declared {span(lag)} after detection.",
                [record.field("detected_at", "detection")] + record.entry(declared),
            )
        )
    if incident.acknowledged_at:
        took = record.first(Kind.ROLE, role="commander")
        sentences.append(
            Sentence(
                f"A commander took it on {span(incident.acknowledged_at - incident.detected_at)}"
                " after detection.",
                record.entry(took),
            )
        )
    return sentences


def _severity(record: Record) -> list[Sentence]:
    incident = record.incident
    confirmed = record.last(Kind.SEVERITY_CONFIRMED)
    if incident.severity is None or confirmed is None:
        return []
    reason = (confirmed.data.get("reason") or incident.severity_reason or "").strip()
    text = (
        f"{_person(confirmed.actor) if confirmed.actor_id else confirmed.actor_label} "
        f"confirmed {incident.severity.code} ({incident.severity.name}) at "
        f"{when(confirmed.occurred_at)}"
    )
    if reason:
        text += f" because: {reason.rstrip('.')}"
    previous = confirmed.data.get("previous")
    suggested = confirmed.data.get("suggested")
    notes = []
    if previous and previous != incident.severity.code:
        notes.append(f"it was {previous} before")
    if suggested and suggested != incident.severity.code:
        notes.append(f"triage had suggested {suggested}")
    if notes:
        text += f" ({'; '.join(notes)})"
    return [Sentence(text + ".", record.entry(confirmed))]


# --- impact -----------------------------------------------------------------------


def customer_impact(record: Record) -> list[Sentence]:
    """The customer-facing flag, the impact text, what was affected, the alerts'
    hosts and regions."""
    incident = record.incident
    sentences = []
    start, _ = record.impact_start
    if incident.customer_facing:
        text = "Customer-facing"
        if record.end:
            text += f" for {span(record.end - start)}"
        sentences.append(
            Sentence(text + ".", [record.field("customer_facing", "customer-facing")])
        )
    if incident.impact.strip():
        sentences.append(
            Sentence(
                f"Impact as recorded: {incident.impact.strip().rstrip('.')}.",
                [record.field("impact", "impact")],
            )
        )
    for name, label in (("affected_services", "services"), ("affected_sites", "sites")):
        values = sorted(getattr(incident, name) or [])
        if values:
            sentences.append(
                Sentence(
                    f"Affected {label}: {listing(values)}.",
                    [record.field(name, name.replace("_", " "))],
                )
            )
    hosts, host_alerts = record.label_values(HOST_LABELS)
    if hosts:
        shown = listing(hosts[:8]) + (
            f" and {len(hosts) - 8} more" if len(hosts) > 8 else ""
        )
        sentences.append(
            Sentence(
                f"Alerts named {len(hosts)} host{'s' if len(hosts) != 1 else ''}: {shown}.",
                _alert_sources(host_alerts),
            )
        )
    regions, region_alerts = record.label_values(REGION_LABELS)
    if regions:
        sentences.append(
            Sentence(
                f"Regions in the alerts: {listing(regions)}.",
                _alert_sources(region_alerts),
            )
        )
    if not sentences:
        sentences.append(
            Sentence(
                "The record names no customer impact.",
                [record.field("customer_facing", "customer-facing")],
            )
        )
    return sentences


def business_impact(record: Record) -> list[Sentence]:
    """Data exposure, regulatory flags, suppliers, and the regulatory deadline
    with whether the notification went out in time."""
    incident = record.incident
    sentences = []
    if incident.data_exposed:
        sentences.append(
            Sentence(
                "Data was exposed.", [record.field("data_exposed", "data exposed")]
            )
        )
    if incident.regulatory:
        sentences.append(
            Sentence(
                "It was a regulatory event.", [record.field("regulatory", "regulatory")]
            )
        )
    suppliers = sorted(incident.affected_suppliers or [])
    if suppliers:
        sentences.append(
            Sentence(
                f"Suppliers involved: {listing(suppliers)}.",
                [record.field("affected_suppliers", "affected suppliers")],
            )
        )
    if record.notifications or incident.notification_deadline:
        sentences += regulatory(record)
    if not sentences:
        sentences.append(
            Sentence(
                "The record flags no data exposure, regulatory event or supplier.",
                [record.field("data_exposed", "impact flags")],
            )
        )
    return sentences


def regulatory(record: Record) -> list[Sentence]:
    """Which authority was told, when, by whom, how, under which reference, and
    whether in time against the legal deadline (the regulatory notifications on
    the record); without one, the type's deadline and what the actions say."""
    if not record.notifications:
        return _deadline(record) or [
            Sentence(
                "The record holds no regulatory notification.",
                [record.field("regulatory", "regulatory")],
            )
        ]
    return [_notification(record, n) for n in record.notifications]


def _notification(record: Record, row: RegulatoryNotification) -> Sentence:
    entry = next(
        (
            e
            for e in record.entries_of(Kind.REGULATORY)
            if e.data.get("notification") == row.pk
        ),
        None,
    )
    sources = [Source("regulatory", row.pk, f"notification of {row.authority}")]
    sources += record.entry(entry)
    details = [row.get_method_display().lower()]
    if row.reference:
        details.append(f"reference {row.reference}")
    text = (
        f"{row.authority} was notified at {when(row.notified_at)} by "
        f"{row.notified_by.display_name} ({', '.join(details)})"
    )
    if row.deadline_at is None:
        text += "; no legal deadline was recorded"
    elif row.in_time:
        text += (
            f": in time, {span(row.margin)} before the legal deadline of "
            f"{when(row.deadline_at)}"
        )
    else:
        text += (
            f": late, {span(-row.margin)} after the legal deadline of "
            f"{when(row.deadline_at)}"
        )
    return Sentence(text + ".", sources)


def _deadline(record: Record) -> list[Sentence]:
    """The type's deadline when no notification is recorded, and what the
    actions say about notifying the authority."""
    incident = record.incident
    deadline = incident.notification_deadline
    if deadline is None:
        return []
    hours = incident.incident_type.notification_deadline_hours
    authority = incident.notification_authority or "The authority"
    type_source = Source(
        "incident", incident.pk, "type's deadline", field="incident_type"
    )
    sentences = [
        Sentence(
            f"{authority} had to be notified by {when(deadline)} ({hours} h after "
            f"detection).",
            [type_source, record.field("detected_at", "detection")],
        )
    ]
    action = record.notification_action()
    if action is None:
        sentences.append(
            Sentence(
                "No notification of the authority is on the record.",
                [type_source],
            )
        )
        return sentences
    sources = [Source("action", action.pk, action.title)]
    if action.status == ActionItem.Status.DONE and action.completed_at:
        sources += record.entry(record.action_entry(action, "updated"))
        margin = deadline - action.completed_at
        verdict = (
            f"in time, {span(margin)} before the deadline"
            if margin >= timedelta(0)
            else f"late, {span(-margin)} after the deadline"
        )
        sentences.append(
            Sentence(
                f"“{action.title}” was done at {when(action.completed_at)}"
                f"{' by ' + _person(action.completed_by) if action.completed_by else ''}"
                f": {verdict}.",
                sources,
            )
        )
    else:
        sentences.append(
            Sentence(
                f"“{action.title}” is still {action.get_status_display().lower()}.",
                sources,
            )
        )
    return sentences


# --- response ----------------------------------------------------------------------


def response(record: Record) -> list[Sentence]:
    """Who held which role when (hand-overs), the actions done and open, the
    stakeholder updates and whether their cadence was kept."""
    sentences = _roles(record)
    sentences += _actions(record)
    sentences += _updates(record)
    return sentences


def _roles(record: Record) -> list[Sentence]:
    by_role: dict[str, list[RoleAssignment]] = {}
    for assignment in record.assignments:
        by_role.setdefault(assignment.role.name, []).append(assignment)
    sentences = []
    for role_name, held in by_role.items():
        parts, sources = [], []
        for index, assignment in enumerate(held):
            until = f" to {clock(assignment.ended_at)}" if assignment.ended_at else ""
            who = assignment.user.display_name
            if index == 0:
                parts.append(f"{who} from {when(assignment.started_at)}{until}")
            else:
                parts.append(
                    f"handed over to {who} at {clock(assignment.started_at)}{until}"
                )
            sources += record.entry(record.role_entry(assignment)) or [
                Source("assignment", assignment.pk, f"{role_name}: {who}")
            ]
        sentences.append(Sentence(f"{role_name}: {', then '.join(parts)}.", sources))
    return sentences


def _actions(record: Record) -> list[Sentence]:
    if not record.actions:
        return [Sentence("No actions were recorded.", [])]
    done = [a for a in record.actions if a.status == ActionItem.Status.DONE]
    open_ = [a for a in record.actions if not a.is_finished]
    cancelled = len(record.actions) - len(done) - len(open_)
    text = f"{len(done)} of {len(record.actions)} actions were done"
    if done:
        text += f": {listing([a.title for a in done[:6]])}" + (
            f" and {len(done) - 6} more" if len(done) > 6 else ""
        )
    if cancelled:
        text += f"; {cancelled} cancelled"
    sentences = [
        Sentence(text + ".", [Source("action", a.pk, a.title) for a in done[:6]])
    ]
    if open_:
        named = [
            a.title + (f" ({a.owner.display_name})" if a.owner else " (no owner)")
            for a in open_[:6]
        ]
        sentences.append(
            Sentence(
                f"Still open: {listing(named)}"
                + (f" and {len(open_) - 6} more" if len(open_) > 6 else "")
                + ".",
                [Source("action", a.pk, a.title) for a in open_[:6]],
            )
        )
    return sentences


def _updates(record: Record) -> list[Sentence]:
    incident = record.incident
    cadence = incident.severity.update_cadence if incident.severity else None
    if not record.updates:
        text = "No stakeholder update was sent"
        if cadence:
            text += (
                f", though {incident.severity.code} asks for one every {span(cadence)}"
            )
        return [Sentence(text + ".", [record.field("severity", "severity")])]
    sources = []
    for update in record.updates:
        sources += record.entry(record.first(Kind.STAKEHOLDER_UPDATE, update=update.pk))
    count = len(record.updates)
    first = record.updates[0].created_at
    text = (
        f"{count} stakeholder update{'s were' if count != 1 else ' was'} sent, "
        f"the first at {when(first)}"
    )
    sentences = [Sentence(text + ".", sources)]
    if cadence and incident.severity_confirmed_at:
        sentences.append(_cadence(record, cadence, sources))
    return sentences


def _cadence(record: Record, cadence: timedelta, sources: list[Source]) -> Sentence:
    """Whether every gap — confirmation to the first update, update to update,
    the last update to mitigation or resolution — stayed within the cadence."""
    incident = record.incident
    start = incident.severity_confirmed_at
    stop = incident.mitigated_at or incident.resolved_at
    moments = [start] + [u.created_at for u in record.updates if u.created_at >= start]
    if stop is not None:
        moments.append(stop)
    gaps = [
        later - earlier for earlier, later in zip(moments, moments[1:], strict=False)
    ]
    missed = [gap for gap in gaps if gap > cadence]
    code = incident.severity.code
    if not missed:
        text = f"The {code} cadence of one update every {span(cadence)} was kept."
    else:
        times = {1: "once", 2: "twice"}.get(len(missed), f"{len(missed)} times")
        text = (
            f"The {code} cadence of one update every {span(cadence)} was missed "
            f"{times}; the longest gap was {span(max(missed))}."
        )
    return Sentence(
        text, [record.field("severity_confirmed_at", "confirmation")] + sources
    )
