"""The draft as pages show it: each text section's state, its sentences with
links to their sources, and the suggestions the reader may see."""

from __future__ import annotations

from difflib import SequenceMatcher

from reviews import review_templates
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
    if kind == "regulatory":
        return f"{incident_url}#regulatory"
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


def line_diff(mine: str, draft: str) -> list[dict]:
    """The person's text beside the newer draft, line by line, for a reader to
    choose: ``[{"mine": str | None, "draft": str | None, "change": "same" |
    "changed" | "removed" | "added"}]`` in reading order; within a changed
    pair, ``mine_words`` and ``draft_words`` mark each word as ``(word,
    kept)``."""
    left = DraftSection.normalise(mine).split("\n") if mine.strip() else []
    right = DraftSection.normalise(draft).split("\n") if draft.strip() else []
    rows = []
    matcher = SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [
                {"mine": line, "draft": line, "change": "same"} for line in left[i1:i2]
            ]
            continue
        ours, theirs = left[i1:i2], right[j1:j2]
        for index in range(max(len(ours), len(theirs))):
            a = ours[index] if index < len(ours) else None
            b = theirs[index] if index < len(theirs) else None
            change = (
                "changed"
                if a is not None and b is not None
                else ("removed" if b is None else "added")
            )
            row = {"mine": a, "draft": b, "change": change}
            if change == "changed":
                row["mine_words"], row["draft_words"] = _word_marks(a, b)
            rows.append(row)
    return rows


def _word_marks(a: str, b: str) -> tuple[list, list]:
    ours, theirs = a.split(" "), b.split(" ")
    kept_a, kept_b = [False] * len(ours), [False] * len(theirs)
    for block in SequenceMatcher(
        a=ours, b=theirs, autojunk=False
    ).get_matching_blocks():
        for k in range(block.size):
            kept_a[block.a + k] = kept_b[block.b + k] = True
    return list(zip(ours, kept_a, strict=True)), list(zip(theirs, kept_b, strict=True))


def drafted_sections(review: Review) -> list[str]:
    """The text sections (``answer:<key>`` for a template question) that still
    read as an unaccepted draft."""
    return [
        row.section
        for row in review.draft_sections.all()
        if row.section not in SUGGESTION_SECTIONS and row.is_draft(review)
    ]


def _labels(review: Review) -> dict[str, str]:
    return {
        **LABELS,
        **{
            DraftSection.ANSWER + q.key: q.title
            for q in review_templates.questions(review)
        },
    }


def text_sections(review: Review) -> list[dict]:
    """Each drafted text section (the four fields, then the template questions
    drafted from the record): ``{"name", "label", "state" ("draft",
    "accepted", "edited"), "row", "sentences", "pending"}`` (sentences with
    their sources' links)."""
    rows = {
        row.section: row
        for row in review.draft_sections.select_related("accepted_by")
        if row.section not in SUGGESTION_SECTIONS
    }
    labels = _labels(review)
    names = [*TEXT_SECTIONS, *(name for name in labels if name not in LABELS)]
    sections = []
    for name in names:
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
                "label": labels[name],
                "state": state,
                "row": row,
                "sentences": _sentences(row.sentences, review),
                "pending": _sentences(row.pending_sentences, review)
                if row.pending_text
                else [],
                "diff": line_diff(row.current(review), row.pending_text)
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
