"""Running an import: read a file with its format's reader, resolve names
(types, severity levels, roles, people) and write each row through
``incidents.services.incident_import``, one savepoint per row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError
from incidents import services
from incidents.importing import native, oncall, pagerduty
from incidents.importing.records import FileError, ImportRecord, Person, RowError
from incidents.models import Incident, IncidentType, Role, SeverityLevel

FORMATS = ("native", "pagerduty", "oncall")
REFUSED = "refused"


@dataclass
class RowResult:
    line: int
    outcome: str  # imported | updated | unchanged | refused
    external_id: str = ""
    reference: str = ""
    title: str = ""
    reason: str = ""


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do), row by row."""

    format: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def refused(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome == REFUSED]

    def summary(self) -> str:
        """``imported N, updated N, unchanged N, refused N``."""
        return ", ".join(
            f"{outcome} {self.count(outcome)}"
            for outcome in (
                services.importing.IMPORTED,
                services.importing.UPDATED,
                services.importing.UNCHANGED,
                REFUSED,
            )
        )


class _Names:
    """Look-ups for one import, cached; people unknown here become inactive
    placeholder accounts (saved with the first good row that names them,
    forgotten again if their row fails)."""

    def __init__(self, *, default_type: IncidentType | None, actor=None):
        self.types = {t.slug: t for t in IncidentType.objects.all()}
        self.levels = {level.code: level for level in SeverityLevel.objects.all()}
        self.roles = {role.slug: role for role in Role.objects.all()}
        self.default_type = default_type
        self.people: dict[str, object] = {}
        self.created_in_row: list[str] = []
        self.kept_in_row: list[str] = []
        self.pending: list = []
        self.actor = actor

    def type_for(self, slug: str):
        if not slug:
            return self.default_type
        found = self.types.get(slug) or next(
            (t for t in self.types.values() if t.name.lower() == slug.lower()), None
        )
        if found is None:
            raise RowError(f"unknown type {slug!r}")
        return found

    def level_for(self, code: str):
        if not code:
            return None
        if code not in self.levels:
            raise RowError(f"unknown severity {code!r}")
        return self.levels[code]

    def role_for(self, slug: str):
        if slug not in self.roles:
            raise RowError(f"unknown role {slug!r}")
        return self.roles[slug]

    def person(self, who: Person | None):
        if who is None:
            return None
        key = who.key.lower()
        if key in self.people:
            return self.people[key]
        users = get_user_model().objects
        if "@" in key:
            user = users.filter(email__iexact=key).order_by("pk").first()
        else:
            user = users.filter(username__iexact=key).first()
        if user is None:
            user = users.filter(username__iexact=key).first()
        if user is None:
            # saved by ``save_people`` with the row (or batch) that needs it
            first, _, last = who.name.partition(" ")
            user = users.model(
                username=who.key[:150],
                email=who.key if "@" in who.key else "",
                first_name=first[:150],
                last_name=last[:150],
                is_active=False,
            )
            user.set_unusable_password()
            self.created_in_row.append(key)
        self.people[key] = user
        return user

    def start_row(self) -> None:
        self.created_in_row, self.kept_in_row = [], []

    def keep_row(self) -> None:
        """The row is good: the placeholders it named are to be saved."""
        self.pending += [self.people[key] for key in self.created_in_row]
        self.kept_in_row = self.created_in_row
        self.created_in_row = []

    def forget_row(self, *, saved: bool = False) -> None:
        """The row failed: forget the placeholders it named (``saved``: they
        were kept and saved, and its savepoint rolled them back)."""
        for key in self.created_in_row + (self.kept_in_row if saved else []):
            self.people.pop(key, None)
        self.created_in_row, self.kept_in_row = [], []

    def save_people(self) -> None:
        """Save the placeholder accounts kept rows named (one statement)."""
        if not self.pending:
            return
        model = get_user_model()
        model.objects.bulk_create(self.pending)
        model.history.bulk_history_create(self.pending, default_user=self.actor)
        self.pending = []


