"""Incident rules that other apps' changes must respect."""

from incidentops.exceptions import DomainError
from incidents.models import Incident, RoleAssignment


def refuse_non_human_role_holder(sender, *, user, **kwargs) -> None:
    """Control 1: a human-only role (the commander) is always held by a human,
    so a holder on an open incident cannot become a service account or
    inactive until they hand the role over."""
    held = (
        RoleAssignment.objects.filter(
            user_id=user.pk, ended_at__isnull=True, role__human_only=True
        )
        .exclude(incident__status__in=Incident.ENDED_STATUSES)
        .select_related("incident", "role")
        .order_by("incident__reference")
    )
    if held:
        roles = ", ".join(f"{a.role.name} of {a.incident.reference}" for a in held)
        raise DomainError(
            f"{user.username} holds a human-only role ({roles}): hand over command "
            f"of {', '.join(sorted({a.incident.reference for a in held}))} first."
        )
