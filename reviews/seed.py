"""Demo reviews for the historical incidents the incidents seed creates.

Their reviews (and batch entries) already exist: the resolve event filed them
while history was imported. This fills the untouched ones with content and moves
them through the workflow, back-dated and inside ``history_import()`` so nobody
is notified: most published (five whys, factors, follow-ups, some still open), a
few in review, one or two left as overdue drafts. Only reviews still blank are
touched, so running it again changes nothing. The default policies and the
contributing-factor taxonomy come from the data migration.
"""

from datetime import timedelta

from django.utils import timezone

from incidentops.exceptions import DomainError
from incidentops.models import User
from incidents.events import history_import
from reviews import permissions, services
from reviews.models import ContributingFactorCategory, FollowUp, Review

WHYS = [
    (
        "Why did {title} happen?",
        "A change reached production without the check that would have caught it.",
    ),
    (
        "Why was the check missing?",
        "The release checklist does not cover this kind of change.",
    ),
    (
        "Why does the checklist not cover it?",
        "Nobody owns the checklist since the team reorganised.",
    ),
]
FACTOR_PAIRS = [
    ("process", "change"),
    ("technology", "monitoring"),
    ("supplier", "external"),
    ("people", "process"),
]


def seed_reviews(*, stdout) -> None:
    """Fill and advance the blank reviews of resolved demo incidents."""
    now = timezone.now()
    reviewer = User.objects.filter(username="rob").first()
    executive = User.objects.filter(username="eve").first()
    blank = list(
        Review.objects.filter(status=Review.Status.DRAFT, summary="")
        .select_related("incident", "owner")
        .order_by("incident__resolved_at", "pk")
    )
    if not blank or reviewer is None:
        return
    categories = {c.slug: c for c in ContributingFactorCategory.objects.all()}
    counts = {"published": 0, "in review": 0, "draft": 0}
    drafts_left = 0
    with history_import():
        for index, review in enumerate(blank):
            incident = review.incident
            owner = review.owner or reviewer
            start = incident.resolved_at or now
            at = min(start + timedelta(days=1), now)
            title = incident.title.lower()
            services.review_update(
                review=review,
                actor=owner,
                now=at,
                summary=f"{incident.title}. {incident.resolution_summary or ''}".strip(),
                customer_impact=incident.impact
                or "Some customers saw errors or delays.",
                business_impact="Support contacts rose; no contractual penalty.",
                root_cause=WHYS[-1][1],
                went_well="The commander was in place within minutes.",
                went_poorly="The first stakeholder update was late.",
                got_lucky="It happened outside the busiest hours.",
                lessons="Give every checklist an owner and review it each quarter.",
            )
            services.review_set_five_whys(
                review=review,
                actor=owner,
                whys=[(why.format(title=title), because) for why, because in WHYS],
            )
            pair = FACTOR_PAIRS[index % len(FACTOR_PAIRS)]
            services.review_set_factors(
                review=review,
                actor=owner,
                factors=[(categories[s], "") for s in pair if s in categories],
            )
            done = services.follow_up_add(
                review=review,
                actor=owner,
                title="Assign an owner to the release checklist",
                owner=owner,
                due_at=start + timedelta(days=14),
                now=at,
            )
            services.follow_up_add(
                review=review,
                actor=owner,
                title=f"Add an alert for {title[:80]}",
                owner=owner,
                due_at=start + timedelta(days=30),
                ticket_url=f"https://tracker.example.com/OPS-{100 + index}",
                now=at,
            )
            # The newest review or two stay drafts (overdue once due passes);
            # the four before them go only as far as review.
            if index >= len(blank) - 2 and drafts_left < 2:
                drafts_left += 1
                counts["draft"] += 1
                continue
            try:
                review = services.review_submit(review=review, actor=owner, now=at)
                if index >= len(blank) - 6:
                    counts["in review"] += 1
                    continue
                for approver in (executive, reviewer):
                    if (
                        approver
                        and review.status == Review.Status.IN_REVIEW
                        and permissions.approval_refusal(approver, review) is None
                    ):
                        review = services.review_approve(
                            review=review,
                            actor=approver,
                            comment="Clear and actionable.",
                            now=at + timedelta(hours=4),
                        )
                review = services.review_publish(
                    review=review, actor=owner, now=at + timedelta(hours=6)
                )
                services.follow_up_update(
                    follow_up=done,
                    actor=owner,
                    status=FollowUp.Status.DONE,
                    now=min(start + timedelta(days=10), now),
                )
                counts["published"] += 1
            except DomainError:
                # e.g. the owner is the only available approver: leave it in
                # review for a person to finish.
                counts["in review"] += 1
    stdout.write(
        "Demo reviews: "
        + ", ".join(f"{count} {state}" for state, count in counts.items())
        + "."
    )
