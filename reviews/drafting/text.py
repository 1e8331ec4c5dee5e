"""The pieces a draft is made of: sentences that carry their sources, and the
way a draft words times and spans."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from incidentops.timezones import org_zone
from reviews.templatetags.review_format import duration


@dataclass(frozen=True)
class Source:
    """Where a sentence comes from.

    ``kind``: ``entry`` (a timeline entry of the incident; ``id`` is its
    ``sequence``), ``incident`` (a field of the incident, named in ``field``),
    ``alert``, ``action``, ``update`` (a stakeholder update), ``assignment``,
    ``regulatory`` (a regulatory notification of the incident),
    ``review`` or ``follow_up`` (of an earlier incident: ``incident`` is that
    incident's id, ``reference`` its reference). ``label``: what a reader sees.
    """

    kind: str
    id: int | None = None
    label: str = ""
    field: str = ""
    incident: int | None = None
    reference: str = ""

    def as_dict(self) -> dict:
        return {key: value for key, value in asdict(self).items() if value}


@dataclass
class Sentence:
    """One drafted sentence and the record entries it states."""

    text: str
    sources: list[Source] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"text": self.text, "sources": [s.as_dict() for s in self.sources]}


def join(sentences: list[Sentence]) -> str:
    """The section's text: one sentence per line, as a person would edit it."""
    return "\n".join(sentence.text for sentence in sentences)


def when(moment: datetime) -> str:
    """A moment in the organisation's zone: "3 Jun 2026 11:00 BST"."""
    local = moment.astimezone(org_zone())
    return f"{local.day} {local:%b %Y %H:%M %Z}"


def clock(moment: datetime) -> str:
    """A moment's local time of day: "11:00"."""
    return f"{moment.astimezone(org_zone()):%H:%M}"


def span(value: timedelta) -> str:
    """A span as the review pages word it ("3 h 20 min")."""
    return duration(value)


def listing(names: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    names = [str(name) for name in names if str(name)]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"
