"""What reviews contributes to the insights page (``providers.Slot.INSIGHTS``):
review timeliness by severity, follow-ups opened and completed, and, for the
types that recur most, the share of their reviews with follow-ups still open.
Counts only reviews the viewer may see, of incidents the page's filters select.
"""

from __future__ import annotations

from django.db.models import Count, F, Min, Q
from django.utils import timezone

from incidents import providers
from incidents.insights import incidents_for, recurring_types
from reviews.models import FollowUp, Review


def review_figures(user, filters, *, now=None) -> dict:
    """``{"timeliness": [{"group" (severity), "reviews", "completed",
    "on_time", "overdue", "share_on_time"}], "follow_ups": {"opened",
    "completed", "open", "oldest_open" (a FollowUp or None)},
    "recurrence": [{"group" (type), "reviews", "with_open_follow_ups",
    "share"}]}``. Four queries."""
    now = now or timezone.now()
    incidents = incidents_for(user, filters)
    reviews = Review.objects.visible_to(user).filter(incident__in=incidents)
    done = Q(status=Review.Status.PUBLISHED)
    timeliness = [
        {
            "group": row["severity_code"] or "(none)",
            "reviews": row["reviews"],
            "completed": row["completed"],
            "on_time": row["on_time"],
            "overdue": row["overdue"],
            "share_on_time": round(row["on_time"] / row["reviews"], 3),
        }
        for row in reviews.order_by()
        .values("severity_code")
        .annotate(
            reviews=Count("pk"),
            completed=Count("pk", filter=done),
            on_time=Count("pk", filter=done & Q(published_at__lte=F("due_at"))),
            overdue=Count("pk", filter=~done & Q(due_at__lt=now)),
        )
        .order_by("severity_code")
    ]
    follow_ups = FollowUp.objects.filter(review__in=reviews)
    counts = follow_ups.aggregate(
        opened=Count("pk"),
        completed=Count("pk", filter=Q(status=FollowUp.Status.DONE)),
        open=Count("pk", filter=Q(status__in=FollowUp.OPEN_STATUSES)),
        oldest=Min("created_at", filter=Q(status__in=FollowUp.OPEN_STATUSES)),
    )
    oldest = (
        follow_ups.open()
        .select_related("review__incident")
        .order_by("created_at")
        .first()
        if counts["open"]
        else None
    )
    recurring = [row["slug"] for row in recurring_types(user, filters)]
    by_type = {
        row["incident__incident_type__slug"]: row
        for row in reviews.filter(incident__incident_type__slug__in=recurring)
        .order_by()
        .values("incident__incident_type__slug", "incident__incident_type__name")
        .annotate(
            reviews=Count("pk", distinct=True),
            with_open=Count(
                "pk",
                filter=Q(follow_ups__status__in=FollowUp.OPEN_STATUSES),
                distinct=True,
            ),
        )
    }
    return {
        "timeliness": timeliness,
        "follow_ups": {
            "opened": counts["opened"],
            "completed": counts["completed"],
            "open": counts["open"],
            "oldest_open": oldest,
        },
        "recurrence": [
            {
                "group": row["incident__incident_type__name"],
                "reviews": row["reviews"],
                "with_open_follow_ups": row["with_open"],
                "share": round(row["with_open"] / row["reviews"], 3),
            }
            for slug in recurring
            if (row := by_type.get(slug))
        ],
    }


def insights_context(*, request, filters) -> dict:
    return {"figures": review_figures(request.user, filters), "now": timezone.now()}


def insights_rows(*, request, filters) -> list[dict]:
    """The panel's figures for the page's CSV (``group``, ``measure``, ``value``)."""
    figures = review_figures(request.user, filters)
    rows = []
    for row in figures["timeliness"]:
        for measure in ("reviews", "completed", "on_time", "overdue", "share_on_time"):
            rows.append(
                {"group": row["group"], "measure": measure, "value": row[measure]}
            )
    for measure in ("opened", "completed", "open"):
        rows.append(
            {
                "group": "follow-ups",
                "measure": measure,
                "value": figures["follow_ups"][measure],
            }
        )
    for row in figures["recurrence"]:
        for measure in ("reviews", "with_open_follow_ups", "share"):
            rows.append(
                {"group": row["group"], "measure": measure, "value": row[measure]}
            )
    return rows


def register() -> None:
    """The insights panel, the review's text in incident search and the "has
    open follow-ups" filter of the incidents list."""
    providers.register_search_text(
        providers.SearchText(
            key="review",
            fields=("review__summary", "review__root_cause", "review__lessons"),
        )
    )
    providers.register_list_filter(
        providers.ListFilter(
            key="open_follow_ups",
            label="Has open follow-ups",
            q=lambda: Q(pk__in=FollowUp.objects.open().values("review__incident_id")),
        )
    )
    providers.register_panel(
        providers.Slot.INSIGHTS,
        providers.Panel(
            key="review-insights",
            title="Reviews and follow-ups",
            template="reviews/_insights_panel.html",
            context=insights_context,
            figures=insights_rows,
        ),
    )
