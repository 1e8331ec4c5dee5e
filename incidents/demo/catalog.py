"""The demo's teams and service catalog: two teams, their people and services.

Loaded by ``incidents.seed.seed_demo`` before the incident history, so the
history's incidents name catalog services and the role suggestions have past
role holders to point at. A team or service is created only when its slug is
free; one that exists (the seed's from an earlier run, or a person's) is left
exactly as it is, also a service the affected-services data migration made from
an old tag: those tags may be people's, and the seed writes only rows it created
(``incidentops.seed``).
"""

from __future__ import annotations

from incidentops.models import User
from incidentops.seed import seed_mark, seeded
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
    """Create the demo teams and services whose slugs are free (and mark them as
    the seed's); returns the ones it created. A team or service that exists is
    left as it is, also one the data migration made from incident tags (people's
    tags as much as the demo's). Members are the demo users the seed created;
    missing ones (or accounts of those names someone else made) are left out."""
    usernames = {name for *_, manager, members in TEAMS.values() for name in members}
    usernames |= {manager for *_, manager, _members in TEAMS.values()}
    users = {u.username: u for u in seeded(User).filter(username__in=usernames)}
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
        seed_mark(team)
        for username in members:
            if username in users:
                TeamMembership.objects.create(team=team, user=users[username])
        created_teams.append(team)

    teams = {team.slug: team for team in created_teams}
    created = {}
    for slug, (team_slug, tier, _depends, description) in SERVICES.items():
        if Service.objects.filter(slug=slug).exists():
            continue
        service = Service(
            slug=slug,
            name=slug,
            team=teams.get(team_slug),
            tier=tier,
            runbook_url=f"{RUNBOOKS}{slug}",
            alert_labels={"service": slug},
            description=description,
        )
        service.save()
        seed_mark(service)
        created[slug] = service
    for slug, service in created.items():
        depends = Service.objects.filter(slug__in=SERVICES[slug][2])
        service.depends_on.set(depends)
    if created_teams or created:
        stdout.write(
            f"Demo teams ({len(created_teams)}) and services ({len(created)}) created."
        )
    return created_teams, list(created.values())
