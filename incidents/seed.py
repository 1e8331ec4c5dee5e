"""The incident core's demo data: severity framework, taxonomy, roles, playbooks,
18 months of incident history and a handful of incidents active right now.

Run by ``python manage.py seed_demo`` (through ``IncidentsConfig.seed_demo``),
inside the command's single transaction, after ``incidentops`` has created the
demo users.

Idempotent, and it touches only what it created. Configuration rows are
created only when missing and marked as the seed's (``incidentops.seed``), so a
second run (or an admin's later edits) is never overwritten, and rows people
made are never written to, even when they share a demo name. The history is planned first,
as pure data from ``random.Random(SEED)``; its incident titles are the stable key
that says whether it has been loaded. Incidents are created through
``incidents.services`` with back-dated ``now`` values, inside
``events.history_import()``, so every rule, timeline entry, hash chain and
receiver runs as in real life while nobody is sent anything.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.utils import timezone

from incidentops.models import User
from incidentops.seed import seed_mark, seeded
from incidents import events, services
from incidents.demo import stories, taxonomy
from incidents.demo.catalog import seed_catalog
from incidents.models import (
    COMMANDER,
    COMMUNICATIONS,
    OPERATIONS,
    SCRIBE,
    ActionItem,
    Incident,
    IncidentFamily,
    IncidentType,
    Integration,
    Playbook,
    PlaybookStep,
    Role,
    SeverityLevel,
    TriageModel,
)
from incidents.triage_model import triage_model_train

SEED = 20261128
HISTORY_SIZE = 300
HISTORY_DAYS = 545  # about 18 months
SEVERITY_CODES = ("SEV-1", "SEV-2", "SEV-3", "SEV-4")
ALERT_INTEGRATION = "Production Alertmanager"

# The severity framework (DESIGN.md); the data migration creates the same rows.
FRAMEWORK = {
    "SEV-1": {
        "name": "Critical",
        "rank": 1,
        "description": "Customer-facing outage, data breach or regulatory event.",
        "response": SeverityLevel.Response.ALL_HANDS,
        "notified": "Executives",
        "update_cadence": timedelta(minutes=30),
    },
    "SEV-2": {
        "name": "High",
        "rank": 2,
        "description": "Degraded service, SLA breach or process failure.",
        "response": SeverityLevel.Response.CROSS_TEAM,
        "notified": "Management",
        "update_cadence": timedelta(minutes=60),
    },
    "SEV-3": {
        "name": "Medium",
        "rank": 3,
        "description": "Internal disruption, near miss or minor process deviation.",
        "response": SeverityLevel.Response.TEAM,
        "notified": "Logged for review",
        "update_cadence": timedelta(hours=4),
    },
    "SEV-4": {
        "name": "Low",
        "rank": 4,
        "description": "Cosmetic issue, minor delay or documentation gap.",
        "response": SeverityLevel.Response.STANDARD,
        "notified": "Batch review",
        "update_cadence": None,
    },
}

# Median minutes to acknowledge (a commander takes it) and the factor on the
# story's median hours to resolve, per severity.
TTA_MEDIAN_MINUTES = {"SEV-1": 4, "SEV-2": 9, "SEV-3": 22, "SEV-4": 65}
TTR_FACTOR = {"SEV-1": 1.3, "SEV-2": 1.0, "SEV-3": 1.5, "SEV-4": 2.5}
TTR_SIGMA = {"SEV-1": 0.9, "SEV-2": 0.7, "SEV-3": 0.6, "SEV-4": 0.6}
UPDATES_PER_SEVERITY = {"SEV-1": (2, 5), "SEV-2": (1, 3), "SEV-3": (0, 1)}

COMMANDERS = ("mia", "rita", "omar")
COMMANDER_WEIGHTS = (4, 3, 3)
REPORTERS = ("rita", "omar", "carl", "mia")
REPORTER_WEIGHTS = (4, 4, 1, 2)
BOT = "alertmanager-bot"


# --- configuration ------------------------------------------------------------


def seed_severity_framework() -> dict[str, SeverityLevel]:
    """Create missing levels; fill only empty criteria on levels the seed
    created, so an admin's edits (and the migration's levels) are left alone."""
    levels = {}
    mine = set(seeded(SeverityLevel).values_list("pk", flat=True))
    for code, values in FRAMEWORK.items():
        level, created = SeverityLevel.objects.get_or_create(code=code, defaults=values)
        if created:
            seed_mark(level)
        elif level.pk in mine:
            missing = [
                name
                for name in ("description", "notified")
                if not getattr(level, name) and values[name]
            ]
            for name in missing:
                setattr(level, name, values[name])
            if missing:
                level.save(update_fields=missing)
        levels[code] = level
    return levels


def seed_roles() -> dict[str, Role]:
    """The custom roles beside the migration's built-ins."""
    for slug, name, description, human_only in taxonomy.ROLES:
        role, created = Role.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "human_only": human_only,
            },
        )
        if created:
            seed_mark(role)
    return {role.slug: role for role in Role.objects.all()}