def _fields(record: ImportRecord, names: _Names) -> dict:
    severity = names.level_for(record.severity)
    origin = services.importing.SOURCE_LABELS.get(record.source, record.source)
    return {
        "title": record.title,
        "description": record.description,
        "impact": record.impact,
        "external_url": record.external_url,
        "incident_type": names.type_for(record.incident_type),
        "severity": severity,
        "severity_reason": (
            f"Imported from {origin}"
            + (f" ({record.severity_basis})" if record.severity_basis else "")
            if severity
            else ""
        ),
        "status": record.status,
        "customer_facing": record.customer_facing,
        "data_exposed": record.data_exposed,
        "regulatory": record.regulatory,
        "restricted": record.restricted,
        "reporter": names.person(record.reporter),
        "affected_services": record.services,
        "affected_sites": record.sites,
        "affected_suppliers": record.suppliers,
        "resolution_summary": record.resolution,
        "created_at": record.declared_at,
        "impact_started_at": record.impact_started_at,
        "detected_at": record.detected_at,
        "acknowledged_at": record.acknowledged_at,
        "mitigated_at": record.mitigated_at,
        "resolved_at": record.resolved_at,
        "closed_at": record.closed_at,
    }


def _review(record: ImportRecord, names: _Names) -> dict | None:
    if record.review is None:
        return None
    return {
        "summary": record.review.summary,
        "root_cause": record.review.root_cause,
        "lessons": record.review.lessons,
        "follow_ups": [
            {
                **item,
                "owner": names.person(Person(item["owner"])) if item["owner"] else None,
            }
            for item in record.review.follow_ups
        ],
    }


def read_rows(
    data: bytes,
    *,
    format: str,
    tz: ZoneInfo,
    severity_map: dict[str, str] | None = None,
) -> list[tuple[int, ImportRecord | RowError]]:
    """Every row of the file, read before anything is written (so a file that
    breaks half-way stores nothing). Raises ``FileError``."""
    if format == "native":
        return list(native.read(data, tz=tz))
    if format == "pagerduty":
        return list(pagerduty.read(data, tz=tz, severity_map=severity_map))
    if format == "oncall":
        return list(oncall.read(data, tz=tz))
    raise FileError(f"unknown format {format!r}; one of {', '.join(FORMATS)}")


