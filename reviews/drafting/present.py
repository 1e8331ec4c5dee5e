"""The draft as pages show it: each text section's state, its sentences with
links to their sources, and the suggestions the reader may see."""

from __future__ import annotations

from reviews.drafting import SUGGESTION_SECTIONS, TEXT_SECTIONS
from reviews.drafting.suggestions import visible_items
from reviews.models import DraftSection, Review

LABELS = {
    "summary": "Summary",
    "customer_impact": "Customer impact",
    "business_impact": "Business impact",
    "response": "How the response went",
}


def source_href(source: dict, review: Review) -> str:
    """Where a reader follows a source: the incident page (at the timeline
    entry or the alerts), or the earlier review."""
    incident_url = review.incident.get_absolute_url()
    kind = source.get("kind")
    if kind == "entry":
        return f"{incident_url}#entry-{source.get('id')}"
    if kind == "alert":
        return f"{incident_url}#alerts"
    if kind == "action":
        return f"{incident_url}#actions"
    if kind in ("review", "follow_up") and source.get("review"):
        return f"/reviews/{source['review']}/"
    return incident_url


def _sentences(sentences: list[dict], review: Review) -> list[dict]:
    return [
        {
            "text": sentence["text"],
            "sources": [
                {**source, "href": source_href(source, review)}
                for source in sentence.get("sources", [])
            ],
        }
        for sentence in sentences
    ]


def drafted_sections(review: Review) -> list[str]:
    """The text sections that still read as an unaccepted draft."""
    return [
        row.section
        for row in review.draft_sections.all()
        if row.section in TEXT_SECTIONS and row.is_draft(review)
    ]


def text_sections(review: Review) -> list[dict]:
    """Each drafted text section: ``{"name", "label", "state" ("draft",
    "accepted", "edited"), "row", "sentences", "pending"}`` (sentences with
    their sources' links)."""
    rows = {
        row.section: row
        for row in review.draft_sections.select_related("accepted_by")
        if row.section in TEXT_SECTIONS
    }
    sections = []
    for name in TEXT_SECTIONS:
        row: DraftSection | None = rows.get(name)
        if row is None:
            continue
        if row.is_draft(review):
            state = "draft"
        elif row.accepted_at and DraftSection.normalise(
            row.current(review)
        ) == DraftSection.normalise(row.text):
            state = "accepted"
        else:
            state = "edited"
        sections.append(
            {
                "name": name,
                "label": LABELS[name],
                "state": state,
                "row": row,
                "sentences": _sentences(row.sentences, review),
                "pending": _sentences(row.pending_sentences, review)
                if row.pending_text
                else [],
            }
        )
    return sections


def suggestions(review: Review, user) -> dict[str, list[dict]]:
    """The suggestion sections, each item of an incident ``user`` may see,
    with ``href`` to the earlier review it comes from."""
    rows = {
        row.section: row
        for row in review.draft_sections.filter(section__in=SUGGESTION_SECTIONS)
    }
    found = {
        name: visible_items(rows[name].items, user, review.incident_id)
        if name in rows
        else []
        for name in SUGGESTION_SECTIONS
    }
    for items in found.values():
        for item in items:
            if item.get("review"):
                item["href"] = f"/reviews/{item['review']}/"
    return found


def draft_context(review: Review, user) -> dict:
    """``{"sections", "suggestions", "drafted", "pending", "ever_drafted"}``
    for the review page."""
    sections = text_sections(review)
    return {
        "sections": sections,
        "suggestions": suggestions(review, user),
        "drafted": [s["name"] for s in sections if s["state"] == "draft"],
        "pending": [s["name"] for s in sections if s["pending"]],
        "ever_drafted": bool(sections),
    }