def seed_incident_types(levels: dict[str, SeverityLevel]) -> dict[str, IncidentType]:
    """Families and types; a type that exists is left as the admin keeps it."""
    families = {family.slug: family for family in IncidentFamily.objects.all()}
    types = {}
    for spec in taxonomy.TYPES:
        family = families.get(spec["family"])
        if family is None:
            family = IncidentFamily.objects.create(
                slug=spec["family"],
                name=spec["family"].replace("-", " ").capitalize(),
            )
            seed_mark(family)
            families[family.slug] = family
        incident_type, created = IncidentType.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "family": family,
                "name": spec["name"],
                "description": spec["description"],
                "keywords": spec["keywords"],
                "default_severity": levels.get(spec["default_severity"]),
                "restricted_by_default": spec.get("restricted", False),
                "notification_deadline_hours": spec.get("deadline_hours"),
                "notification_authority": spec.get("authority", ""),
            },
        )
        if created:
            seed_mark(incident_type)
        if created and spec.get("groups"):
            incident_type.restricted_groups.set(
                Group.objects.filter(name__in=spec["groups"])
            )
        types[incident_type.slug] = incident_type
    return types


def seed_playbooks(
    types: dict[str, IncidentType],
    levels: dict[str, SeverityLevel],
    roles: dict[str, Role],
) -> None:
    """One playbook per (type, severity or any) unless one is already active;
    only for the types the seed created (a type someone made keeps their
    playbooks, or none)."""
    mine = set(seeded(IncidentType).values_list("pk", flat=True))
    for spec in taxonomy.PLAYBOOKS:
        incident_type = types[spec["type"]]
        if incident_type.pk not in mine:
            continue
        severity = levels[spec["severity"]] if spec["severity"] else None
        if Playbook.objects.filter(
            incident_type=incident_type, severity=severity, is_active=True
        ).exists():
            continue
        playbook = Playbook.objects.create(
            incident_type=incident_type,
            severity=severity,
            name=spec["name"],
            guidance=spec["guidance"],
        )
        seed_mark(playbook)
        playbook.required_roles.set([roles[slug] for slug in spec["roles"]])
        for order, (title, description, role, minutes, priority) in enumerate(
            spec["steps"], start=1
        ):
            PlaybookStep.objects.create(
                playbook=playbook,
                order=order,
                title=title,
                description=description,
                owner_role=roles.get(role),
                due_offset=timedelta(minutes=minutes) if minutes is not None else None,
                priority=priority,
            )


def seed_alert_integration():
    """The Alertmanager integration some historical outages came in through.

    Its secret is not kept: ``create_integration`` or a rotation in the admin
    gives a usable one. An integration of that name that someone else made is
    not used (None: those outages come in by hand).
    """
    existing = Integration.objects.filter(name=ALERT_INTEGRATION).first()
    if existing is not None:
        return existing if seeded(Integration).filter(pk=existing.pk).exists() else None
    bot = seeded(User).filter(username=BOT, is_service_account=True).first()
    if bot is None:
        return None
    integration, _secret = services.integration_create(
        actor=None,
        name=ALERT_INTEGRATION,
        kind=Integration.Kind.ALERTMANAGER,
        service_account=bot,
        default_incident_type=IncidentType.objects.filter(
            slug="customer-facing-outage"
        ).first(),
    )  # the default severity words (incidents.ingestion.severity)
    seed_mark(integration)
    return integration


# --- planning the history (pure data) -------------------------------------------


@dataclass
class Step:
    """One thing that happens to a planned incident, minutes after declaring."""

    minutes: float
    verb: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class PlannedIncident:
    key: int
    type_slug: str
    title: str
    description: str
    impact: str
    flags: dict[str, bool]
    services: list[str]
    sites: list[str]
    suppliers: list[str]
    reporter: str
    alert: str | None
    days_ago: float
    detect_lag: float
    steps: list[Step]
    restricted: bool

    @property
    def span_minutes(self) -> float:
        return self.steps[-1].minutes


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0, sigma))


def _fill(pattern: str, slots: dict[str, str]) -> str:
    return pattern.format_map(slots)


