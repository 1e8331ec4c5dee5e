"""Building escalations in tests: a policy, an incident as an alert opens it, the
pages written, and the clock they run on (``T0``, ``minutes``)."""

from datetime import UTC, datetime, timedelta

from incidents import services as incident_services
from notifications.models import EscalationPolicy, EscalationStep, Page

T0 = datetime(2026, 3, 4, 2, 55, tzinfo=UTC)  # at night


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def make_policy(integration, steps, *, repeat=0, name="Checkout on-call", **fields):
    policy = EscalationPolicy.objects.create(name=name, repeat_count=repeat, **fields)
    if integration is not None:
        policy.integrations.add(integration)
    for position, (user, wait) in enumerate(steps, start=1):
        EscalationStep.objects.create(
            policy=policy, position=position, user=user, wait_minutes=wait
        )
    return policy


def alert_incident(integration, *, now=T0, key="checkout-5xx"):
    """An incident as an alert opens it: declared by the integration's account."""
    return incident_services.incident_declare(
        actor=integration.service_account,
        title="Checkout API 5xx above 5%",
        integration=integration,
        dedup_key=key,
        now=now,
    )


def paged(incident) -> list[tuple[str, int, int]]:
    """(username, round, step) of every page written, in order."""
    return [
        (page.user.username, page.round + 1, page.step_index + 1)
        for page in Page.objects.filter(incident=incident)
        .exclude(notification=None)
        .order_by("pk")
    ]
