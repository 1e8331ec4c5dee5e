"""Escalation policies, contact methods, running escalations and pages.

Imported at the end of ``notifications.models`` so Django registers them in the
notifications app. The logic lives in ``notifications.oncall.escalation``.

- A person's ``ContactMethod`` rows say how to reach them (e-mail, an Apprise URL
  for SMS, push or chat, a webhook); their ``NotificationRule`` rows say which
  method is used how many minutes after they are paged.
- An ``EscalationPolicy`` has ordered ``EscalationStep`` rows: each pages its
  targets, then waits ``wait_minutes`` before the next step; after the last step
  the policy starts again, ``repeat_count`` more times.
- An ``Escalation`` is one policy running for one incident: the beat sweep pages
  its due step and moves it on, until a person acknowledges or it runs out.
- A ``Page`` is one person paged by one step through one notification rule; it
  becomes a ``Notification`` (the outbox) when it falls due.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents.models import Incident, Integration, Service, SeverityLevel, Team

__all__ = [
    "ContactMethod",
    "Escalation",
    "EscalationPolicy",
    "EscalationStep",
    "NotificationRule",
    "Page",
]


def _mask(value: str) -> str:
    # notifications.models.mask_secret, without importing that module here
    # (it imports this one at its end).
    from notifications.models import mask_secret

    return mask_secret(value)


class ContactMethod(models.Model):
    """One way to reach one person. ``address`` is an e-mail address, an Apprise
    URL (SMS, push, Slack/Teams DM... see https://github.com/caronc/apprise/wiki)
    or an http(s) webhook URL; URLs carry tokens and are never shown back."""

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        APPRISE = "apprise", "SMS, push or chat (Apprise URL)"
        WEBHOOK = "webhook", "Webhook (JSON)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="contact_methods",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    label = models.CharField(
        max_length=80, blank=True, help_text='A name for it, e.g. "Work phone".'
    )
    address = models.TextField(
        help_text="E-mail: the address. Apprise: the service URL, e.g. "
        "twilio://SID:Token@FromPhone/ToPhone or ntfy://topic. Webhook: the "
        "http(s) URL. URLs are write-only."
    )
    is_enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords(excluded_fields=["address"])

    class Meta:
        ordering = ["user", "pk"]

    def __str__(self) -> str:
        return f"{self.user}: {self.name}"

    @property
    def name(self) -> str:
        return self.label or self.get_kind_display()

    @property
    def shown_address(self) -> str:
        """The address as it may be shown: an e-mail in full, a URL masked."""
        if self.kind == self.Kind.EMAIL:
            return self.address
        return _mask(self.address)

    def clean(self) -> None:
        address = (self.address or "").strip()
        self.address = address
        if not address:
            raise ValidationError({"address": "Give the address or URL."})
        if self.kind == self.Kind.EMAIL:
            try:
                validate_email(address)
            except ValidationError as exc:
                raise ValidationError({"address": "Not an e-mail address."}) from exc
        elif self.kind == self.Kind.WEBHOOK:
            if not address.startswith(("https://", "http://")):
                raise ValidationError({"address": "A webhook URL must be http(s)."})
        elif self.kind == self.Kind.APPRISE:
            import apprise

            if not apprise.Apprise().add(address):
                raise ValidationError(
                    {"address": "Apprise does not recognise this URL."}
                )


class NotificationRule(models.Model):
    """Use ``contact_method`` this many minutes after its owner is paged (if the
    incident is not acknowledged by then)."""

    contact_method = models.ForeignKey(
        ContactMethod, on_delete=models.CASCADE, related_name="rules"
    )
    delay_minutes = models.PositiveIntegerField(
        default=0, help_text="Minutes after the page; 0 for at once."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["delay_minutes", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact_method", "delay_minutes"],
                name="notificationrule_once_per_delay",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_method.name} after {self.delay_minutes} min"


class EscalationPolicy(models.Model):
    """Who is paged, in what order, with what waits, until someone acknowledges."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    repeat_count = models.PositiveSmallIntegerField(
        default=0,
        help_text="How many more times to run all the steps when nobody has "
        "acknowledged after the last one (0: run them once).",
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="escalation_policies",
        help_text="The team that owns it: its manager is told when nobody "
        "acknowledged after the last round.",
    )
    services = models.ManyToManyField(
        Service,
        blank=True,
        related_name="escalation_policies",
        help_text="An alert about one of these services (its labels matched) "
        "starts this policy; so does an incident naming one of them when it "
        "reaches the start severity.",
    )
    integrations = models.ManyToManyField(
        Integration,
        blank=True,
        related_name="escalation_policies",
        help_text="An incident these integrations open from an alert starts "
        "this policy.",
    )
    start_severity = models.ForeignKey(
        SeverityLevel,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="An incident of this policy's services or integrations (or, "
        "with 'every incident', any incident) declared or confirmed at this "
        "severity or a worse one starts the policy. Empty: only alerts start it.",
    )
    for_every_incident = models.BooleanField(
        default=False,
        help_text="Also start for incidents that name none of this policy's "
        "services and came from none of its integrations, when they reach the "
        "start severity.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.name

    def starts_at(self, severity: SeverityLevel | None) -> bool:
        """Does a confirmed ``severity`` reach this policy's start severity?"""
        if severity is None or self.start_severity_id is None:
            return False
        return severity.rank <= self.start_severity.rank


class EscalationStep(models.Model):
    """One step: page its target (a person, every member of a team, or whoever
    is on call on a schedule when the step falls due), then wait
    ``wait_minutes`` for an acknowledgement before the next step."""

    policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.CASCADE, related_name="steps"
    )
    position = models.PositiveSmallIntegerField(default=1)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person to page.",
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Or: page every member of this team.",
    )
    schedule = models.ForeignKey(
        "notifications.Schedule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalation_steps",
        help_text="Or: page whoever is on call on this schedule then.",
    )
    wait_minutes = models.PositiveIntegerField(
        default=15, help_text="Minutes to wait for an acknowledgement."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["policy", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, team__isnull=True, schedule__isnull=True)
                    | Q(user__isnull=True, team__isnull=False, schedule__isnull=True)
                    | Q(user__isnull=True, team__isnull=True, schedule__isnull=False)
                ),
                name="escalationstep_one_target",
            ),
            models.CheckConstraint(
                condition=Q(wait_minutes__gte=1),
                name="escalationstep_waits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: step {self.position}"

    @property
    def target_label(self) -> str:
        if self.user_id:
            return self.user.display_name
        if self.team_id:
            return f"team {self.team.name}"
        if self.schedule_id:
            return f"the on-call of {self.schedule.name}"
        return "nobody"

    def clean(self) -> None:
        if sum(bool(x) for x in (self.user_id, self.team_id, self.schedule_id)) != 1:
            raise ValidationError(
                "A step pages exactly one of: a person, a team or a schedule."
            )

    @property
    def wait(self) -> timedelta:
        return timedelta(minutes=self.wait_minutes)


class EscalationQuerySet(models.QuerySet):
    def running(self):
        return self.filter(status=Escalation.Status.RUNNING)

    def due(self, now):
        return self.running().filter(next_due_at__lte=now)


class Escalation(models.Model):
    """One policy running for one incident (at most once per pair)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ENDED = "ended", "Ended (incident no longer needs it)"
        EXHAUSTED = "exhausted", "Nobody acknowledged"

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="escalations"
    )
    policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.PROTECT, related_name="escalations"
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.RUNNING
    )
    trigger = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    # Where the sweep goes next: step ``step_index`` (0-based, in position
    # order) of round ``round`` (0-based), at ``next_due_at``.
    round = models.PositiveSmallIntegerField(default=0)
    step_index = models.PositiveSmallIntegerField(default=0)
    next_due_at = models.DateTimeField(null=True, blank=True)
    last_paged_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    stop_reason = models.CharField(max_length=200, blank=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "policy"], name="escalation_once_per_policy"
            )
        ]
        indexes = [models.Index(fields=["status", "next_due_at"])]

    def __str__(self) -> str:
        return f"{self.policy} for {self.incident.reference}"


class PageQuerySet(models.QuerySet):
    def due(self, now):
        return self.filter(
            handled_at__isnull=True,
            due_at__lte=now,
            escalation__status=Escalation.Status.RUNNING,
        )


class Page(models.Model):
    """One person paged by one step of an escalation through one of their
    notification rules (``contact_method`` None: their account's e-mail, when
    they have no rules). Written when the step falls due; its notification is
    written when ``due_at`` comes (the rule's delay), unless the escalation
    stopped first. ``key`` makes each (escalation, round, step, person, rule)
    a single row whatever how often the sweep runs."""

    escalation = models.ForeignKey(
        Escalation, on_delete=models.CASCADE, related_name="pages"
    )
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pages"
    )
    round = models.PositiveSmallIntegerField()
    step_index = models.PositiveSmallIntegerField()
    contact_method = models.ForeignKey(
        ContactMethod,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    delay_minutes = models.PositiveIntegerField(default=0)
    key = models.CharField(max_length=120, unique=True)
    paged_at = models.DateTimeField()
    due_at = models.DateTimeField()
    # Set when its notification was written (or nobody could be told).
    handled_at = models.DateTimeField(null=True, blank=True)
    notification = models.OneToOneField(
        "notifications.Notification",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="page",
    )

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["paged_at", "due_at", "pk"]
        indexes = [models.Index(fields=["handled_at", "due_at"])]

    def __str__(self) -> str:
        return f"{self.user} for {self.incident.reference}"