def _used_slots(text: str, names) -> list[str]:
    return [name for name in names if "{" + name + "}" in text]


def _pick_other(rng: random.Random, people, *exclude) -> str | None:
    choices = [p for p in people if p not in exclude]
    return rng.choice(choices) if choices else None


def plan_history(size: int = HISTORY_SIZE) -> list[PlannedIncident]:
    """The historical incidents, as data. Depends on nothing but the seed and the
    content, so titles are the same on every run."""
    rng = random.Random(SEED)
    type_specs = {spec["slug"]: spec for spec in taxonomy.TYPES}
    slugs = list(stories.STORIES)
    weights = [stories.STORIES[slug]["weight"] for slug in slugs]
    seen_titles: set[str] = set()
    plans = []
    for key in range(size):
        slug = rng.choices(slugs, weights)[0]
        story = stories.STORIES[slug]
        spec = type_specs[slug]
        slots = {name: rng.choice(values) for name, values in stories.SLOTS.items()}
        # Redraw a title that was already used: the same kind of incident
        # happens again, but with other specifics.
        for _attempt in range(40):
            story_index = rng.randrange(len(story["titles"]))
            title_pattern = story["titles"][story_index]
            title = _fill(title_pattern, slots)
            if title not in seen_titles:
                break
            slots = {n: rng.choice(v) for n, v in stories.SLOTS.items()}
        seen_titles.add(title)
        # The description and root cause belong to the title's story.
        descriptions = story["descriptions"]
        description_pattern = descriptions[story_index % len(descriptions)]
        impact_pattern = rng.choice(story["impacts"])
        description = _fill(description_pattern, slots)
        impact = _fill(impact_pattern, slots)
        text = " ".join((title_pattern, description_pattern, impact_pattern))
        flags = {
            name: rng.random() < story["flags"].get(name, 0.0)
            for name in ("customer_facing", "data_exposed", "regulatory")
        }
        severity = rng.choices(SEVERITY_CODES, story["severity"])[0]
        restricted = bool(spec.get("restricted"))
        family = spec["family"]

        alert = None
        if story.get("alert") and rng.random() < 0.35:
            alert = rng.choice(story["alert"])
        # Restricted matters are opened by an incident manager, who can then
        # see and staff them.
        reporter = "mia" if restricted else rng.choices(REPORTERS, REPORTER_WEIGHTS)[0]
        commander = rng.choices(COMMANDERS, COMMANDER_WEIGHTS)[0]
        claims = (
            commander != "mia"
            and not restricted
            and reporter != "mia"
            and rng.random() < 0.5
        )
        human_declared = family in (taxonomy.SUPPLY_CHAIN, taxonomy.COMPLIANCE)
        tta = max(
            1.0,
            _lognormal(rng, TTA_MEDIAN_MINUTES[severity], 0.8)
            * (1.6 if human_declared else 1.0),
        )
        confirm_lag = max(1.0, _lognormal(rng, 3, 0.6))
        ttr_minutes = 60 * max(
            0.5,
            min(
                45 * 24,
                _lognormal(
                    rng, story["ttr"] * TTR_FACTOR[severity], TTR_SIGMA[severity]
                ),
            ),
        )
        detect_lag = rng.uniform(0, 4) if alert else _lognormal(rng, 12, 1.0)

        steps = []
        t = tta
        steps.append(
            Step(
                t,
                "assign",
                {
                    "role": COMMANDER,
                    "user": commander,
                    "actor": commander if claims else "mia",
                },
            )
        )
        t += confirm_lag
        confirmer = commander if commander == "mia" or rng.random() < 0.7 else "mia"
        steps.append(
            Step(
                t,
                "confirm",
                {
                    "severity": severity,
                    "actor": confirmer,
                    "reason": rng.choice(stories.SEVERITY_REASONS[severity]),
                },
            )
        )
        t += rng.uniform(1, 4)
        steps.append(
            Step(t, "transition", {"status": "investigating", "actor": commander})
        )

        # Supporting roles: comms for the severe ones, a scribe for SEV-1, and
        # the family's specialist.
        helpers: dict[str, str] = {}
        if severity in ("SEV-1", "SEV-2") and rng.random() < 0.85:
            helpers[COMMUNICATIONS] = "carl"
        if severity == "SEV-1":
            helpers[SCRIBE] = _pick_other(rng, ("rita", "omar"), commander)
        if family == taxonomy.SERVICE_OUTAGE and severity in ("SEV-1", "SEV-2"):
            helpers[OPERATIONS] = _pick_other(
                rng, ("omar", "rita"), commander, helpers.get(SCRIBE)
            ) or _pick_other(rng, ("omar", "rita"), commander)
        if family == taxonomy.SECURITY and rng.random() < 0.7:
            helpers["security-lead"] = _pick_other(rng, ("omar", "rita"), commander)
        if family == taxonomy.SUPPLY_CHAIN and severity != "SEV-4":
            helpers["supplier-liaison"] = _pick_other(rng, ("rita", "omar"), commander)
        for role, person in helpers.items():
            if person:
                t += rng.uniform(1, 8)
                steps.append(
                    Step(
                        t, "assign", {"role": role, "user": person, "actor": commander}
                    )
                )

        start = t + 1
        resolve_at = max(ttr_minutes, start + 30)
        window = resolve_at - start

        def at(fraction: float, start=start, window=window) -> float:
            return start + fraction * window

        writers = [commander] + [
            p for r, p in helpers.items() if p and r != COMMUNICATIONS
        ]
        for note in rng.sample(
            story["notes"], k=min(len(story["notes"]), 1 + rng.randrange(3))
        ):
            steps.append(
                Step(
                    at(rng.uniform(0.03, 0.8)),
                    "note",
                    {"actor": rng.choice(writers), "body": _fill(note, slots)},
                )
            )
        low, high = UPDATES_PER_SEVERITY.get(severity, (0, 0))
        update_count = rng.randint(low, high)
        author = helpers.get(COMMUNICATIONS, commander)
        for update in rng.sample(
            stories.UPDATES[family], k=min(update_count, len(stories.UPDATES[family]))
        ):
            steps.append(
                Step(
                    at(rng.uniform(0.05, 0.9)),
                    "update",
                    {"actor": author, "body": _fill(update, slots)},
                )
            )
        if rng.random() < 0.1:
            rank = SEVERITY_CODES.index(severity)
            direction = (
                "raise" if rank > 0 and (rank == 3 or rng.random() < 0.5) else "lower"
            )
            new = SEVERITY_CODES[rank - 1 if direction == "raise" else rank + 1]
            steps.append(
                Step(
                    at(rng.uniform(0.05, 0.3)),
                    "confirm",
                    {
                        "severity": new,
                        "actor": commander,
                        "reason": rng.choice(stories.RERATE_REASONS[direction]),
                    },
                )
            )
        for index in range(8):
            if rng.random() < 0.75:
                steps.append(
                    Step(
                        at(rng.uniform(0.1, 0.98)),
                        "complete_action",
                        {"index": index, "actor": commander},
                    )
                )
        if severity in ("SEV-1", "SEV-2") or rng.random() < 0.3:
            steps.append(
                Step(
                    at(rng.uniform(0.4, 0.85)),
                    "transition",
                    {"status": "mitigated", "actor": commander},
                )
            )
        # Before resolving, the commander closes out what the fix made moot, as
        # teams do: history leaves nobody with stale open actions.
        steps.append(Step(resolve_at - 0.5, "tidy_actions", {"actor": commander}))
        resolution = story_index % len(story["causes"])
        cause = _fill(story["causes"][resolution], slots)
        fix = _fill(story["fixes"][resolution], slots)
        steps.append(
            Step(
                resolve_at,
                "transition",
                {
                    "status": "resolved",
                    "actor": commander,
                    "note": rng.choice(stories.RESOLVE_NOTES),
                    "resolution_summary": f"{cause} {fix}",
                },
            )
        )
        if author and severity in ("SEV-1", "SEV-2"):
            steps.append(
                Step(
                    resolve_at + rng.uniform(2, 15),
                    "update",
                    {"actor": author, "body": rng.choice(stories.CLOSING_UPDATES)},
                )
            )
        if rng.random() < 0.75:
            steps.append(
                Step(
                    resolve_at + 60 * rng.uniform(20, 240),
                    "transition",
                    {"status": "closed", "actor": rng.choice((commander, "mia"))},
                )
            )
        steps.sort(key=lambda s: s.minutes)

        span_days = steps[-1].minutes / 1440
        earliest = math.ceil(span_days) + 2
        # The oldest incident sits at the start of the window, so the history
        # always spans the full 18 months.
        position = 1.0 if key == 0 else rng.random()
        days_ago = earliest + position * max(0, HISTORY_DAYS - earliest)
        # Most reports arrive in working hours; alerts at any time.
        hour = (
            rng.uniform(0, 24)
            if alert
            else rng.choice((8, 9, 10, 11, 13, 14, 15, 16, 19, 2)) + rng.random()
        )

        plans.append(
            PlannedIncident(
                key=key,
                type_slug=slug,
                title=title,
                description=description,
                impact=impact,
                flags=flags,
                services=[slots[n] for n in _used_slots(text, stories.SERVICE_SLOTS)],
                sites=[slots[n] for n in _used_slots(text, stories.SITE_SLOTS)],
                suppliers=[slots[n] for n in _used_slots(text, stories.SUPPLIER_SLOTS)],
                reporter=reporter,
                alert=alert,
                days_ago=math.floor(days_ago) + hour / 24,
                detect_lag=detect_lag,
                steps=steps,
                restricted=restricted,
            )
        )
    return plans


