"""Taxonomy and policy: families, incident types, severity levels, roles, playbooks."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from incidentops.text import TitleField

COMMANDER = "commander"
COMMUNICATIONS = "communications"
SCRIBE = "scribe"
OPERATIONS = "operations"
BUILTIN_ROLES = (COMMANDER, COMMUNICATIONS, SCRIBE, OPERATIONS)


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


class SeverityLevelQuerySet(models.QuerySet):
    def ranks(self) -> dict[str, int]:
        """Each level's code to its rank (1 is the most severe), in one query:
        what code-level comparisons (``more_severe_code``) read."""
        return dict(self.values_list("code", "rank"))


def more_severe_code(
    a: str | None, b: str | None, ranks: Mapping[str, int]
) -> str | None:
    """The more severe of two level codes by their rank (``ranks``, from
    ``SeverityLevel.objects.ranks()``); either may be None. A code with no level
    in ``ranks`` loses to one that has a level; the first is returned when
    neither has one. Codes are compared by rank, never by their text, so a
    framework re-ranked in the admin is followed."""
    known = [code for code in (a, b) if code in ranks]
    if known:
        return min(known, key=ranks.__getitem__)
    return a or b


class SeverityLevel(models.Model):
    """One level of the severity framework (SEV-1 .. SEV-4), editable in the admin.

    The codes are the framework's fixed identifiers (triage's signals, integration
    label maps and imports name them); which is more severe is the ``rank``
    alone (``is_more_severe_than``, ``more_severe_code``)."""

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

    objects = SeverityLevelQuerySet.as_manager()

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

    @property
    def ask_phrase(self) -> str:
        """What a person is asked to do to hold this role: "take command" for
        the commander, "be communications lead" (the name, lower case) else."""
        return "take command" if self.slug == COMMANDER else f"be {self.name.lower()}"


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
    title = TitleField(max_length=200)
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
