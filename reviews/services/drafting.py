"""Drafting a review from the record: the first draft when it opens, redrafts
on demand, and people accepting, taking or dismissing drafted text.

A redraft never overwrites what a person wrote: a section whose field still
holds the unaccepted drafted text (or nothing) is redrafted; any other keeps
the person's text, and the newer draft waits beside it (``pending_text``) until
a person takes it (``review_draft_take``) or dismisses it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import DomainError
from reviews import drafting, review_templates
from reviews.models import DraftSection, Review
from reviews.services.base import _label, _lock, _log, _require_editable, _save

DRAFTED, UNCHANGED, KEPT = "drafted", "unchanged", "kept"
LABELS = {
    "summary": "summary",
    "customer_impact": "customer impact",
    "business_impact": "business impact",
    "response": "response",
}


def drafted_text_sections(review: Review) -> dict[str, str]:
    """The review's text sections drafted from the record, each with what it
    is drafted from: the four fields, then ``answer:<key>`` for each question
    of its template drafted from the record (``drafted_from``)."""
    sections = {name: name for name in drafting.TEXT_SECTIONS}
    for question in review_templates.questions(review):
        if question.drafted_from in drafting.ANSWER_SOURCES:
            sections[DraftSection.ANSWER + question.key] = question.drafted_from
    return sections


def section_labels(review: Review) -> dict[str, str]:
    """How the services' messages name each drafted section."""
    return {
        **LABELS,
        **{
            DraftSection.ANSWER + q.key: f"answer to “{q.title}”"
            for q in review_templates.questions(review)
        },
    }


def _named(labels: dict[str, str], names) -> str:
    return ", ".join(labels.get(name, name) for name in names)


@transaction.atomic
def review_draft(
    *, review: Review, actor=None, now: datetime | None = None
) -> dict[str, str]:
    """Draft the review's sections from the incident's record (``actor`` None:
    the system, when the review opens; a person: "Redraft from the record").

    Changes: the review's text sections that are empty or still hold their
    unaccepted draft; ``DraftSection`` rows (the drafted text with each
    sentence's sources; for a section holding a person's text, the newer
    draft as ``pending_text``; the suggestions); a ``review`` timeline entry
    for a person's redraft. Sends nothing. Returns ``{section: "drafted" |
    "unchanged" | "kept"}`` for the text sections ("kept": a person's text
    stands and a newer draft waits).
    Raises: ``NotPermitted`` / ``InvalidTransition`` for a person who may not
    edit, or a review that is not a draft.
    """
    now = now or timezone.now()
    locked = _lock(review)
    if actor is not None:
        _require_editable(actor, locked)
    sections = drafting.draft(locked.incident)
    rows = {row.section: row for row in locked.draft_sections.all()}
    outcome, changed, fields = {}, [], set()
    for name, source in drafted_text_sections(locked).items():
        row = rows.get(name) or DraftSection(review=locked, section=name)
        sentences = sections[source]
        outcome[name] = _redraft_text(
            locked, row, drafting.join(sentences), [s.as_dict() for s in sentences], now
        )
        if outcome[name] == DRAFTED:
            changed.append(name)
            fields.add(row.put(locked, row.text))
        _save(row, actor)
    for name in drafting.SUGGESTION_SECTIONS:
        row = rows.get(name) or DraftSection(review=locked, section=name)
        row.items, row.drafted_at = sections[name], now
        _save(row, actor)
    if fields:
        _save(locked, actor, update_fields=sorted(fields))
    if actor is not None:
        labels = section_labels(locked)
        kept = [name for name, result in outcome.items() if result == KEPT]
        _log(
            locked,
            actor=actor,
            now=now,
            summary=f"{_label(actor)} redrafted the review from the record"
            + (f": {_named(labels, changed)} redrafted" if changed else "")
            + (f"; a newer draft waits beside {_named(labels, kept)}" if kept else ""),
            data={"change": "redrafted", "sections": outcome},
        )
    return outcome


def _redraft_text(
    review: Review, row: DraftSection, text: str, sentences: list, now
) -> str:
    current = DraftSection.normalise(row.current(review))
    machine_owned = not current or (row.pk is not None and row.is_draft(review))
    if machine_owned:
        if current and DraftSection.normalise(row.text) == text:
            row.sentences = sentences
            return UNCHANGED
        row.text, row.sentences, row.drafted_at = text, sentences, now
        row.accepted_by = row.accepted_at = None
        row.pending_text, row.pending_sentences, row.pending_at = "", [], None
        return DRAFTED
    if text == current or text == DraftSection.normalise(row.text):
        # Nothing new since the person took over: nothing to offer.
        row.pending_text, row.pending_sentences, row.pending_at = "", [], None
        return UNCHANGED
    if text == DraftSection.normalise(row.pending_text):
        return KEPT
    row.pending_text, row.pending_sentences, row.pending_at = text, sentences, now
    return KEPT


