"""Asking a person to take a role: the request and its answer.

A suggestion (``incidents.providers``) only shows who might fit; a person asks
one of them ("Ask Sam to take command") and the one asked accepts or declines.
Accepting assigns the role through ``incident_assign_role``; nobody is ever
assigned by a suggestion or a request alone.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from incidents.models.incident import Incident
from incidents.models.taxonomy import Role


class RoleRequest(models.Model):
    """``asked_by`` asked ``user`` to take ``role`` on ``incident``."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "No longer needed"

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="role_requests"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="role_requests",
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(
        max_length=300, blank=True, help_text="Why this person (the suggestion's)."
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Asking twice while waiting is one request, even under concurrency.
            models.UniqueConstraint(
                fields=["incident", "role", "user"],
                condition=Q(status="pending"),
                name="role_request_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} asked to be {self.role} on {self.incident_id}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