def import_incidents(
    data: bytes,
    *,
    format: str,
    actor=None,
    dry_run: bool = False,
    default_type: IncidentType | None = None,
    severity_map: dict[str, str] | None = None,
    time_zone: str | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import the incidents in ``data`` (the file's bytes) of ``format``.

    Each row is imported, updated, left unchanged (same external id and content
    as before) or refused with its line and reason; a refused row stores
    nothing. ``dry_run`` does everything and then rolls it all back: the report
    is exactly what a real run would do. Times without a zone are read in
    ``time_zone`` (default: the organisation's). After a real run that stored
    something, the triage model retrains (a task, after commit).
    Raises ``FileError`` when the file cannot be read: nothing is stored.
    """
    tz = ZoneInfo(time_zone or settings.INCIDENTOPS_TIME_ZONE)
    rows = read_rows(data, format=format, tz=tz, severity_map=severity_map)
    now = now or timezone.now()
    report = ImportReport(format=format, dry_run=dry_run)
    seen: dict[str, int] = {}
    with transaction.atomic():
        names = _Names(default_type=default_type, actor=actor)
        known = _known(rows)
        batch = _NewBatch(names=names, actor=actor, now=now)
        for line, record in rows:
            done = _unchanged(line, record, known, seen)
            if done is None and _is_new(record, known, seen):
                done = batch.add(line, record, seen)
            elif done is None:
                batch.flush()  # the batch's people saved before this row's
                done = _import_row(line, record, names, actor, now, seen)
            report.rows.append(done)
        batch.flush()
        stored = report.count("imported") + report.count("updated")
        if dry_run:
            transaction.set_rollback(True)
        elif stored:
            from incidents.tasks import retrain_triage_model_task

            transaction.on_commit(partial(retrain_triage_model_task.delay))
    return report


def _is_new(record, known, seen) -> bool:
    return (
        isinstance(record, ImportRecord)
        and record.external_id not in seen
        and (record.source, record.external_id) not in known
    )


class _NewBatch:
    """Rows that become new incidents, checked one by one and written
    ``BATCH`` at a time through ``incident_import_new``."""

    BATCH = 500

    def __init__(self, *, names: _Names, actor, now):
        self.names, self.actor, self.now = names, actor, now
        self.items: list = []
        self.results: list[RowResult] = []

    def add(self, line: int, record: ImportRecord, seen: dict) -> RowResult:
        seen[record.external_id] = line
        self.names.start_row()
        try:
            roles = {
                self.names.role_for(slug): self.names.person(who)
                for slug, who in record.roles.items()
            }
            fields = services.import_fields(
                fields=_fields(record, self.names),
                roles=roles,
                actor=self.actor,
                now=self.now,
            )
            review = _review(record, self.names)
        except (RowError, DomainError) as exc:
            self.names.forget_row()
            return _refused(line, record, exc)
        self.names.keep_row()
        self.items.append(
            services.NewImport(
                source=record.source,
                external_id=record.external_id,
                digest=record.digest(),
                fields=fields,
                roles=roles,
                review=review,
            )
        )
        result = RowResult(
            line=line,
            outcome=services.importing.IMPORTED,
            external_id=record.external_id,
            title=fields["title"],
        )
        self.results.append(result)
        if len(self.items) >= self.BATCH:
            self.flush()
        return result

    def flush(self) -> None:
        if not self.items:
            return
        self.names.save_people()
        incidents = services.incident_import_new(
            actor=self.actor, items=self.items, now=self.now
        )
        for result, incident in zip(self.results, incidents, strict=True):
            result.reference = incident.reference
        self.items, self.results = [], []


def _refused(line: int, record: ImportRecord, exc: Exception) -> RowResult:
    return RowResult(
        line=line,
        outcome=REFUSED,
        external_id=record.external_id,
        title=record.title,
        reason=exc.message if isinstance(exc, DomainError) else str(exc),
    )


def _known(rows) -> dict[tuple[str, str], tuple[str, str]]:
    """``(source, external_id) → (digest, reference)`` of what earlier imports
    stored for these rows: a few queries, so unchanged rows cost none."""
    ids: dict[str, list[str]] = {}
    for _line, record in rows:
        if isinstance(record, ImportRecord):
            ids.setdefault(record.source, []).append(record.external_id)
    known = {}
    for source, external_ids in ids.items():
        for start in range(0, len(external_ids), 1000):
            for external_id, digest, reference in Incident.objects.filter(
                external_source=source,
                external_id__in=external_ids[start : start + 1000],
            ).values_list("external_id", "import_digest", "reference"):
                known[(source, external_id)] = (digest, reference)
    return known


def _unchanged(line, record, known, seen) -> RowResult | None:
    """The row's result when an earlier import stored exactly this record."""
    if not isinstance(record, ImportRecord) or record.external_id in seen:
        return None
    stored = known.get((record.source, record.external_id))
    if stored is None or stored[0] != record.digest():
        return None
    seen[record.external_id] = line
    return RowResult(
        line=line,
        outcome=services.importing.UNCHANGED,
        external_id=record.external_id,
        reference=stored[1],
        title=record.title,
    )


def _import_row(line, record, names, actor, now, seen) -> RowResult:
    if isinstance(record, RowError):
        return RowResult(line=line, outcome=REFUSED, reason=str(record))
    if record.external_id in seen:
        return RowResult(
            line=line,
            outcome=REFUSED,
            external_id=record.external_id,
            title=record.title,
            reason=f"external_id {record.external_id!r} repeats line "
            f"{seen[record.external_id]}",
        )
    seen[record.external_id] = line
    names.start_row()
    try:
        with transaction.atomic():
            fields = _fields(record, names)
            roles = {
                names.role_for(slug): names.person(who)
                for slug, who in record.roles.items()
            }
            review = _review(record, names)
            names.keep_row()
            names.save_people()  # this row's placeholders (the batch's are saved)
            result = services.incident_import(
                actor=actor,
                source=record.source,
                external_id=record.external_id,
                digest=record.digest(),
                fields=fields,
                roles=roles,
                review=review,
                now=now,
            )
    except (RowError, DomainError) as exc:
        # its placeholders were rolled back with it
        names.forget_row(saved=True)
        return _refused(line, record, exc)
    return RowResult(
        line=line,
        outcome=result.outcome,
        external_id=record.external_id,
        reference=result.incident.reference,
        title=result.incident.title,
    )
