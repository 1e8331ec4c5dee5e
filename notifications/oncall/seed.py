"""Demo escalation policies and contact methods (idempotent; touches only what it
creates: an existing policy or contact method of the same name is left alone).

Only the demo accounts and integration the seed created (``incidentops.seed``)
are paged or given contact methods: a person who happens to be called Rita or
Mia is never put on a demo policy.
"""

from incidentops.models import User
from incidentops.seed import seed_mark, seeded
from incidents.models import Service, SeverityLevel, Team
from notifications.oncall.escalation_models import (
    ContactMethod,
    EscalationPolicy,
    EscalationStep,
    NotificationRule,
)

CHECKOUT_POLICY = "Checkout on-call (demo)"
PLATFORM_POLICY = "Platform on-call (demo)"
MAJOR_POLICY = "Major incidents (demo)"


def _policy(name, *, description, steps, repeat, **fields):
    """Create the policy with its steps unless one of that name exists."""
    if EscalationPolicy.objects.filter(name=name).exists():
        return None
    users = seeded(User).in_bulk(
        [username for username, _wait in steps], field_name="username"
    )
    if len(users) != len(steps):
        return None  # the demo accounts are missing
    policy = EscalationPolicy.objects.create(
        name=name, description=description, repeat_count=repeat, **fields
    )
    seed_mark(policy)
    for position, (username, wait) in enumerate(steps, start=1):
        EscalationStep.objects.create(
            policy=policy, position=position, user=users[username], wait_minutes=wait
        )
    return policy


def _link(policy, *, team_slug: str) -> None:
    """The seed's team owns the policy, and its services' alerts start it."""
    team = seeded(Team).filter(slug=team_slug).first()
    if team is not None:
        policy.team = team
        policy.save(update_fields=["team"])
        policy.services.set(seeded(Service).filter(team=team))


def seed_escalation(*, stdout) -> None:
    """One policy per demo team (its services' alerts page its on-call engineer,
    then the secondary after 5 minutes; twice round; then its manager), a
    catch-all for SEV-1 incidents, and Rita's contact methods (e-mail at once, a
    disabled demo SMS after 2 minutes)."""
    created = []
    checkout = _policy(
        CHECKOUT_POLICY,
        description="Pages the checkout on-call engineer for alerts about the "
        "checkout team's services, then the secondary; the team's manager when "
        "nobody answers.",
        steps=[("rita", 5), ("omar", 5)],
        repeat=1,
    )
    if checkout is not None:
        _link(checkout, team_slug="checkout")
        created.append(checkout.name)
    platform = _policy(
        PLATFORM_POLICY,
        description="Pages the platform on-call engineer for alerts about the "
        "platform team's services, then the secondary.",
        steps=[("omar", 5), ("carl", 5)],
        repeat=1,
    )
    if platform is not None:
        _link(platform, team_slug="platform")
        created.append(platform.name)
    major = _policy(
        MAJOR_POLICY,
        description="Any incident confirmed as SEV-1 pages the duty incident manager.",
        steps=[("mia", 10)],
        repeat=2,
        start_severity=SeverityLevel.objects.filter(code="SEV-1").first(),
        for_every_incident=True,
    )
    if major is not None:
        created.append(major.name)
    rita = seeded(User).filter(username="rita").first()
    if rita is not None and not rita.contact_methods.exists():
        mail = ContactMethod.objects.create(
            user=rita,
            kind=ContactMethod.Kind.EMAIL,
            label="Work e-mail",
            address=rita.email or "rita@example.com",
        )
        NotificationRule.objects.create(contact_method=mail, delay_minutes=0)
        seed_mark(mail)
        sms = ContactMethod.objects.create(
            user=rita,
            kind=ContactMethod.Kind.APPRISE,
            label="Phone (demo, disabled)",
            address="json://127.0.0.1:9/demo-sms",
            is_enabled=False,
        )
        NotificationRule.objects.create(contact_method=sms, delay_minutes=2)
        seed_mark(sms)
        created.append("Rita's contact methods")
    if created:
        stdout.write("Escalation demo data created: " + ", ".join(created) + ".")
