"""API routes of this app, registered on the one ``/api/v1/`` router."""

from notifications.oncall.escalation_api import EscalationPolicyViewSet
from notifications.oncall.schedule_api import ScheduleViewSet


def register(router) -> None:
    """Add this app's viewsets to ``router``."""
    router.register("schedules", ScheduleViewSet, basename="schedule")
    router.register(
        "escalation-policies", EscalationPolicyViewSet, basename="escalation-policy"
    )
