"""Incidents and what hangs off them: role assignments, action items,
stakeholder updates, playbook applications."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, models
from django.db.models import Max, Prefetch, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidentops.text import TitleField
from incidents.models.integrations import Integration
from incidents.models.taxonomy import (
    COMMANDER,
    IncidentType,
    Playbook,
    PlaybookStep,
    Role,
    SeverityLevel,
)


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

        One statement increments and returns the number (``UPDATE ...
        RETURNING``): it takes the row lock, which concurrent declares then wait
        on until this transaction ends, so numbers are never shared and never
        skipped (a rollback returns the number). The year's first draw creates
        the row; ``get_or_create`` survives a concurrent first insert.
        """
        table = connection.ops.quote_name(cls._meta.db_table)
        sql = (
            f"UPDATE {table} SET last_number = last_number + 1 "  # noqa: S608
            "WHERE year = %s RETURNING last_number"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [year])
            row = cursor.fetchone()
        if row is None:
            cls.objects.get_or_create(year=year)
            return cls.next_reference(year)
        return f"INC-{year}-{row[0]:04d}"

    @classmethod
    def next_references(cls, year: int, count: int) -> list[str]:
        """Draw ``count`` consecutive references of ``year`` in one statement
        (an import's batch), under the same lock as ``next_reference``."""
        if count < 1:
            return []
        table = connection.ops.quote_name(cls._meta.db_table)
        sql = (
            f"UPDATE {table} SET last_number = last_number + %s "  # noqa: S608
            "WHERE year = %s RETURNING last_number"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [count, year])
            row = cursor.fetchone()
        if row is None:
            cls.objects.get_or_create(year=year)
            return cls.next_references(year, count)
        first = row[0] - count + 1
        return [f"INC-{year}-{number:04d}" for number in range(first, row[0] + 1)]


class IncidentQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=Incident.ENDED_STATUSES)

    def without_noise(self):
        """Leave out incidents closed as duplicates or false alarms (figures
        count them only when asked to)."""
        return self.exclude(closure_reason__in=Incident.NOISE_REASONS)

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
    # The statuses in which an incident has ended (is no longer open); the
    # status named ``closed`` is only one of them.
    ENDED_STATUSES = (Status.RESOLVED, Status.CLOSED)

    class ClosureReason(models.TextChoices):
        DUPLICATE = "duplicate", "Duplicate"
        FALSE_ALARM = "false_alarm", "False alarm"

    # Closed as noise rather than worked: left out of figures by default.
    NOISE_REASONS = (ClosureReason.DUPLICATE, ClosureReason.FALSE_ALARM)

    reference = models.CharField(max_length=20, unique=True, editable=False)
    title = TitleField(max_length=200)
    description = models.TextField(blank=True)
    impact = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.TRIAGE, db_index=True
    )

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # When the impact began, which may be well before anyone noticed ("failing
    # since 14:05" reported at 14:41). Response metrics count from here; the
    # services set it to ``detected_at`` when nobody says otherwise.
    impact_started_at = models.DateTimeField(null=True, blank=True)
    detected_at = models.DateTimeField(default=timezone.now)
    # Set when a person first takes command (the first commander assignment):
    # that is when a human has taken the incident on, and it always precedes
    # leaving triage, which needs a commander.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # Who acknowledged first (``incident_acknowledge``, or the first commander
    # or the person who moved it to investigating, which also acknowledge it).
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    mitigated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Why it was resolved or closed without being worked: a duplicate of another
    # incident (``IncidentLink`` duplicate-of names the primary) or a false
    # alarm. Empty for an incident that ran its course; cleared on reopening.
    closure_reason = models.CharField(
        max_length=20, choices=ClosureReason.choices, blank=True, db_index=True
    )

    customer_facing = models.BooleanField(default=False)
    data_exposed = models.BooleanField(default=False)
    regulatory = models.BooleanField(default=False)
    affected_services = models.JSONField(default=list, blank=True)
    affected_sites = models.JSONField(default=list, blank=True)
    affected_suppliers = models.JSONField(default=list, blank=True)
    # The catalog's services it affects, as records (``IncidentService``);
    # ``affected_services`` keeps their slugs among its tags for search and triage.
    services = models.ManyToManyField(
        "incidents.Service",
        through="incidents.IncidentService",
        related_name="incidents",
        blank=True,
    )
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

    # Imported history (``incidents.importing``): where the incident came from,
    # its id and link there, when it was last imported, and a digest of the
    # imported record, so that a second import of the same row changes nothing.
    external_source = models.CharField(max_length=30, blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    external_url = models.URLField(max_length=500, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    import_digest = models.CharField(max_length=64, blank=True, editable=False)

    objects = IncidentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("confirm_severity", "Can confirm or change an incident's severity"),
            ("assign_role", "Can assign incident roles"),
            ("add_note", "Can add notes to incidents they can see"),
            ("view_insights", "Can see the insights page (counts what they may see)"),
            ("import_incidents", "Can import past incidents (admin upload)"),
        ]
        constraints = [
            # One open incident per alert key, enforced by the database so that
            # concurrent deliveries of one alert never make two incidents. The
            # list is ENDED_STATUSES (Meta cannot name it; a test holds them equal).
            models.UniqueConstraint(
                fields=["integration", "dedup_key"],
                condition=~Q(status__in=["resolved", "closed"]) & ~Q(dedup_key=""),
                name="incident_one_open_per_dedup_key",
            ),
            # An imported record is one incident, however often it is imported.
            models.UniqueConstraint(
                fields=["external_source", "external_id"],
                condition=~Q(external_id=""),
                name="incident_one_per_external_id",
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
    def is_imported(self) -> bool:
        return self.imported_at is not None

    @property
    def is_open(self) -> bool:
        return self.status not in self.ENDED_STATUSES

    @property
    def is_duplicate(self) -> bool:
        return self.closure_reason == self.ClosureReason.DUPLICATE

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

    # -- response times (seconds are the API's unit; see ``response_times``) --
    @property
    def impact_start(self) -> datetime:
        """When the impact began: ``impact_started_at``, else detection."""
        return self.impact_started_at or self.detected_at

    def response_times(self) -> dict[str, timedelta | None]:
        """Time to acknowledge (from detection), to mitigate and to resolve (from
        impact start); None where the incident has not got there."""
        start = self.impact_start

        def since(origin, value):
            return value - origin if value and origin else None

        return {
            "time_to_acknowledge": since(self.detected_at, self.acknowledged_at),
            "time_to_mitigate": since(start, self.mitigated_at),
            "time_to_resolve": since(start, self.resolved_at),
        }

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
    title = TitleField(max_length=200)
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
