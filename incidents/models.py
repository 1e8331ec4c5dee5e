"""The incident core: taxonomy, severity policy, roles, playbooks, incidents, the
append-only timeline and alert integrations.

Rules about one object live here (``Incident.can_transition_to``, the timeline's
hash); every write that involves more than one row goes through
``incidents.services``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Max, Prefetch, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

COMMANDER = "commander"
COMMUNICATIONS = "communications"
SCRIBE = "scribe"
OPERATIONS = "operations"
BUILTIN_ROLES = (COMMANDER, COMMUNICATIONS, SCRIBE, OPERATIONS)


# --- Taxonomy and policy -------------------------------------------------------


class IncidentFamily(models.Model):
    """A broad class of incident (service outage, data breach, ...)."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "incident families"

    def __str__(self) -> str:
        return self.name


class SeverityLevel(models.Model):
    """One level of the severity framework (SEV-1 .. SEV-4), editable in the admin."""

    class Response(models.TextChoices):
        ALL_HANDS = "all_hands", "All hands"
        CROSS_TEAM = "cross_team", "Cross-team"
        TEAM = "team", "Team level"
        STANDARD = "standard", "Standard queue"

    code = models.CharField(max_length=10, unique=True, help_text="e.g. SEV-1")
    name = models.CharField(max_length=60)
    rank = models.PositiveSmallIntegerField(
        unique=True, help_text="1 is the most severe."
    )
    description = models.TextField(
        blank=True, help_text="The criteria: which incidents belong at this level."
    )
    response = models.CharField(max_length=20, choices=Response.choices)
    notified = models.TextField(
        blank=True, help_text="Who is notified at this level (e.g. executives)."
    )
    update_cadence = models.DurationField(
        null=True,
        blank=True,
        help_text="How often stakeholders get an update; empty for no cadence.",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["rank"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def is_more_severe_than(self, other: SeverityLevel | None) -> bool:
        return other is None or self.rank < other.rank


class IncidentType(models.Model):
    """A kind of incident; drives triage keywords, restriction and playbooks."""

    family = models.ForeignKey(
        IncidentFamily, on_delete=models.PROTECT, related_name="types"
    )
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    keywords = models.TextField(
        blank=True,
        help_text="Words and phrases that suggest this type in triage, one per "
        "line or comma-separated.",
    )
    default_severity = models.ForeignKey(
        SeverityLevel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The severity triage suggests when nothing else points elsewhere.",
    )
    restricted_by_default = models.BooleanField(
        default=False,
        help_text="New incidents of this type are visible only to people granted.",
    )
    restricted_groups = models.ManyToManyField(
        Group,
        blank=True,
        related_name="restricted_incident_types",
        help_text="Groups that may see restricted incidents of this type.",
    )
    notification_deadline_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Regulatory notification deadline, in hours from awareness "
        "(e.g. 72 for a personal-data breach under GDPR).",
    )
    notification_authority = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who must be notified by the deadline "
        "(e.g. the data-protection authority).",
    )
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["family__name", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        raw = self.keywords.replace("\n", ",")
        return [k.strip().lower() for k in raw.split(",") if k.strip()]


class Role(models.Model):
    """An incident role; the four built-ins come from a data migration."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    human_only = models.BooleanField(
        default=False, help_text="Only a person (never a service account) may hold it."
    )
    is_builtin = models.BooleanField(default=False, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-is_builtin", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def requires_human(self) -> bool:
        # The commander is human-only whatever the admin says (DESIGN.md, control 1).
        return self.human_only or self.slug == COMMANDER


class Playbook(models.Model):
    """What to do for an incident type, optionally for one severity only."""

    incident_type = models.ForeignKey(
        IncidentType, on_delete=models.CASCADE, related_name="playbooks"
    )
    severity = models.ForeignKey(
        SeverityLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="playbooks",
        help_text="Empty: applies to any severity without a specific playbook.",
    )
    name = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    required_roles = models.ManyToManyField(Role, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["incident_type__name", "severity__rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident_type", "severity"],
                condition=Q(is_active=True, severity__isnull=False),
                name="playbook_one_active_per_type_severity",
            ),
            models.UniqueConstraint(
                fields=["incident_type"],
                condition=Q(is_active=True, severity__isnull=True),
                name="playbook_one_active_generic_per_type",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def for_incident(
        cls, incident_type: IncidentType | None, severity: SeverityLevel | None
    ) -> Playbook | None:
        """The severity-specific active playbook if any, else the type's generic."""
        if incident_type is None or severity is None:
            return None
        candidates = cls.objects.filter(
            Q(severity=severity) | Q(severity__isnull=True),
            incident_type=incident_type,
            is_active=True,
        )
        # Specific first: a NULL severity sorts after a set one when ordered by
        # "severity is null".
        return (
            candidates.annotate(
                generic=models.Case(
                    models.When(severity__isnull=True, then=1),
                    default=0,
                    output_field=models.IntegerField(),
                )
            )
            .order_by("generic", "pk")
            .first()
        )


class PlaybookStep(models.Model):
    """One step of a playbook; applying the playbook turns it into an action."""

    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    playbook = models.ForeignKey(
        Playbook, on_delete=models.CASCADE, related_name="steps"
    )
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner_role = models.ForeignKey(
        Role, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_offset = models.DurationField(
        null=True,
        blank=True,
        help_text="Due this long after the severity is confirmed; empty for no due "
        "date.",
    )
    priority = models.CharField(
        max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["playbook", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.order}. {self.title}"


# --- Integrations -------------------------------------------------------------


class Integration(models.Model):
    """An alert source (Alertmanager or a generic webhook) with its secret."""

    class Kind(models.TextChoices):
        ALERTMANAGER = "alertmanager", "Prometheus Alertmanager"
        GENERIC = "generic", "Generic JSON"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # sha256 of a 256-bit random secret: a slow password hash adds nothing for a
    # secret with that much entropy and would cost every ingest request ~100 ms.
    secret_hash = models.CharField(max_length=64, editable=False)
    service_account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="integrations",
        limit_choices_to={"is_service_account": True},
    )
    default_incident_type = models.ForeignKey(
        IncidentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    severity_label_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Alert label value to severity code, e.g. {"critical": "SEV-1"}.',
    )
    resolve_moves_to_mitigated = models.BooleanField(
        default=False,
        help_text="A resolved alert moves its incident to mitigated (if allowed); "
        "otherwise it is only recorded on the timeline.",
    )
    rate_limit_per_minute = models.PositiveIntegerField(default=1200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords(excluded_fields=["secret_hash"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def generate_secret() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    def set_secret(self, secret: str) -> None:
        self.secret_hash = self.hash_secret(secret)

    def check_secret(self, secret: str) -> bool:
        """Constant-time comparison against the stored hash."""
        if not self.secret_hash or not secret:
            return False
        return hmac.compare_digest(self.secret_hash, self.hash_secret(secret))


# --- Incidents ----------------------------------------------------------------


class IncidentReferenceCounter(models.Model):
    """The last reference number handed out per year.

    Locked with ``select_for_update`` while a reference is drawn, so concurrent
    declares never share a number (``max()+1`` would).
    """

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"

    @classmethod
    def next_reference(cls, year: int) -> str:
        """Draw the next ``INC-<year>-<nnnn>``; call inside a transaction.

        get_or_create survives a concurrent first insert of the year's row (it
        retries the get after the unique violation); the row lock then makes
        concurrent declares take numbers one at a time.
        """
        cls.objects.get_or_create(year=year)
        counter = cls.objects.select_for_update().get(year=year)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        return f"INC-{year}-{counter.last_number:04d}"


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=Incident.CLOSED_STATUSES)

    def active(self):
        """Being worked on: not yet resolved."""
        return self.open()

    def with_commander(self):
        """Prefetch current commanders so ``incident.commander`` costs no query."""
        return self.prefetch_related(
            Prefetch(
                "assignments",
                queryset=RoleAssignment.objects.filter(
                    ended_at__isnull=True, role__slug=COMMANDER
                ).select_related("user"),
                to_attr="_current_commander_assignments",
            )
        )

    def with_last_update(self):
        """Annotate ``last_update_at``, the newest stakeholder update's time, which
        ``Incident.next_update_due_at()`` then reads without a query."""
        return self.annotate(last_update_at=Max("stakeholder_updates__created_at"))

    def for_list(self):
        """What list pages need, in a fixed number of queries."""
        return self.select_related(
            "severity", "suggested_severity", "incident_type", "reporter"
        ).with_commander()

    def visible_to(self, user):
        """Only the incidents ``user`` may see; see ``incidents.permissions``."""
        from incidents.permissions import visible_incidents_q

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(visible_incidents_q(user))


class Incident(models.Model):
    class Status(models.TextChoices):
        TRIAGE = "triage", "Triage"
        INVESTIGATING = "investigating", "Investigating"
        MITIGATED = "mitigated", "Mitigated"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    # The lifecycle: from each status, where it may go next. Reopening (resolved or
    # closed back to investigating) is allowed; a mitigation that does not hold
    # goes back to investigating.
    TRANSITIONS: dict[str, tuple[str, ...]] = {
        Status.TRIAGE: (Status.INVESTIGATING,),
        Status.INVESTIGATING: (Status.MITIGATED, Status.RESOLVED),
        Status.MITIGATED: (Status.INVESTIGATING, Status.RESOLVED),
        Status.RESOLVED: (Status.CLOSED, Status.INVESTIGATING),
        Status.CLOSED: (Status.INVESTIGATING,),
    }
    CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED)

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.TRIAGE, db_index=True
    )

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    detected_at = models.DateTimeField(default=timezone.now)
    # Set when a person first takes command (the first commander assignment):
    # that is when a human has taken the incident on, and it always precedes
    # leaving triage, which needs a commander.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    customer_facing = models.BooleanField(default=False)
    data_exposed = models.BooleanField(default=False)
    regulatory = models.BooleanField(default=False)
    affected_services = models.JSONField(default=list, blank=True)
    affected_sites = models.JSONField(default=list, blank=True)
    affected_suppliers = models.JSONField(default=list, blank=True)
    restricted = models.BooleanField(
        default=False, help_text="Visible only to people granted on this incident."
    )

    incident_type = models.ForeignKey(
        IncidentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
    )
    severity = models.ForeignKey(
        SeverityLevel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        help_text="The severity a person confirmed.",
    )
    severity_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    severity_confirmed_at = models.DateTimeField(null=True, blank=True)
    severity_reason = models.TextField(blank=True)

    suggested_severity = models.ForeignKey(
        SeverityLevel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    suggested_type = models.ForeignKey(
        IncidentType,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # {"severity", "incident_type", "confidence", "rationale", "similar"}
    suggestion = models.JSONField(default=dict, blank=True)
    resolution_summary = models.TextField(blank=True)

    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_incidents",
    )
    integration = models.ForeignKey(
        Integration,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
    )
    dedup_key = models.CharField(max_length=255, blank=True)

    objects = IncidentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("confirm_severity", "Can confirm or change an incident's severity"),
            ("assign_role", "Can assign incident roles"),
            ("add_note", "Can add notes to incidents they can see"),
        ]
        constraints = [
            # One open incident per alert key, enforced by the database so that
            # concurrent deliveries of one alert never make two incidents.
            models.UniqueConstraint(
                fields=["integration", "dedup_key"],
                condition=~Q(status__in=["resolved", "closed"]) & ~Q(dedup_key=""),
                name="incident_one_open_per_dedup_key",
            ),
        ]
        indexes = [
            # The list filtered by status or severity, newest first.
            models.Index(fields=["status", "-created_at"]),
            models.Index(
                fields=["severity", "-created_at"], name="incident_severity_created_idx"
            ),
            # The latest incident per alert key (ingestion's dedup and re-fire).
            models.Index(
                fields=["integration", "dedup_key", "-created_at"],
                name="incident_alert_key_latest_idx",
            ),
            # The latest resolved incidents: similar-incident and training corpora.
            models.Index(
                fields=["status", "-resolved_at"], name="incident_status_resolved_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return f"/incidents/{self.reference}/"

    # -- lifecycle --
    @property
    def allowed_transitions(self) -> tuple[str, ...]:
        return self.TRANSITIONS.get(self.status, ())

    def can_transition_to(self, status: str) -> bool:
        return status in self.allowed_transitions

    @property
    def is_open(self) -> bool:
        return self.status not in self.CLOSED_STATUSES

    # -- roles --
    @property
    def commander(self):
        """The current commander (a user) or None.

        Free when the queryset used ``with_commander()``; one query otherwise.
        """
        assignment = self.commander_assignment
        return assignment.user if assignment else None

    @property
    def commander_assignment(self) -> RoleAssignment | None:
        prefetched = getattr(self, "_current_commander_assignments", None)
        if prefetched is not None:
            return prefetched[0] if prefetched else None
        return (
            self.assignments.filter(ended_at__isnull=True, role__slug=COMMANDER)
            .select_related("user")
            .first()
        )

    def current_assignments(self):
        return self.assignments.filter(ended_at__isnull=True).select_related(
            "role", "user"
        )

    def missing_roles(self):
        """Roles the applied playbooks require that nobody holds now."""
        held = self.assignments.filter(ended_at__isnull=True).values("role")
        return (
            Role.objects.filter(
                pk__in=Playbook.required_roles.through.objects.filter(
                    playbook__applications__incident=self
                ).values("role")
            )
            .exclude(pk__in=held)
            .distinct()
        )

    # -- regulatory notification deadline --
    @property
    def notification_deadline(self) -> datetime | None:
        """When the regulator must have been told, counted from awareness
        (``detected_at``), or None if the type sets no deadline."""
        hours = self.incident_type and self.incident_type.notification_deadline_hours
        if not hours:
            return None
        return self.detected_at + timedelta(hours=hours)

    @property
    def notification_authority(self) -> str:
        return self.incident_type.notification_authority if self.incident_type else ""

    def notification_time_left(self, now: datetime | None = None) -> timedelta | None:
        """Time until the regulatory deadline (negative once it has passed)."""
        deadline = self.notification_deadline
        if deadline is None:
            return None
        return deadline - (now or timezone.now())

    # -- stakeholder cadence --
    def next_update_due_at(self) -> datetime | None:
        """When the next stakeholder update is due under the severity's cadence:
        the cadence after the last update, or after confirmation if none yet."""
        if not self.is_open or self.severity is None:
            return None
        cadence = self.severity.update_cadence
        if not cadence:
            return None
        # Lists annotate ``last_update_at`` (``with_last_update()``) so that a
        # row costs no query; a single incident asks.
        if hasattr(self, "last_update_at"):
            last_at = self.last_update_at
        else:
            last = self.stakeholder_updates.order_by("-created_at").first()
            last_at = last.created_at if last else None
        start = last_at or self.severity_confirmed_at
        return start + cadence if start else None


class RoleAssignment(models.Model):
    """Who holds a role on an incident, and when; hand-overs keep the earlier row."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="assignments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "role", "-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "role"],
                condition=Q(ended_at__isnull=True),
                name="roleassignment_one_current_holder",
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident.reference} {self.role}: {self.user}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class ActionItem(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    Priority = PlaybookStep.Priority

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="actions"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident_actions",
    )
    role = models.ForeignKey(
        Role, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    priority = models.CharField(
        max_length=10, choices=Priority.choices, default=Priority.MEDIUM
    )
    playbook_step = models.ForeignKey(
        PlaybookStep,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "due_at", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.CANCELLED)


class StakeholderUpdate(models.Model):
    """A written update for stakeholders; notifications fans it out."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="stakeholder_updates"
    )
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["incident", "-created_at"]

    def __str__(self) -> str:
        return f"{self.incident.reference} update {self.created_at:%Y-%m-%d %H:%M}"


class PlaybookApplication(models.Model):
    """That a playbook was applied to an incident; unique, so it happens once."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="playbook_applications"
    )
    playbook = models.ForeignKey(
        Playbook, on_delete=models.PROTECT, related_name="applications"
    )
    severity = models.ForeignKey(
        SeverityLevel, on_delete=models.PROTECT, null=True, related_name="+"
    )
    applied_at = models.DateTimeField(default=timezone.now)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "playbook"], name="playbook_applied_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.playbook} on {self.incident.reference}"


# --- The timeline -------------------------------------------------------------


class AppendOnlyError(Exception):
    """A timeline entry may never be changed or deleted."""


class TimelineEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Timeline entries are append-only; update() refused.")

    def delete(self):
        raise AppendOnlyError("Timeline entries are append-only; delete() refused.")

    # bulk paths would skip the hash chain.
    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Timeline entries are append-only; update refused.")

    def bulk_create(self, objs, *args, **kwargs):
        raise AppendOnlyError(
            "Write timeline entries with incidents.services.timeline_record()."
        )


class TimelineEntry(models.Model):
    """One line of an incident's append-only, hash-chained record.

    Written only by ``incidents.services.timeline_record``, which locks the
    incident so that sequence numbers and the chain never fork.
    """

    class Kind(models.TextChoices):
        DECLARED = "declared", "Declared"
        STATUS = "status", "Status change"
        SEVERITY_SUGGESTED = "severity_suggested", "Severity suggested"
        SEVERITY_CONFIRMED = "severity_confirmed", "Severity confirmed"
        ROLE = "role", "Role"
        ACTION = "action", "Action item"
        NOTE = "note", "Note"
        STAKEHOLDER_UPDATE = "stakeholder_update", "Stakeholder update"
        COMMUNICATION = "communication", "Communication"
        ALERT = "alert", "Alert"
        PLAYBOOK = "playbook", "Playbook"
        FIELD_CHANGE = "field_change", "Field change"
        REVIEW = "review", "Review"
        REMINDER = "reminder", "Reminder"

    GENESIS_HASH = "0" * 64

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="timeline"
    )
    sequence = models.PositiveIntegerField()
    # A CharField rather than an enum in the database: other apps may log kinds
    # of their own without a migration here.
    kind = models.CharField(max_length=40, choices=Kind.choices, db_index=True)
    # PROTECT, not SET_NULL: nulling the actor would rewrite a chained entry.
    # Users are deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200)
    summary = models.TextField()
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    occurred_at = models.DateTimeField(db_index=True)
    recorded_at = models.DateTimeField(default=timezone.now)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = TimelineEntryQuerySet.as_manager()

    class Meta:
        ordering = ["incident", "sequence"]
        verbose_name_plural = "timeline entries"
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "sequence"], name="timeline_sequence_unique"
            )
        ]
        # (incident, sequence) order is served by the unique constraint's index;
        # this one serves an incident's timeline in time order.
        indexes = [
            models.Index(
                fields=["incident", "occurred_at", "sequence"],
                name="timeline_incident_time_idx",
            )
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.kind}: {self.summary[:60]}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Timeline entries are append-only; save() refused.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Timeline entries are append-only; delete() refused.")

    # -- the chain --
    @staticmethod
    def _timestamp(value: datetime) -> str:
        return value.astimezone(UTC).isoformat()

    def canonical_content(self) -> dict:
        """What the hash covers: everything recorded except the hash itself."""
        return {
            "incident": self.incident_id,
            "sequence": self.sequence,
            "kind": self.kind,
            "actor": self.actor_id,
            "actor_label": self.actor_label,
            "summary": self.summary,
            "data": self.data,
            "occurred_at": self._timestamp(self.occurred_at),
            "recorded_at": self._timestamp(self.recorded_at),
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(
            self.canonical_content(),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            cls=DjangoJSONEncoder,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


# --- Alert state (ingestion) ----------------------------------------------------


class AlertState(models.Model):
    """What alert ingestion knows about an incident's alerts: one row per incident
    raised by an integration.

    Locked with ``select_for_update`` while a delivery is attached, so concurrent
    deliveries count correctly; it keeps an alert storm off the timeline (only new
    alerts, status changes and a periodic "N repeats" summary are logged).
    """

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="alert_state"
    )
    # fingerprint -> {"status": "firing"|"resolved", "name": alertname}
    alerts = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, default="firing")
    deliveries = models.PositiveIntegerField(default=0)
    repeats_unreported = models.PositiveIntegerField(default=0)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    last_summary_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.deliveries} deliveries"


# --- Triage model (learned suggestions) ------------------------------------------


class TriageModelQuerySet(models.QuerySet):
    def without_pipeline(self):
        """Everything but the serialized pipeline, for listings and the version
        check each suggestion makes."""
        return self.defer("pipeline")


class TriageModel(models.Model):
    """One trained version of the learned triage model (``incidents.triage_model``).

    ``pipeline`` holds joblib bytes written only by ``triage_model_train``; rows are
    never edited, a retraining adds a version and the oldest ones are pruned. The
    held-out metrics of the model and of the rule baseline come from the same
    split, and decide whether each head (type, severity) is used at all.
    """

    version = models.PositiveIntegerField(unique=True)
    trained_at = models.DateTimeField(default=timezone.now)
    pipeline = models.BinaryField(editable=False)
    library_version = models.CharField(
        max_length=40, help_text="scikit-learn version that wrote the pipeline."
    )
    data_fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the training rows and their labels."
    )
    sample_count = models.PositiveIntegerField(help_text="Labelled incidents used.")
    train_count = models.PositiveIntegerField()
    test_count = models.PositiveIntegerField()
    type_accuracy = models.FloatField(null=True, blank=True)
    baseline_type_accuracy = models.FloatField(null=True, blank=True)
    severity_accuracy = models.FloatField(null=True, blank=True)
    baseline_severity_accuracy = models.FloatField(null=True, blank=True)
    type_usable = models.BooleanField(default=False)
    severity_usable = models.BooleanField(default=False)
    type_labels = models.JSONField(default=list, blank=True)
    severity_labels = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    training_seconds = models.FloatField(default=0)

    objects = TriageModelQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"triage model v{self.version}"

    @property
    def is_usable(self) -> bool:
        return self.type_usable or self.severity_usable