# --- the incidents active now -----------------------------------------------------

# Each: declare kwargs, minutes ago it was declared, and steps in minutes after
# declaring (as in the history).
ACTIVE = [
    {
        "title": "Checkout API returning 502s for customers in Germany",
        "description": "Alertmanager: HighErrorRate on checkout-api in eu-central-1, "
        "5xx ratio 14% over 5 minutes. Synthetic checkout probe failing from "
        "Frankfurt.",
        "impact": "Customers in Germany cannot complete orders.",
        "customer_facing": True,
        "affected_services": ["checkout-api"],
        "reporter": BOT,
        "alert": "HighErrorRate",
        "minutes_ago": 7,
        "steps": [],
    },
    {
        "title": "Unusual spike in password-reset requests on the customer portal",
        "description": "Password-reset e-mails up 40x in the last half hour, mostly "
        "for accounts that have not logged in for a year. Possible credential "
        "stuffing ahead of an account-takeover attempt.",
        "type": "account-compromise",
        "affected_services": ["customer-portal", "identity-provider"],
        "reporter": "carl",
        "minutes_ago": 26,
        "steps": [
            Step(9, "assign", {"role": COMMANDER, "user": "rita", "actor": "rita"})
        ],
    },
    {
        "title": "Payments gateway timeouts: card payments failing in eu-west-1",
        "description": "Card authorisations time out after 30 s for about a third of "
        "attempts in eu-west-1; PayPal and invoice payments work. The payment "
        "provider's status page shows no incident.",
        "impact": "Roughly 30% of card payments fail; customers retry or abandon.",
        "type": "customer-facing-outage",
        "customer_facing": True,
        "affected_services": ["payments-gateway", "checkout-api"],
        "reporter": "rita",
        "minutes_ago": 95,
        "steps": [
            Step(4, "assign", {"role": COMMANDER, "user": "mia", "actor": "mia"}),
            Step(
                6,
                "confirm",
                {
                    "severity": "SEV-1",
                    "actor": "mia",
                    "reason": "Customer-facing, revenue impact, no workaround "
                    "for card payments.",
                },
            ),
            Step(8, "transition", {"status": "investigating", "actor": "mia"}),
            Step(
                10, "assign", {"role": COMMUNICATIONS, "user": "carl", "actor": "mia"}
            ),
            Step(11, "assign", {"role": OPERATIONS, "user": "omar", "actor": "mia"}),
            Step(
                14,
                "update",
                {
                    "actor": "carl",
                    "body": "We are investigating failed card payments in "
                    "eu-west-1. Other payment methods work. Next update in 30 "
                    "minutes.",
                },
            ),
            Step(
                25,
                "note",
                {
                    "actor": "omar",
                    "body": "Connection pool to the payment provider saturated; "
                    "TLS handshakes taking 8-12 s from the NAT gateway.",
                },
            ),
            Step(30, "complete_action", {"index": 0, "actor": "mia"}),
            Step(33, "complete_action", {"index": 1, "actor": "omar"}),
            Step(
                43,
                "update",
                {
                    "actor": "carl",
                    "body": "Cause narrowed to outbound connections from eu-west-1. "
                    "We are moving payment traffic to eu-central-1.",
                },
            ),
            Step(
                60,
                "note",
                {
                    "actor": "omar",
                    "body": "Shifted 50% of payment traffic to eu-central-1; "
                    "error rate there normal.",
                },
            ),
        ],
    },
    {
        "title": "Customer export with 14,800 records sent to the wrong partner",
        "description": "The weekly loyalty export (names, e-mail and postal "
        "addresses, order totals) was delivered by SFTP to a marketing agency "
        "instead of the loyalty provider. Discovered when the agency asked what "
        "the file was for.",
        "impact": "Personal data of about 14,800 customers disclosed to an "
        "unauthorised recipient.",
        "type": "personal-data-breach",
        "data_exposed": True,
        "regulatory": True,
        "affected_services": ["loyalty-service"],
        "reporter": "mia",
        "detect_lag": 35,
        "minutes_ago": 20 * 60 - 35,
        "steps": [
            Step(3, "assign", {"role": COMMANDER, "user": "mia", "actor": "mia"}),
            Step(
                5,
                "confirm",
                {
                    "severity": "SEV-1",
                    "actor": "mia",
                    "reason": "Personal-data breach; GDPR Art. 33 clock running.",
                },
            ),
            Step(7, "transition", {"status": "investigating", "actor": "mia"}),
            Step(
                9, "assign", {"role": "security-lead", "user": "omar", "actor": "mia"}
            ),
            Step(
                12, "assign", {"role": COMMUNICATIONS, "user": "carl", "actor": "mia"}
            ),
            Step(
                40,
                "note",
                {
                    "actor": "omar",
                    "body": "SFTP credentials for the agency revoked; transfer "
                    "logs preserved. One download of the file by the agency.",
                },
            ),
            Step(45, "complete_action", {"index": 0, "actor": "omar"}),
            Step(70, "complete_action", {"index": 1, "actor": "omar"}),
            Step(
                180,
                "note",
                {
                    "actor": "mia",
                    "body": "Agency has confirmed deletion in writing; DPO assessing "
                    "risk to data subjects. Legal liaison still to be named.",
                },
            ),
        ],
    },
    {
        "title": "Northwind Logistics strike: outbound shipments from Rotterdam DC delayed",
        "description": "Northwind Logistics drivers in the Netherlands are on a 48-hour "
        "strike. Outbound parcels from Rotterdam DC are not being collected; about "
        "3,400 customer orders are due to ship in that window.",
        "impact": "Next-day deliveries in the Benelux slip by one to two days.",
        "type": "logistics-delay",
        "customer_facing": True,
        "affected_sites": ["Rotterdam DC"],
        "affected_suppliers": ["Northwind Logistics"],
        "reporter": "omar",
        "minutes_ago": 2 * 24 * 60,
        "steps": [
            Step(25, "assign", {"role": COMMANDER, "user": "omar", "actor": "omar"}),
            Step(
                31,
                "confirm",
                {
                    "severity": "SEV-2",
                    "actor": "omar",
                    "reason": "Customer deliveries late; cross-team response.",
                },
            ),
            Step(33, "transition", {"status": "investigating", "actor": "omar"}),
            Step(
                40,
                "assign",
                {"role": "supplier-liaison", "user": "rita", "actor": "omar"},
            ),
            Step(
                180,
                "note",
                {
                    "actor": "rita",
                    "body": "Tailspin Freight can take 60% of the volume from "
                    "tomorrow 06:00.",
                },
            ),
            Step(200, "complete_action", {"index": 0, "actor": "rita"}),
            Step(
                260,
                "update",
                {
                    "actor": "omar",
                    "body": "About 3,400 orders affected. Tailspin Freight takes "
                    "over most of the volume from tomorrow morning.",
                },
            ),
            Step(
                2 * 24 * 60 - 200,
                "transition",
                {"status": "mitigated", "actor": "omar"},
            ),
            Step(
                2 * 24 * 60 - 190,
                "update",
                {
                    "actor": "omar",
                    "body": "Mitigated: Tailspin Freight is collecting at Rotterdam "
                    "DC; the backlog should clear by tomorrow evening.",
                },
            ),
        ],
    },
    {
        "title": "Handheld scanners at Leipzig hub dropping off Wi-Fi",
        "description": "Since the access-point firmware update last night, about one "
        "in five handhelds at the Leipzig hub loses its connection every few "
        "minutes. Pickers re-scan; throughput is down about 8%.",
        "type": "site-disruption",
        "affected_sites": ["Leipzig hub"],
        "reporter": "rita",
        "minutes_ago": 5 * 60,
        "steps": [
            Step(18, "assign", {"role": COMMANDER, "user": "rita", "actor": "rita"}),
            Step(
                25,
                "confirm",
                {
                    "severity": "SEV-3",
                    "actor": "rita",
                    "reason": "Internal disruption; workaround in place.",
                },
            ),
            Step(27, "transition", {"status": "investigating", "actor": "rita"}),
            Step(
                90,
                "note",
                {
                    "actor": "rita",
                    "body": "Vendor confirms a roaming bug in the new firmware; "
                    "rollback scheduled for the shift change.",
                },
            ),
        ],
    },
]


