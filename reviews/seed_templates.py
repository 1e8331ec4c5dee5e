"""Demo review templates: one per incident family, a stricter one for
personal-data breaches, and a default. An outage review asks about users,
detection and the change that triggered it; a breach review asks what data,
whose, which authority was told and when; a supplier review asks about the
contract and the alternative supply. Idempotent: a template that exists by
name is left as the administrators keep it."""

from __future__ import annotations

from incidentops.seed import seed_mark
from incidents.models import IncidentFamily, IncidentType, SeverityLevel
from reviews.models import ReviewTemplate, ReviewTemplateSection

# (key, title, guidance, required)
COMMON_END = [
    ("root_cause", "Root cause", "The cause in one or two sentences.", True),
    ("went_well", "What went well", "", False),
    ("went_poorly", "What went poorly", "", False),
    ("lessons", "Lessons", "What the next responder should know.", True),
]

# Questions whose first draft comes from the record.
DRAFTED_FROM = {"authority-notified": "regulatory_notifications"}

TEMPLATES = [
    {
        "name": "Service outage review",
        "family": "service-outage",
        "guidance": "Blameless: describe systems and decisions, not people's faults.",
        "sections": [
            ("summary", "Summary", "What broke, for whom, for how long.", True),
            (
                "customer_impact",
                "Customer impact",
                "Which users and regions saw errors or slowness, and for how long.",
                True,
            ),
            (
                "detection",
                "How was it detected, and could monitoring have caught it sooner?",
                "Alert, customer report or a person noticing; the gap to impact start.",
                True,
            ),
            (
                "trigger",
                "Which change or event triggered it?",
                "A deploy, a configuration change, load, a dependency; link the change.",
                False,
            ),
            ("response", "How the response went", "", False),
            *COMMON_END,
        ],
    },
    {
        "name": "Personal-data breach review",
        "type": "personal-data-breach",
        "guidance": "Restricted: write only what the readers of this incident may "
        "know. Record the facts the breach register needs (GDPR Art. 33(5)).",
        "sections": [
            ("summary", "Summary", "What was exposed, to whom, how it ended.", True),
            (
                "data-exposed",
                "What data was exposed?",
                "Categories and fields (e.g. names, e-mail addresses, order "
                "history, payment data); special categories named.",
                True,
            ),
            (
                "data-subjects",
                "Whose data, and how many people?",
                "Customers, employees, children; how many; which countries.",
                True,
            ),
            (
                "authority-notified",
                "Which authority was told, and when?",
                "The lead supervisory authority, the reference of the "
                "notification, and the time against the 72-hour deadline; or why "
                "it was not notified.",
                True,
            ),
            (
                "subjects-told",
                "Were the people affected told?",
                "When and how (Art. 34), or why not.",
                True,
            ),
            ("business_impact", "Business impact", "", False),
            ("response", "How the response went", "", False),
            *COMMON_END,
        ],
    },
    {
        "name": "Security incident review",
        "family": "security-data-breach",
        "guidance": "Restricted: write only what the readers of this incident may know.",
        "sections": [
            ("summary", "Summary", "", True),
            (
                "entry-point",
                "How did the attacker or the exposure get in?",
                "The first access, the vulnerability or the mistake.",
                True,
            ),
            (
                "accessed",
                "What was accessed or changed?",
                "Systems, accounts and data; what is known and what is not.",
                True,
            ),
            (
                "authority-notified",
                "Who outside was told, and when?",
                "Authorities, card brands, CSIRT, customers; against any deadline.",
                False,
            ),
            ("response", "How the response went", "", False),
            *COMMON_END,
        ],
    },
    {
        "name": "Supplier and supply-chain review",
        "family": "supply-chain-disruption",
        "guidance": "Name the supplier and the commitment that was not met.",
        "sections": [
            ("summary", "Summary", "", True),
            (
                "supplier",
                "Which supplier, and what did the contract or SLA promise?",
                "The supplier, the commitment, when they told us.",
                True,
            ),
            (
                "orders-affected",
                "Which orders, sites and customers were affected?",
                "Units, days of delay, sites; the customers told.",
                True,
            ),
            (
                "alternative",
                "What alternative supply was used, and what would we use next time?",
                "",
                False,
            ),
            ("business_impact", "Business impact", "Cost, penalties, revenue.", False),
            *COMMON_END,
        ],
    },
    {
        "name": "Compliance event review",
        "family": "compliance-event",
        "guidance": "State the obligation and the evidence kept.",
        "sections": [
            ("summary", "Summary", "", True),
            (
                "obligation",
                "Which obligation or filing was affected?",
                "The regulation, the report or the policy; the period.",
                True,
            ),
            (
                "authority-notified",
                "Which regulator was told, and when?",
                "Self-reporting decision, reference and date; or why not.",
                True,
            ),
            (
                "control",
                "Which control failed, and how is it fixed?",
                "",
                True,
            ),
            *COMMON_END,
        ],
    },
    {
        "name": "Post-incident review",
        "guidance": "",
        "sections": [
            ("summary", "Summary", "", True),
            ("customer_impact", "Customer impact", "", False),
            ("response", "How the response went", "", False),
            *COMMON_END,
        ],
    },
]


def seed_templates() -> int:
    """Create the demo templates that do not exist yet; returns how many."""
    created = 0
    for spec in TEMPLATES:
        if ReviewTemplate.objects.filter(name=spec["name"]).exists():
            continue
        template = ReviewTemplate.objects.create(
            name=spec["name"],
            guidance=spec["guidance"],
            family=IncidentFamily.objects.filter(slug=spec.get("family")).first()
            if spec.get("family")
            else None,
            incident_type=IncidentType.objects.filter(slug=spec.get("type")).first()
            if spec.get("type")
            else None,
            severity=SeverityLevel.objects.filter(code=spec.get("severity")).first()
            if spec.get("severity")
            else None,
        )
        seed_mark(template)
        for order, (key, title, guidance, required) in enumerate(
            spec["sections"], start=1
        ):
            ReviewTemplateSection.objects.create(
                template=template,
                order=order,
                key=key,
                title=title,
                guidance=guidance,
                required=required,
                drafted_from=DRAFTED_FROM.get(key, ""),
            )
        created += 1
    return created
