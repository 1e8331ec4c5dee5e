"""Demo reviews for the historical incidents the incidents seed creates.

Their reviews (and batch entries) already exist: the resolve event filed them
while history was imported. This moves them through the workflow as the
organisation would have, back-dated and inside ``history_import()`` so nobody
is notified, and every step through ``reviews.services`` and its rules:

* batch reviews whose due date has passed were worked through and completed by
  their owner group (mostly "no action", some follow-ups with a ticket, one
  promoted to a full review, since published); batches not yet due are half
  worked through;
* individual reviews are published with five whys, factors and follow-ups (one
  done, one still open) drawn from the incident's own story (the root cause and
  fix of its resolution summary, its family, what it affected), approved by
  the groups the policy names (Eve for the executives, Rob for the reviewers);
  the (up to) two next due are in review, a newer one is still a draft, and
  the last one that fell due is an overdue draft — so the first sweep sends a
  handful of alerts, not a storm.

Approvers must be able to see the incident. Restricted incidents are visible to
the groups their type names (Executives for all of them), so their reviewer
approval comes from Rhea, a member of both Reviewers and Executives whom this
seed adds to the demo users: the rules are kept, nobody is granted anything
behind them.

Idempotent, and it touches only what the seed made: reviews of the incidents
the incidents seed created (``incidentops.seed.seeded``), owned by a demo user;
batch reviews all of whose entries are such incidents; and of those only blank
reviews and undecided entries, so a second run changes nothing and the reviews
and batches of people's own incidents are never written, submitted or approved.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from incidentops import groups
from incidentops.exceptions import DomainError, InvalidTransition
from incidentops.models import User
from incidentops.seed import DEMO_PASSWORD, demo_users, seed_mark, seeded
from incidentops.services import user_create
from incidentops.timezones import local_instant
from incidents import permissions as incident_permissions
from incidents.events import history_import
from incidents.models import Incident
from reviews import permissions, services
from reviews.models import (
    BatchReview,
    BatchReviewItem,
    ContributingFactorCategory,
    FollowUp,
    Review,
)
from reviews.policy import END_OF_DAY, add_business_days
from reviews.seed_templates import seed_templates

# What a review says beyond the incident's own story, per incident family: the
# second why and its answer, the business impact, what went well or poorly,
# luck, the lesson, and the factor category the family points at first.
FAMILY_TEXT = {
    "service-outage": {
        "why": "Why did it reach customers before our checks caught it?",
        "because": "Neither the release checks nor the monitoring covered this "
        "failure mode.",
        "business_impact": "Support contacts rose; no contractual penalty.",
        "went_well": "The commander was in place within minutes and the rollback "
        "path was known.",
        "went_poorly": "Customers noticed before our alerts did.",
        "got_lucky": "It happened outside the busiest hours.",
        "lessons": "Alert on the saturation that precedes the failure, not only "
        "on the errors it causes.",
        "category": "technology",
    },
    "security-data-breach": {
        "why": "Why was the exposure possible?",
        "because": "The control that should have stopped it was missing or not "
        "enforced on this path.",
        "business_impact": "Legal and the DPO assessed notification duties; the "
        "decision is on the record.",
        "went_well": "Containment started quickly and evidence was preserved.",
        "went_poorly": "Establishing the scope took longer than it should have.",
        "got_lucky": "The exposure was found before the data was misused.",
        "lessons": "Every exception to a control needs an owner and an end date.",
        "category": "process",
    },
    "supply-chain-disruption": {
        "why": "Why did it disrupt our operations?",
        "because": "The plan had no alternative ready for this line: no second "
        "source, route or buffer.",
        "business_impact": "Some customer orders shipped late; expediting cost extra.",
        "went_well": "Sales had the list of affected orders early.",
        "went_poorly": "We learned of the disruption from the symptoms, not from "
        "the partner.",
        "got_lucky": "Stock cover on the priority lines lasted just long enough.",
        "lessons": "Keep an alternative qualified for every single-threaded "
        "supply path.",
        "category": "supplier",
    },
    "compliance-event": {
        "why": "Why did our own checks not catch it?",
        "because": "No control verified the requirement before it fell due.",
        "business_impact": "Remediation effort; the regulator-facing decision is "
        "recorded.",
        "went_well": "Compliance and legal were engaged at once.",
        "went_poorly": "The gap had existed for some time before anyone noticed.",
        "got_lucky": "It was found internally rather than by the regulator.",
        "lessons": "Give every recurring obligation an owner and a check that "
        "fails loudly.",
        "category": "compliance",
    },
}
DEFAULT_FAMILY = "service-outage"

# Words in the cause or fix that point at a contributing-factor category; the
# first categories found, then the family's, make a review's factors.
FACTOR_WORDS = [
    (
        "change",
        (
            "change",
            "deploy",
            "release",
            "migration",
            "upgrade",
            "flag",
            "renamed",
            "script",
            "reverted",
        ),
    ),
    ("monitoring", ("alert", "monitor", "silently", "mailbox nobody")),
    (
        "supplier",
        (
            "supplier",
            "vendor",
            "third-party",
            "carrier",
            "provider",
            "partner",
            "manufacturer",
            "grid operator",
        ),
    ),
    (
        "external",
        (
            "storm",
            "industrial action",
            "market-wide",
            "phishing",
            "ransomware",
            "compromised",
            "lookalike",
        ),
    ),
    (
        "people",
        (
            "shift",
            "owner left",
            "reassigned",
            "resignation",
            "password",
            "downloaded by a user",
            "by hand",
            "rostering",
        ),
    ),
    (
        "process",
        (
            "forecast",
            "not reviewed",
            "not done",
            "not communicated",
            "not reassigned",
            "not reduced",
            "not enforced",
            "procedure",
        ),
    ),
    ("compliance", ("regulat", "rule change", "compliance", "required since")),
    (
        "technology",
        (
            "limit",
            "certificate",
            "index",
            "heap",
            "quota",
            "kernel",
            "disk",
            "timeout",
            "connections",
            "dns",
            "autoscaler",
        ),
    ),
]
# "Root cause: <one sentence> <the fix>": the fix starts at the first sentence
# after the cause.
STORY = re.compile(
    r"^\s*Root cause:\s*(?P<cause>.+?[.;])(?:\s+(?P<fix>[A-Z].+))?$", re.S
)

# username, (first, last), groups
RISK_REVIEWER = ("rhea", ("Rhea", "Risk"), [groups.REVIEWERS, groups.EXECUTIVES])
# The newest reviews: one draft, then this many in review.
IN_REVIEW = 2

Disposition = BatchReviewItem.Disposition


def seed_reviews(*, stdout, now: datetime | None = None) -> None:
    """Advance the demo batches and reviews to realistic states (idempotent)."""
    now = now or timezone.now()
    people = _people()
    if people.get("rob") is None:
        return
    with history_import():
        batch_counts = _seed_batches(people, now)
        review_counts = _seed_reviews(people, now)
    # After the history: the reviews written above predate the templates,
    # which apply to the reviews written from now on.
    templates = seed_templates()
    if templates:
        stdout.write(f"Demo review templates: {templates} created.")
    if any(batch_counts.values()) or any(review_counts.values()):
        stdout.write(
            "Demo reviews: "
            + ", ".join(f"{n} {state}" for state, n in review_counts.items())
            + "; batch reviews: "
            + ", ".join(f"{n} {state}" for state, n in batch_counts.items())
            + "."
        )


def _people() -> dict[str, User]:
    """The demo approvers and owners the seed created (Rhea added when Rob and
    Eve are the seed's)."""
    username, (first, last), group_names = RISK_REVIEWER
    if (
        seeded(User).filter(username__in=("rob", "eve")).count() == 2
        and not User.objects.filter(username=username).exists()
    ):
        rhea = user_create(
            actor=None,
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            password=DEMO_PASSWORD,
            groups=list(Group.objects.filter(name__in=group_names)),
        )
        seed_mark(rhea)
    return demo_users(("mia", "rob", "eve", "rhea"))


def _demo_batches():
    """Open batch reviews that hold entries, all of them demo incidents: a batch
    with one entry of someone's incident is theirs to work through."""
    people_entries = BatchReviewItem.objects.exclude(
        incident__in=seeded(Incident)
    ).values("batch")
    return (
        BatchReview.objects.filter(status=BatchReview.Status.OPEN, items__isnull=False)
        .exclude(pk__in=people_entries)
        .distinct()
    )


def _first_who_may(candidates, check):
    return next((user for user in candidates if user and check(user)), None)


# --- batch reviews ----------------------------------------------------------------


def _seed_batches(people: dict, now: datetime) -> dict[str, int]:
    counts = {"completed": 0, "in progress": 0}
    batches = list(
        _demo_batches()
        .select_related("severity", "owner_group")
        .order_by("period_start", "severity__rank")
    )
    # The candidates of each owner group, in the order they would do it.
    runners = {
        groups.INCIDENT_MANAGERS: [people.get("mia")],
        groups.REVIEWERS: [people.get("rob"), people.get("rhea")],
    }
    promoted = BatchReviewItem.objects.filter(
        incident__in=seeded(Incident), disposition=Disposition.PROMOTED
    ).exists()
    done_sev3 = [b for b in batches if b.due_at < now and b.severity.code == "SEV-3"]
    # One promotion, a month or so back, in a completed SEV-3 week with a few
    # items: its full review has been published since.
    busy = [b for b in reversed(done_sev3) if b.items.count() >= 2]
    promote_in = busy[min(3, len(busy) - 1)] if busy else None
    for batch in batches:
        candidates = runners.get(batch.owner_group.name if batch.owner_group else "")
        if not candidates:
            continue
        finished = batch.due_at < now
        start = local_instant(add_business_days(batch.period_end, 1), END_OF_DAY)
        at = min(start - timedelta(hours=9), now - timedelta(hours=1))
        items = list(batch.items.select_related("incident").order_by("added_at", "pk"))
        undecided = [item for item in items if not item.disposition]
        to_decide = undecided if finished else undecided[: len(items) // 2]
        if not finished and len(items) - len(undecided) >= len(items) // 2:
            to_decide = []
        for index, item in enumerate(to_decide):
            actor = _first_who_may(
                candidates,
                lambda user, item=item, batch=batch: (
                    permissions.batch_refusal(user, batch) is None
                    and incident_permissions.can_view(user, item.incident)
                ),
            )
            if actor is None:
                continue
            disposition, note, ticket = _disposition(
                index, item, promote=not promoted and batch == promote_in
            )
            services.batch_item_decide(
                item=item,
                actor=actor,
                disposition=disposition,
                note=note,
                ticket_url=ticket,
                now=at + timedelta(minutes=5 * index),
            )
            promoted = promoted or disposition == Disposition.PROMOTED
        if not finished:
            counts["in progress"] += bool(to_decide)
            continue
        completer = _first_who_may(
            candidates,
            lambda user, batch=batch: permissions.batch_refusal(user, batch) is None,
        )
        try:
            services.batch_complete(
                batch=batch,
                actor=completer,
                notes="Worked through in the weekly operations review."
                if batch.severity.code == "SEV-3"
                else "Worked through in the monthly quality review.",
                now=at + timedelta(hours=1),
            )
        except DomainError:
            continue  # an entry nobody available may see stays open
        counts["completed"] += 1
    return counts


def _disposition(index: int, item, *, promote: bool) -> tuple[str, str, str]:
    if promote and index == 0:
        return (
            Disposition.PROMOTED,
            "Third time this quarter: worth a full review.",
            "",
        )
    if index % 4 == 3:
        return (
            Disposition.FOLLOW_UP,
            f"Add a check that catches {item.incident.reference} "
            f"({item.incident.title[:80]}) earlier",
            f"https://tracker.example.com/OPS-{500 + item.pk}",
        )
    return Disposition.NO_ACTION, "Handled by the runbook; no change needed.", ""


# --- individual reviews -----------------------------------------------------------


def _seed_reviews(people: dict, now: datetime) -> dict[str, int]:
    counts = {"published": 0, "in review": 0, "draft": 0}
    # Blank: nobody wrote a word yet (the summary is empty or still the
    # unaccepted first draft from the record).
    blank = [
        review
        for review in Review.objects.filter(
            status=Review.Status.DRAFT, incident__in=seeded(Incident)
        )
        .select_related("incident", "owner")
        .prefetch_related("draft_sections")
        .order_by("due_at", "pk")
        if _writer(review, people) is not None
        and (
            not review.summary
            or any(
                row.section == "summary" and row.is_draft(review)
                for row in review.draft_sections.all()
            )
        )
    ]
    if not blank:
        return counts
    categories = {c.slug: c for c in ContributingFactorCategory.objects.all()}
    past_due = [review for review in blank if review.due_at < now]
    upcoming = [review for review in blank if review.due_at >= now]
    # The newest is still being written, the ones before it wait for approval;
    # of those already due, the last one slipped: an overdue draft.
    waiting = upcoming[:IN_REVIEW] or past_due[-2:-1]
    fresh = upcoming[IN_REVIEW:][-1:]
    slipped = past_due[-1:]
    for index, review in enumerate(blank):
        owner = _writer(review, people)
        start = review.incident.resolved_at or now
        at = min(start + timedelta(days=1), now - timedelta(hours=8))
        _write(review, owner, categories, index, at, now)
        if review in fresh or review in slipped:
            counts["draft"] += 1
            continue
        try:
            review = services.review_submit(review=review, actor=owner, now=at)
        except InvalidTransition:
            # A template asks what this demo story cannot answer: it stays a
            # draft for a person to finish.
            counts["draft"] += 1
            continue
        if review in waiting:
            counts["in review"] += 1
            continue
        if _approve_and_publish(review, owner, people, at, now):
            counts["published"] += 1
        else:
            counts["in review"] += 1
    return counts


def _writer(review: Review, people: dict[str, User]) -> User | None:
    """Who writes a demo review: its owner when that is a demo user, Mia when it
    has none; None (left alone) when someone else owns it."""
    if review.owner is None:
        return people.get("mia")
    demo = people.get(review.owner.username)
    return demo if demo is not None and demo.pk == review.owner_id else None


def _story(incident) -> tuple[str, str]:
    """The incident's root cause and fix, from its resolution summary ("Root
    cause: ... We ..."); the whole summary as the cause when it is not in that
    form."""
    text = (incident.resolution_summary or "").strip()
    match = STORY.match(text)
    if match:
        cause, fix = match["cause"], (match["fix"] or "").strip()
    else:
        cause, fix = text.removeprefix("Root cause:").strip(), ""
    cause = cause.rstrip(";").strip()
    if cause and not cause.endswith("."):
        cause += "."
    return (cause[:1].upper() + cause[1:]) if cause else "", fix


def _family(incident) -> str:
    incident_type = incident.incident_type
    slug = incident_type.family.slug if incident_type else DEFAULT_FAMILY
    return slug if slug in FAMILY_TEXT else DEFAULT_FAMILY


def _factor_slugs(cause: str, fix: str, family: str) -> list[str]:
    text = f"{cause} {fix}".lower()
    found = [slug for slug, words in FACTOR_WORDS if any(w in text for w in words)]
    return list(dict.fromkeys([*found, FAMILY_TEXT[family]["category"]]))[:2]


def _affected(incident) -> str:
    """What the incident's story names first: a service, site or supplier."""
    for tags in (
        incident.affected_services,
        incident.affected_sites,
        incident.affected_suppliers,
    ):
        if tags:
            return tags[0]
    return incident.reference


def _write(review, owner, categories, index, at, now) -> None:
    """The review of the incident's own story: its root cause and fix, the
    family's second why, factors the cause points at, follow-ups naming what it
    affected (names keep their case)."""
    incident = review.incident
    start = incident.resolved_at or now
    cause, fix = _story(incident)
    family = _family(incident)
    text = FAMILY_TEXT[family]
    cause = cause or f"{incident.title}: the cause was not established."
    services.review_update(
        review=review,
        actor=owner,
        now=at,
        summary=f"{incident.title}. {incident.resolution_summary or ''}".strip(),
        customer_impact=incident.impact or "No customer-visible effect recorded.",
        business_impact=text["business_impact"],
        root_cause=cause,
        went_well=text["went_well"],
        went_poorly=text["went_poorly"],
        got_lucky=text["got_lucky"],
        lessons=text["lessons"],
    )
    whys = [
        (f"Why did {incident.reference} ({incident.title}) happen?", cause),
        (text["why"], text["because"]),
    ]
    whys.append(
        (
            "Why was that gap still open?",
            "Nothing had failed this way before, so nobody owned the risk"
            + (f"; the fix now covers it: {fix[:1].lower()}{fix[1:]}" if fix else "."),
        )
    )
    services.review_set_five_whys(review=review, actor=owner, whys=whys)
    slugs = _factor_slugs(cause, fix, family)
    services.review_set_factors(
        review=review,
        actor=owner,
        factors=[
            (categories[slug], cause if position == 0 else text["because"])
            for position, slug in enumerate(slugs)
            if slug in categories
        ],
    )
    services.follow_up_add(
        review=review,
        actor=owner,
        title=f"Confirm the fix holds for {_affected(incident)}"[:200],
        description=fix,
        owner=owner,
        due_at=start + timedelta(days=14),
        now=at,
    )
    type_name = incident.incident_type.name if incident.incident_type else "incident"
    services.follow_up_add(
        review=review,
        actor=owner,
        title=f"Add what {incident.reference} taught to the {type_name} playbook",
        owner=owner,
        due_at=start + timedelta(days=30),
        ticket_url=f"https://tracker.example.com/OPS-{100 + index}",
        now=at,
    )


# Who approves for each group, in order of preference: the one who can see the
# incident and did not write the review.
APPROVERS = {
    groups.EXECUTIVES: ("eve", "rhea"),
    groups.REVIEWERS: ("rob", "rhea"),
}


def _approve_and_publish(review: Review, owner, people: dict, at, now) -> bool:
    approved_by = set()
    for requirement in review.required_approvals:
        names = APPROVERS.get(requirement["group"], ())
        for _ in range(requirement["count"]):
            approver = _first_who_may(
                [people.get(name) for name in names if name not in approved_by],
                lambda user, review=review: (
                    permissions.approval_refusal(user, review) is None
                ),
            )
            if approver is None:
                return False
            review = services.review_approve(
                review=review,
                actor=approver,
                comment="Clear and actionable.",
                now=at + timedelta(hours=2 + len(approved_by)),
            )
            approved_by.add(approver.username)
    review = services.review_publish(
        review=review, actor=owner, now=at + timedelta(hours=6)
    )
    done = review.follow_ups.order_by("pk").first()
    services.follow_up_update(
        follow_up=done,
        actor=owner,
        status=FollowUp.Status.DONE,
        now=min(at + timedelta(days=9), now),
    )
    return True
