"""Teams and the service catalog: who owns what incidents affect.

A ``Team`` has members (``TeamMembership``), a manager and a description; its
channels are linked from the notifications side (``Channel.teams``), since
``incidents`` imports nothing above it. A ``Service`` belongs to a team, has a
tier (how critical: 1 is the most), a runbook link, the services it depends on
and the alert labels that identify it (``{"service": "checkout-api"}``): an
alert whose labels contain every one of them is about that service.
``IncidentService`` records that an incident affects a service: when, by whom
and how it was linked.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


class Team(models.Model):
    """A group of people who own services and answer for them."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    description = models.TextField(blank=True)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_teams",
        limit_choices_to={"is_service_account": False},
        help_text="Told when an escalation runs out; a person.",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="TeamMembership",
        related_name="teams",
        blank=True,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.manager_id and self.manager.is_service_account:
            raise ValidationError(
                {"manager": "A team's manager is a person, not a service account."}
            )


class TeamMembership(models.Model):
    """``user`` belongs to ``team`` since ``joined_at``."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="team_memberships",
    )
    joined_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["team__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "user"], name="team_membership_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class ServiceQuerySet(models.QuerySet):
    def matching_labels(self, labels: dict) -> list[Service]:
        """The services whose alert labels are all present, with the same
        values, in ``labels`` (an alert's labels, names to text). A service
        with no alert labels never matches."""
        labels = {str(k): str(v) for k, v in (labels or {}).items()}
        return [
            service
            for service in self.exclude(alert_labels={})
            if service.matches(labels)
        ]


class Service(models.Model):
    """Something people run that incidents affect: an API, a database, a
    warehouse process. ``tier`` 1 is the most critical."""

    class Tier(models.IntegerChoices):
        TIER_1 = 1, "Tier 1 — critical, customer-facing"
        TIER_2 = 2, "Tier 2 — important"
        TIER_3 = 3, "Tier 3 — internal"
        TIER_4 = 4, "Tier 4 — low impact"

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        help_text="The team that owns it and is paged for it.",
    )
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER_3)
    runbook_url = models.URLField(max_length=500, blank=True)
    depends_on = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="dependents",
        blank=True,
        help_text="Services this one needs in order to work.",
    )
    alert_labels = models.JSONField(
        default=dict,
        blank=True,
        help_text='Labels that identify it in alerts, e.g. {"service": '
        '"checkout-api"}: an alert carrying all of them is about this service.',
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ServiceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["tier", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        problem = alert_labels_problem(self.alert_labels)
        if problem:
            raise ValidationError({"alert_labels": problem})

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether an alert with ``labels`` is about this service."""
        if not self.alert_labels:
            return False
        return all(
            labels.get(name) == str(value) for name, value in self.alert_labels.items()
        )


def alert_labels_problem(value) -> str | None:
    """Why ``value`` is not a valid set of alert labels, or None: a JSON object
    of label names to text (numbers and booleans are taken as their text)."""
    if not isinstance(value, dict):
        return 'Alert labels are a JSON object, e.g. {"service": "checkout-api"}.'
    for name, label in value.items():
        if not str(name).strip():
            return "A label name cannot be blank."
        if isinstance(label, dict | list) or label is None:
            return f"The label {name!r} needs a plain text value."
    return None


class IncidentService(models.Model):
    """``incident`` affects ``service``: linked at ``linked_at`` by
    ``linked_by`` (None: the system), from ``source``."""

    class Source(models.TextChoices):
        DECLARE = "declare", "Named when declared"
        ALERT = "alert", "Matched an alert's labels"
        EDIT = "edit", "Added on the incident"
        MIGRATED = "migrated", "From the incident's service tags"

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="service_links"
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="incident_links"
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    linked_at = models.DateTimeField(default=timezone.now)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["service__tier", "service__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "service"], name="incident_service_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} affects {self.service}"
