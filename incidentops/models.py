"""Accounts and process heartbeats."""

from django.contrib.auth.models import AbstractUser
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


class User(AbstractUser):
    """A person, or a service account used by an integration or automation.

    Only humans may command an incident, confirm a severity or approve a review.
    """

    is_service_account = models.BooleanField(
        "service account",
        default=False,
        help_text="Integrations and API automation. Service accounts may never be "
        "incident commander, confirm a severity or approve a review.",
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    @property
    def is_human(self) -> bool:
        """An active person (not a service account)."""
        return self.is_active and not self.is_service_account

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    def __str__(self) -> str:
        return self.username


class Heartbeat(models.Model):
    """The last time a named periodic process proved it was running."""

    name = models.CharField(max_length=50, unique=True)
    last_seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}"


class SeedMark(models.Model):
    """A row the demo seed (``manage.py seed_demo``) created.

    The seed writes, submits, approves or deletes only rows marked here (or rows
    that hang off one, such as the review of a demo incident), so running it on a
    database with people's own incidents, reviews, lists and users changes none
    of them. ``incidentops.seed.seed_mark`` and ``seeded`` read and write it.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="seed_mark_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.content_type.model} #{self.object_id} (demo)"