# --- creating incidents through the services --------------------------------------


class _Runner:
    """Executes planned steps against the services, in time order."""

    def __init__(self, *, users, types, levels, roles, integration):
        self.users = users
        self.types = types
        self.levels = levels
        self.roles = roles
        self.integration = integration

    def declare(self, spec: dict, *, at: datetime, detected_at: datetime) -> Incident:
        reporter = self.users[spec["reporter"]]
        alert = spec.get("alert")
        integration = self.integration if alert else None
        if alert and integration is None:
            reporter = self.users["rita"]
        dedup_key = ""
        if integration is not None:
            # Alertmanager's groupKey: the route's matchers and the grouping
            # labels; the incident key keeps repeats of one alert apart.
            service = (spec.get("affected_services") or ["unknown"])[0]
            dedup_key = (
                f'{{}}/{{severity="critical"}}:{{alertname="{alert}", '
                f'service="{service}", incident="{spec["key"]}"}}'
            )
            reporter = integration.service_account
        return services.incident_declare(
            actor=reporter,
            title=spec["title"],
            description=spec.get("description", ""),
            impact=spec.get("impact", ""),
            incident_type=self.types.get(spec.get("type")),
            customer_facing=spec.get("customer_facing", False),
            data_exposed=spec.get("data_exposed", False),
            regulatory=spec.get("regulatory", False),
            affected_services=spec.get("affected_services"),
            affected_sites=spec.get("affected_sites"),
            affected_suppliers=spec.get("affected_suppliers"),
            detected_at=detected_at,
            now=at,
            integration=integration,
            dedup_key=dedup_key,
        )

    def run(self, incident: Incident, step: Step, at: datetime) -> None:
        args = step.args
        actor = self.users[args["actor"]]
        if step.verb == "assign":
            services.incident_assign_role(
                incident=incident,
                actor=actor,
                role=self.roles[args["role"]],
                user=self.users[args["user"]],
                now=at,
            )
        elif step.verb == "confirm":
            if incident.severity_id == self.levels[args["severity"]].pk:
                return
            services.incident_confirm_severity(
                incident=incident,
                actor=actor,
                severity=self.levels[args["severity"]],
                reason=args["reason"],
                now=at,
            )
        elif step.verb == "transition":
            services.incident_transition(
                incident=incident,
                actor=actor,
                status=args["status"],
                note=args.get("note", ""),
                resolution_summary=args.get("resolution_summary"),
                now=at,
            )
        elif step.verb == "note":
            services.incident_add_note(
                incident=incident, actor=actor, body=args["body"], now=at
            )
        elif step.verb == "update":
            services.stakeholder_update_post(
                incident=incident, actor=actor, body=args["body"], now=at
            )
        elif step.verb == "complete_action":
            actions = list(incident.actions.order_by("pk").select_related("owner"))
            if args["index"] >= len(actions):
                return
            action = actions[args["index"]]
            if action.is_finished:
                return
            # The owner completes their own action when they are on the incident.
            doer = action.owner if action.owner and action.owner.is_human else actor
            services.action_complete(action=action, actor=doer, now=at)
        elif step.verb == "tidy_actions":
            for action in incident.actions.exclude(
                status__in=(ActionItem.Status.DONE, ActionItem.Status.CANCELLED)
            ).order_by("pk"):
                services.action_update(
                    action=action,
                    actor=actor,
                    status=ActionItem.Status.CANCELLED,
                    now=at,
                )
        else:  # pragma: no cover - a planning mistake
            raise ValueError(f"Unknown step {step.verb!r}")


