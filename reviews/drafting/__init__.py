"""Drafting a post-incident review from the record.

``draft(incident)`` reads what IncidentOps knows about the incident — its
fields, timeline, alerts, role assignments, actions and stakeholder updates —
and the reviews of similar earlier incidents, and returns every section of a
first draft. It writes nothing and calls no external service; the same record
gives the same draft. ``reviews.services.review_draft`` stores it.

Text sections (``TEXT_SECTIONS``, the review fields they fill) are lists of
``Sentence``, each naming its ``Source`` entries. Suggestion sections
(``SUGGESTION_SECTIONS``) are lists of dicts (``reviews.drafting.suggestions``).
"""

from __future__ import annotations

from incidents.models import Incident
from reviews.drafting import record as _record
from reviews.drafting import suggestions as _suggestions
from reviews.drafting.text import Sentence, Source, join

TEXT_SECTIONS = ("summary", "customer_impact", "business_impact", "response")
SUGGESTION_SECTIONS = ("factors", "five_whys", "follow_ups")
# What a template question may be drafted from
# (``ReviewTemplateSection.drafted_from``): a text section of its own.
ANSWER_SOURCES = ("regulatory_notifications",)


def draft(incident: Incident) -> dict[str, list]:
    """Every section of the draft: ``{section: [Sentence] | [dict]}``, and
    the answer sources (``ANSWER_SOURCES``) as text sections."""
    record = _record.Record(incident)
    similar = _suggestions.similar_reviews(record.incident)
    return {
        "summary": _record.summary(record),
        "customer_impact": _record.customer_impact(record),
        "business_impact": _record.business_impact(record),
        "response": _record.response(record),
        "regulatory_notifications": _record.regulatory(record),
        "factors": _suggestions.factors(similar),
        "five_whys": _suggestions.five_whys(record, similar),
        "follow_ups": _suggestions.follow_ups(record),
    }


__all__ = [
    "ANSWER_SOURCES",
    "SUGGESTION_SECTIONS",
    "TEXT_SECTIONS",
    "Sentence",
    "Source",
    "draft",
    "join",
]
