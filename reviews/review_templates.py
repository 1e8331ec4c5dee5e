"""Which review template a review follows and what it still lacks.

The template is matched each time from the incident's type (or family) and
confirmed severity (``ReviewTemplate.objects.for_incident``), so a review
follows what the administrators ask now; with no template, the review asks
for what it always did (a summary and a root cause).
"""

from __future__ import annotations

from reviews.models import Review, ReviewTemplate, ReviewTemplateSection


def template_for(review: Review) -> ReviewTemplate | None:
    """The active template matching the review's incident, or None."""
    return ReviewTemplate.objects.for_incident(review.incident)


def sections_of(template: ReviewTemplate | None) -> list[ReviewTemplateSection]:
    return list(template.sections.all()) if template else []


def section_value(review: Review, section: ReviewTemplateSection) -> str:
    """What the review holds for ``section`` (a field, or an answer)."""
    if section.is_field:
        return getattr(review, section.key) or ""
    return str(review.answers.get(section.key, "") or "")


def missing_required(review: Review, drafted: list[str]) -> list[str]:
    """The titles of the template's required sections that are empty or hold
    only an unaccepted draft (``drafted``: the fields, and ``answer:<key>``
    for the questions, still in draft)."""
    return [
        section.title
        for section in sections_of(template_for(review))
        if section.required
        and (
            not section_value(review, section).strip()
            or (section.key if section.is_field else f"answer:{section.key}") in drafted
        )
    ]


def questions(review: Review) -> list[ReviewTemplateSection]:
    """The template's own questions (not one of the review's fields)."""
    return [s for s in sections_of(template_for(review)) if not s.is_field]