def demo_labelled_incidents() -> list:
    """The demo history as the nightly training sees it after ``seed_demo``: one
    ``triage_model.LabelledIncident`` per planned incident (title, description,
    impact, flags and tags as declared; the type; the last severity confirmed),
    without writing anything. Used to measure what a model trained on the demo
    does to the suggestion (``evaluate_triage --suggester demo-model``)."""
    from incidents.triage import Report
    from incidents.triage_model import LabelledIncident

    rows = []
    plans = plan_history()
    # In the order seed_demo declares them (their primary keys' order, which
    # decides the training's held-out split).
    plans.sort(key=lambda p: (-math.floor(p.days_ago) + p.days_ago % 1, p.key))
    for plan in plans:
        confirmations = sorted(
            (step for step in plan.steps if step.verb == "confirm"),
            key=lambda step: step.minutes,
        )
        report = Report(
            title=plan.title,
            description=plan.description,
            impact=plan.impact,
            affected_services=tuple(plan.services),
            affected_sites=tuple(plan.sites),
            affected_suppliers=tuple(plan.suppliers),
            **plan.flags,
        )
        rows.append(
            LabelledIncident(
                plan.key,
                report,
                plan.type_slug,
                confirmations[-1].args["severity"],
            )
        )
    return rows


def _plan_spec(plan: PlannedIncident) -> dict:
    return {
        "key": plan.key,
        "title": plan.title,
        "description": plan.description,
        "impact": plan.impact,
        "type": plan.type_slug,
        "affected_services": plan.services,
        "affected_sites": plan.sites,
        "affected_suppliers": plan.suppliers,
        "reporter": plan.reporter,
        "alert": plan.alert,
        **plan.flags,
    }


