"""Lessons for the next responder: what a published review's lessons are, and
which earlier lessons an incident's page shows under "Last time".

Relevance: an earlier incident of the same type and sharing an affected
service first, then either, then the newest; lessons adopted into a playbook
step are shown with it. Only incidents the viewer may see are ever read.
"""

from __future__ import annotations

import re

from incidents.models import Incident
from reviews.models import Lesson, Review

BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")
# How many earlier reviews "Last time" shows, and how many lessons of each.
SHOWN_REVIEWS = 3
SHOWN_LESSONS = 4
CANDIDATES = 300


def split_lessons(text: str) -> list[str]:
    """A review's lessons, one per line (bullets and numbers dropped)."""
    lessons = []
    for line in (text or "").replace("\r\n", "\n").split("\n"):
        line = BULLET.sub("", line).strip()
        if line:
            lessons.append(line)
    return lessons


def last_time(incident: Incident, user) -> list[dict]:
    """The earlier published reviews (indexed by their lessons or their
    resolved cause) most relevant to ``incident`` that
    ``user`` may see, each as ``{"review", "incident", "why" (e.g. "same type,
    checkout-api"), "root_cause", "fix", "lessons": [Lesson]}``; at most
    ``SHOWN_REVIEWS``, the most relevant first."""
    services = set(incident.affected_services or [])
    if incident.incident_type_id is None and not services:
        return []
    lessons = (
        Lesson.objects.visible_to(user)
        .exclude(incident=incident)
        .select_related(
            "review", "incident", "playbook_step", "playbook_step__playbook"
        )
        .order_by("-published_at", "order", "pk")[:CANDIDATES]
    )
    grouped: dict[int, dict] = {}
    for lesson in lessons:
        same_type = (
            incident.incident_type_id is not None
            and lesson.incident_type_id == incident.incident_type_id
        )
        shared = sorted(services & set(lesson.services or []))
        if not (same_type or shared):
            continue
        entry = grouped.setdefault(
            lesson.review_id,
            {
                "review": lesson.review,
                "incident": lesson.incident,
                "score": int(same_type) + int(bool(shared)),
                "why": ", ".join((["same type"] if same_type else []) + shared),
                "published_at": lesson.published_at,
                "lessons": [],
            },
        )
        entry["lessons"].append(lesson)
    ranked = sorted(
        grouped.values(), key=lambda e: (-e["score"], -e["published_at"].timestamp())
    )[:SHOWN_REVIEWS]
    shown: set[str] = set()
    for entry in ranked:
        review: Review = entry["review"]
        # A lesson several reviews drew is shown once, with the most relevant.
        fresh = [
            lesson
            for lesson in sorted(entry["lessons"], key=lambda x: (x.order, x.pk))
            if lesson.kind == Lesson.Kind.LESSON
            and lesson.text.strip().lower() not in shown
        ]
        entry["lessons"] = fresh[:SHOWN_LESSONS]
        shown |= {lesson.text.strip().lower() for lesson in entry["lessons"]}
        entry["root_cause"] = review.root_cause
        entry["fix"] = entry["incident"].resolution_summary
    return ranked
