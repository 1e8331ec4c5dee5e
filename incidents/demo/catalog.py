"""The demo's teams and service catalog: two teams, their people and services.

Loaded by ``incidents.seed.seed_demo`` before the incident history, so the
history's incidents name catalog services and the role suggestions have past
role holders to point at. A team or service is created only when its slug is
free; one that exists (the seed's from an earlier run, or a person's) is left
exactly as it is. The one exception: a service the affected-services data
migration made from an old tag and nobody has edited since (no history, no
team) is filled in, so an older demo database gets the catalog too.
"""

from __future__ import annotations

from incidentops.models import User
from incidents.models import Service, Team, TeamMembership

# slug: name, description, manager, members
TEAMS = {
    "checkout": (
        "Checkout",
        "Owns the customer's path from basket to paid order: checkout, "
        "payments and the customer portal.",
        "mia",
        ["mia", "rita", "omar"],
    ),
    "platform": (
        "Platform",
        "Runs the shared foundations: databases, identity, sessions, messaging "
        "and search.",
        "omar",
        ["omar", "carl", "rita"],
    ),
}

RUNBOOKS = "https://runbooks.example.com/"

# slug: team, tier, depends on, description
SERVICES = {
    "postgres-primary": (
        "platform",
        1,
        [],
        "The primary PostgreSQL cluster behind orders, payments and accounts.",
    ),
    "identity-provider": (
        "platform",
        1,
        ["postgres-primary"],
        "Sign-in, sessions and tokens for customers and staff.",
    ),
    "session-store": (
        "platform",
        2,
        [],
        "Redis cluster holding baskets and customer sessions.",
    ),
    "notification-service": (
        "platform",
        3,
        [],
        "Order and shipping e-mails and text messages.",
    ),
    "search-service": (
        "platform",
        3,
        [],
        "Product search and suggestions.",
    ),
    "fraud-scoring": (
        "checkout",
        2,
        [],
        "Scores each card payment before authorisation.",
    ),
    "payments-gateway": (
        "checkout",
        1,
        ["postgres-primary", "fraud-scoring"],
        "Card, PayPal and invoice payments through the payment providers.",
    ),
    "basket-service": (
        "checkout",
        2,
        ["session-store"],
        "The customer's basket and its prices.",
    ),
    "checkout-api": (
        "checkout",
        1,
        ["payments-gateway", "basket-service", "postgres-primary"],
        "Takes the basket to a paid order; the storefront and apps call it.",
    ),
    "customer-portal": (
        "checkout",
        1,
        ["identity-provider", "checkout-api"],
        "The customer's account pages: orders, returns, addresses.",
    ),
}


def seed_catalog(*, stdout) -> tuple[list[Team], list[Service]]:
    """Create the demo teams and services whose slugs are free; returns the
    ones it created. Needs the demo users (missing ones are left out)."""
    usernames = {name for *_, manager, members in TEAMS.values() for name in members}
    usernames |= {manager for *_, manager, _members in TEAMS.values()}
    users = {u.username: u for u in User.objects.filter(username__in=usernames)}
    created_teams = []
    for slug, (name, description, manager, members) in TEAMS.items():
        if (
            Team.objects.filter(slug=slug).exists()
            or Team.objects.filter(name=name).exists()
        ):
            continue
        team = Team.objects.create(
            slug=slug, name=name, description=description, manager=users.get(manager)
        )
        for username in members:
            if username in users:
                TeamMembership.objects.create(team=team, user=users[username])
        created_teams.append(team)

    teams = {team.slug: team for team in created_teams}
    created = {}
    for slug, (team_slug, tier, _depends, description) in SERVICES.items():
        service = Service.objects.filter(slug=slug).first()
        if service is not None and not _migrated_untouched(service):
            continue
        service = service or Service(slug=slug, name=slug)
        service.team = teams.get(team_slug)
        service.tier = tier
        service.runbook_url = f"{RUNBOOKS}{slug}"
        service.alert_labels = {"service": slug}
        service.description = description
        service.save()
        created[slug] = service
    for slug, service in created.items():
        depends = Service.objects.filter(slug__in=SERVICES[slug][2])
        service.depends_on.set(depends)
    if created_teams or created:
        stdout.write(
            f"Demo teams ({len(created_teams)}) and services ({len(created)}) created."
        )
    return created_teams, list(created.values())


def _migrated_untouched(service: Service) -> bool:
    """Made from an old tag by the data migration and never edited since."""
    return (
        service.team_id is None
        and not service.alert_labels
        and not service.history.exists()
    )