def _load(runner: _Runner, items: list[tuple[dict, datetime, float, list[Step]]]):
    """Declare each incident and run every step, all in global time order, so
    references follow the calendar and triage only ever sees the past."""
    queue = []
    for index, (_spec, declared_at, _lag, steps) in enumerate(items):
        queue.append((declared_at, index, -1, None))
        for order, step in enumerate(steps):
            queue.append(
                (declared_at + timedelta(minutes=step.minutes), index, order, step)
            )
    queue.sort(key=lambda item: item[:3])
    incidents: dict[int, Incident] = {}
    for at, index, _order, step in queue:
        spec, declared_at, detect_lag, _steps = items[index]
        if step is None:
            incidents[index] = runner.declare(
                spec, at=at, detected_at=at - timedelta(minutes=detect_lag)
            )
            seed_mark(incidents[index])
        else:
            runner.run(incidents[index], step, at)
    return list(incidents.values())


def seed_demo(*, stdout) -> None:
    """Load the incident core's demo data (see the module docstring).

    Changes: severity levels (only missing ones or empty criteria), custom roles,
    incident types, playbooks and steps (only missing ones), the demo teams and
    services (``incidents.demo.catalog``, only missing ones), an Alertmanager
    integration, then, once, 300 historical and a few active incidents with their
    timelines, assignments, actions and stakeholder updates, all through
    ``incidents.services``. Sends nothing (``events.history_import``).
    """
    levels = seed_severity_framework()
    roles = seed_roles()
    types = seed_incident_types(levels)
    seed_playbooks(types, levels, roles)
    seed_catalog(stdout=stdout)

    plans = plan_history()
    keys = {plan.title for plan in plans} | {spec["title"] for spec in ACTIVE}
    present = Incident.objects.filter(title__in=keys).values("title").distinct().count()
    if present and not seeded(Incident).exists():
        # Loaded before the seed marked its rows: nothing tells the demo's
        # incidents from people's, so none is touched again.
        stdout.write("Demo incidents present but not marked; left as they are.")
        return
    if present:
        if present < len(keys):
            stdout.write(
                f"Demo incidents partly present ({present} of {len(keys)}); "
                "left as they are."
            )
        return

    usernames = {"mia", "rita", "omar", "carl", BOT}
    users = {u.username: u for u in seeded(User).filter(username__in=usernames)}
    if set(users) != usernames:
        stdout.write(
            "Demo users missing (or made by someone else); incident history not loaded."
        )
        return
    integration = seed_alert_integration()
    runner = _Runner(
        users=users, types=types, levels=levels, roles=roles, integration=integration
    )

    now = timezone.now().replace(second=0, microsecond=0)
    # Whole days back from today's midnight, then the planned hour: the history's
    # shape is the same whatever time of day the seed runs.
    midnight = now.replace(hour=0, minute=0)
    history = [
        (
            _plan_spec(plan),
            midnight
            - timedelta(days=math.floor(plan.days_ago))
            + timedelta(days=plan.days_ago % 1),
            plan.detect_lag,
            plan.steps,
        )
        for plan in plans
    ]
    active = [
        (
            {**spec, "key": f"active-{index}"},
            now - timedelta(minutes=spec["minutes_ago"]),
            spec.get("detect_lag", 2),
            spec["steps"],
        )
        for index, spec in enumerate(ACTIVE)
    ]
    with events.history_import():
        past = _load(runner, history)
        current = _load(runner, active)
    stdout.write(
        f"Demo incidents loaded: {len(past)} historical, {len(current)} active."
    )
    seed_triage_model(stdout=stdout)


def seed_triage_model(*, stdout) -> None:
    """Train the triage model once on the demo history, if no version exists
    (the nightly task retrains it afterwards)."""
    if TriageModel.objects.exists():
        return
    model = triage_model_train()
    if model is None:
        stdout.write("Triage model not trained: too few labelled incidents.")
        return
    seed_mark(model)
    stdout.write(
        f"Triage model v{model.version} trained on {model.sample_count} incidents: "
        f"type {model.type_accuracy:.0%} held-out (keywords "
        f"{model.baseline_type_accuracy:.0%}), severity "
        f"{model.severity_accuracy or 0:.0%} (rules "
        f"{model.baseline_severity_accuracy or 0:.0%})."
    )
