"""Channels, stakeholder lists, and the outbox of notifications and deliveries.

A ``Notification`` is one message about an incident (one event); a ``Delivery`` is
that message going to one recipient through one channel. Both are written in the
transaction of the event that causes them; workers send the deliveries after
commit (``notifications.services.delivery_send``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidents.models import Incident, IncidentType, SeverityLevel

INCIDENT_CHANGED = "incident_changed"
SUBSCRIBABLE_EVENTS = (INCIDENT_CHANGED,)


def mask_secret(value: str) -> str:
    """A secret as it may be shown: its scheme and host at most, never the rest."""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme and parts.netloc and parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.hostname}/••••"
    if parts.scheme:
        return f"{parts.scheme}://••••"
    return "••••••••"


class Channel(models.Model):
    """A way to reach people: e-mail, a signed JSON webhook, or an Apprise URL
    (Slack, Microsoft Teams, SMS and the other services Apprise supports).

    ``target`` (webhook or Apprise URL) and ``secret`` (the webhook signing key)
    are write-only: the admin never renders them back.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        WEBHOOK = "webhook", "Webhook (signed JSON)"
        APPRISE = "apprise", "Apprise (Slack, Teams, SMS, ...)"

    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    is_enabled = models.BooleanField(default=True)
    mailer = models.CharField(
        max_length=60,
        blank=True,
        default="default",
        help_text="E-mail only: the MAILERS alias to send through.",
    )
    target = models.TextField(
        blank=True,
        help_text="Webhook: the https URL to POST to. Apprise: the service URL, "
        "e.g. slack://TokenA/TokenB/TokenC/#incidents or msteams://... "
        "Write-only.",
    )
    secret = models.CharField(
        max_length=200,
        blank=True,
        help_text="Webhook only: the key for the X-IncidentOps-Signature "
        "HMAC-SHA256 header. Write-only.",
    )
    events = models.JSONField(
        default=list,
        blank=True,
        help_text='Webhook only: integration events to receive, e.g. ["incident_changed"] '
        "for every change to every incident.",
    )
    changes = models.JSONField(
        default=list,
        blank=True,
        help_text="Webhook only: limit incident_changed to these changes, e.g. "
        '["declared", "status_changed"]; empty for all.',
    )
    may_receive_restricted = models.BooleanField(
        default=False,
        help_text="Webhook or chat room outside the access rules: also send it "
        "messages about restricted incidents (their title, impact and changes). "
        "Leave off unless everyone who reads it may see every incident.",
    )
    # Linked from here because ``incidents`` never imports this app.
    teams = models.ManyToManyField(
        "incidents.Team",
        related_name="channels",
        blank=True,
        help_text="The teams whose channel this is (their chat room, their "
        "mailing list); shown on the team.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords(excluded_fields=["target", "secret"])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def masked_target(self) -> str:
        return mask_secret(self.target)

    @property
    def is_broadcast(self) -> bool:
        """Webhooks and chat rooms get one message per notification, not one
        per person."""
        return self.kind != self.Kind.EMAIL

    def wants_change(self, change: str) -> bool:
        return INCIDENT_CHANGED in (self.events or []) and (
            not self.changes or change in self.changes
        )

    # The channels a page to a person's own contact method goes through: the
    # address comes from the contact method (``Delivery.contact_method``).
    PERSONAL = {
        Kind.APPRISE: "Personal SMS, push and chat (contact methods)",
        Kind.WEBHOOK: "Personal webhooks (contact methods)",
    }

    @classmethod
    def personal(cls, kind: str) -> Channel:
        """The channel for pages to people's own Apprise or webhook contact
        methods (created on first use; its own target stays empty)."""
        channel, _ = cls.objects.get_or_create(
            name=cls.PERSONAL[kind], defaults={"kind": kind}
        )
        return channel

    def for_contact_method(self, contact_method) -> Channel:
        """An unsaved copy of this channel aimed at ``contact_method``'s address,
        for sending and for redacting error messages."""
        return Channel(
            pk=self.pk,
            name=self.name,
            kind=self.kind,
            mailer=self.mailer,
            target=contact_method.address,
            is_enabled=self.is_enabled and contact_method.is_enabled,
        )

    @classmethod
    def default_email(cls) -> Channel:
        """The channel people are reached through when addressed directly."""
        channel = (
            cls.objects.filter(kind=cls.Kind.EMAIL, is_enabled=True)
            .order_by("pk")
            .first()
        )
        if channel is None:
            channel, _ = cls.objects.get_or_create(
                name="E-mail", defaults={"kind": cls.Kind.EMAIL}
            )
        return channel


class StakeholderListQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def for_incident(self, incident: Incident):
        """The incident's lists: those triggered by its confirmed severity and
        its type (a list naming no types is for every type)."""
        if incident.severity_id is None:
            return self.none()
        return (
            self.active()
            .filter(severities=incident.severity_id)
            .filter(
                Q(incident_types__isnull=True)
                | Q(incident_types=incident.incident_type_id)
            )
            .distinct()
        )

    def for_declaration(self):
        """The lists told whenever an incident is declared (triage)."""
        return self.active().filter(notify_on_declare=True)


class StakeholderList(models.Model):
    """People to tell about incidents of some severities and types, and the
    channels to tell them through."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    notify_on_declare = models.BooleanField(
        default=False,
        help_text="Told when any incident is declared (the triage list).",
    )
    may_receive_restricted = models.BooleanField(
        default=False,
        help_text="Also send messages about restricted incidents to this list's "
        "external addresses and chat/webhook channels (its users and groups "
        "always get them only if they may see the incident).",
    )
    severities = models.ManyToManyField(
        SeverityLevel,
        blank=True,
        related_name="stakeholder_lists",
        help_text="Told when an incident's severity is confirmed at, or raised "
        "to, one of these, and about its updates and resolution.",
    )
    incident_types = models.ManyToManyField(
        IncidentType,
        blank=True,
        related_name="stakeholder_lists",
        help_text="Only for these incident types; empty for every type.",
    )
    channels = models.ManyToManyField(
        Channel,
        blank=True,
        related_name="stakeholder_lists",
        help_text="How members are told; empty for e-mail.",
    )

    objects = StakeholderListQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StakeholderMember(models.Model):
    """One member of a list: a user, a group (its active members) or an external
    e-mail address."""

    stakeholder_list = models.ForeignKey(
        StakeholderList, on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    group = models.ForeignKey(
        Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    email = models.EmailField(blank=True, help_text="An external address.")
    name = models.CharField(max_length=120, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["stakeholder_list", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(user__isnull=False, group__isnull=True, email="")
                    | Q(user__isnull=True, group__isnull=False, email="")
                    | (Q(user__isnull=True, group__isnull=True) & ~Q(email=""))
                ),
                name="stakeholdermember_exactly_one_target",
            )
        ]

    def __str__(self) -> str:
        if self.user_id:
            return str(self.user)
        if self.group_id:
            return f"group {self.group}"
        return self.name or self.email


# --- the outbox -----------------------------------------------------------------


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The messages ``user`` may read in the outbox (the delivery log):
        see ``notifications.permissions.visible_notifications_q``."""
        from notifications.permissions import visible_notifications_q

        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(visible_notifications_q(user))


class Notification(models.Model):
    """One message, rendered once; unique per event. Most are about an
    incident; a few are about configuration that concerns restricted incidents
    (a restricted route changed: ``incident`` is None and ``about_types`` names
    the types whose restricted content the change concerns)."""

    incident = models.ForeignKey(
        Incident,
        on_delete=models.PROTECT,
        related_name="notifications",
        null=True,
        blank=True,
    )
    about_types = models.ManyToManyField(
        IncidentType,
        blank=True,
        related_name="+",
        help_text="A message about no incident: the incident types whose "
        "restricted content it concerns (who may read it in the outbox).",
    )
    kind = models.CharField(max_length=60, db_index=True)
    event_key = models.CharField(max_length=255, unique=True)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # The JSON document webhooks receive (see docs/notifications.md).
    payload = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Watermark: the outcome entry is on the timeline (cleared by a resend).
    outcome_logged_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.subject


class Delivery(models.Model):
    """One notification to one recipient through one channel: the outbox row."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Re-checked at send time: the incident became restricted (or the
        # recipient lost the right to see it) after it was queued. Never sent.
        WITHHELD = "withheld", "Withheld"

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.ForeignKey(
        Channel, on_delete=models.PROTECT, related_name="deliveries"
    )
    # An e-mail address, or the channel's name for broadcast channels.
    recipient = models.CharField(max_length=254)
    recipient_name = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # A page to a person's own SMS/push/chat or webhook address: sent to the
    # contact method's address instead of the channel's target.
    contact_method = models.ForeignKey(
        "notifications.ContactMethod",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    idempotency_key = models.CharField(max_length=64, unique=True)
    # An external address or broadcast channel reached through a list (or
    # channel) that may receive restricted content: re-checked at send time.
    may_receive_restricted = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A worker holds the delivery until then while it talks to the channel, so a
    # second task (a sweeper's re-enqueue) skips it instead of sending twice.
    claimed_until = models.DateTimeField(null=True, blank=True)
    swept_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.notification.subject} → {self.recipient} ({self.status})"


# On-call models live in their own modules; imported here so Django registers
# them in this app.
from notifications.oncall.escalation_models import *  # noqa: E402, F403
from notifications.oncall.schedule_models import *  # noqa: E402,F401,F403