def _text_row(review: Review, section: str) -> DraftSection:
    if section in drafting.SUGGESTION_SECTIONS:
        raise DomainError(f"{section} is not a drafted section.", field="section")
    row = review.draft_sections.filter(section=section).first()
    if row is None:
        raise DomainError(
            f"The {section_labels(review).get(section, section)} was never drafted.",
            field="section",
        )
    return row


@transaction.atomic
def review_draft_accept(
    *,
    review: Review,
    actor,
    sections: list[str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Accept drafted text as the review's (``sections`` None: every section
    still in draft).

    Changes: ``accepted_by``/``accepted_at`` of the sections whose field still
    holds its unaccepted draft; a ``review`` timeline entry naming them. Sends
    nothing. Returns the sections accepted (a section a person already edited
    or accepted is skipped).
    Raises: ``DomainError`` for a section that is not drafted;
    ``NotPermitted`` / ``InvalidTransition`` as ``review_update``.
    """
    now = now or timezone.now()
    locked = _lock(review)
    _require_editable(actor, locked)
    for name in sections or ():
        _text_row(locked, name)
    accepted = _accept(locked, actor, now, sections)
    if accepted:
        _log(
            locked,
            actor=actor,
            now=now,
            summary=f"{_label(actor)} accepted the drafted "
            + _named(section_labels(locked), accepted),
            data={"change": "draft_accepted", "sections": accepted},
        )
    return accepted


def _accept(review: Review, actor, now, sections=None) -> list[str]:
    accepted = []
    for row in review.draft_sections.exclude(section__in=drafting.SUGGESTION_SECTIONS):
        if (sections is None or row.section in sections) and row.is_draft(review):
            row.accepted_by, row.accepted_at = actor, now
            _save(row, actor)
            accepted.append(row.section)
    return accepted


def drafts_pending_acceptance(review: Review) -> list[str]:
    """The text sections whose field still holds a draft nobody accepted."""
    return [
        row.section
        for row in review.draft_sections.exclude(
            section__in=drafting.SUGGESTION_SECTIONS
        )
        if row.is_draft(review)
    ]


def accept_on_submit(review: Review, actor, now) -> list[str]:
    """Submitting a review accepts, on the submitter's name, the drafted
    sections still unaccepted (the submit button says so). Logged by the
    caller's entry."""
    return _accept(review, actor, now)


@transaction.atomic
def review_draft_take(
    *, review: Review, actor, section: str, now: datetime | None = None
) -> Review:
    """Replace a person's text of ``section`` with the newer draft waiting
    beside it (the person asked for it).

    Changes: the review's field; the ``DraftSection`` (the taken text is a
    draft again, to be accepted or edited); a ``review`` timeline entry.
    Sends nothing. Raises: ``DomainError`` when no newer draft waits;
    ``NotPermitted`` / ``InvalidTransition`` as ``review_update``.
    """
    now = now or timezone.now()
    locked = _lock(review)
    _require_editable(actor, locked)
    row = _text_row(locked, section)
    label = section_labels(locked).get(section, section)
    if not row.pending_text:
        raise DomainError(f"No newer draft of the {label} is waiting.", field="section")
    field = row.put(locked, row.pending_text)
    row.text, row.sentences, row.drafted_at = (
        row.pending_text,
        row.pending_sentences,
        row.pending_at or now,
    )
    row.accepted_by = row.accepted_at = None
    row.pending_text, row.pending_sentences, row.pending_at = "", [], None
    _save(row, actor)
    _save(locked, actor, update_fields=[field])
    _log(
        locked,
        actor=actor,
        now=now,
        summary=f"{_label(actor)} replaced the {label} with the newer draft from "
        "the record",
        data={"change": "draft_taken", "section": section},
    )
    return locked


@transaction.atomic
def review_draft_dismiss(*, review: Review, actor, section: str) -> None:
    """Keep the person's text of ``section`` and drop the newer draft waiting.

    Changes: the ``DraftSection``'s ``pending_*``. Sends nothing. Raises as
    ``review_draft_take`` (no newer draft is not an error: nothing changes).
    """
    locked = _lock(review)
    _require_editable(actor, locked)
    row = _text_row(locked, section)
    row.pending_text, row.pending_sentences, row.pending_at = "", [], None
    _save(row, actor)
