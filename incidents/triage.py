"""Triage suggestions: which type and severity a new report looks like, and which
past incidents resemble it.

A suggestion is advice for a person; it changes nothing by itself (DESIGN.md,
control 2). ``suggest_for`` stores nothing: the API's suggest endpoint and
``incident_declare`` both call it, and only the service writes the result.

``Suggester`` is the interface; two implement it:

* ``BaselineSuggester``, the transparent rules: the taxonomy's keywords for the
  type; the severity framework's signals (flags and words) for the severity, with
  the type's default severity as the prior when nothing else speaks;
* ``incidents.triage_model.LearnedSuggester``, a model trained nightly on
  resolved incidents, which keeps the framework's hard signals as severity
  floors (``framework_floor``).

Both add similar past incidents (TF-IDF cosine similarity over the latest
resolved ones; the vectorizer is fitted once per process and corpus watermark,
see ``corpus_index``). ``get_suggester`` picks the learned one when a trained version
beats the rules on held-out incidents, and otherwise the baseline, which then
says why in its rationale (docs/triage.md).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

from django.db.models import Count, Max

from incidents.models import (
    Incident,
    IncidentType,
    SeverityLevel,
    more_severe_code,
)
from incidents.triage_reader import level_reason, quoted, read_impact

# The similar-incident corpus is capped so a suggestion stays well under a second
# on a large history: the latest resolved incidents are the most relevant anyway.
SIMILAR_CORPUS_LIMIT = 2000
SIMILAR_RESULTS = 3
SIMILAR_MIN_SCORE = 0.1
# Candidates checked for visibility per query, best first.
SIMILAR_CANDIDATE_CHUNK = 50


@dataclass(frozen=True)
class SimilarIncident:
    reference: str
    title: str
    severity: str | None
    resolution: str
    score: float = 0.0
    # Still open: a possible duplicate of the report (listed first).
    open: bool = False


@dataclass(frozen=True)
class Suggestion:
    severity: str | None
    incident_type: str | None
    confidence: float
    rationale: str
    similar: list[SimilarIncident] = field(default_factory=list)
    # The type's and the severity's own confidence (``confidence`` is the
    # lower of the two); None when the suggester does not give one.
    type_confidence: float | None = None
    severity_confidence: float | None = None

    def as_dict(self) -> dict:
        """The JSON stored on ``Incident.suggestion`` and returned by the API."""
        data = asdict(self)
        data["similar"] = [
            {k: v for k, v in item.items() if k != "score"} for item in data["similar"]
        ]
        return data


@dataclass(frozen=True)
class Report:
    """What a suggester looks at: the fields of a declare form."""

    title: str
    description: str = ""
    impact: str = ""
    customer_facing: bool = False
    data_exposed: bool = False
    regulatory: bool = False
    incident_type: str | None = None  # a slug the reporter already chose
    affected_services: tuple[str, ...] = ()
    affected_sites: tuple[str, ...] = ()
    affected_suppliers: tuple[str, ...] = ()
    # The incident this report is already stored as (never its own duplicate).
    incident_pk: int | None = None

    @property
    def text(self) -> str:
        return " ".join(filter(None, (self.title, self.description, self.impact)))


class Suggester(Protocol):
    def suggest(self, report: Report, *, user=None) -> Suggestion: ...


# The severity framework (DESIGN.md) as signals: words that point at a level.
SEVERITY_SIGNALS: dict[str, tuple[str, ...]] = {
    "SEV-1": (
        "outage",
        "down for all",
        "completely down",
        "total outage",
        "data breach",
        "breach",
        "exfiltrat",
        "ransomware",
        "leaked",
        "personal data",
        "regulator",
        "regulatory",
        "recall",
    ),
    "SEV-2": (
        "degraded",
        "slow",
        "latency",
        "timeout",
        "error rate",
        "errors",
        "sla",
        "partial",
        "intermittent",
        "process failure",
        "failed",
        "failing",
        "delayed shipment",
        "backlog",
    ),
    "SEV-3": (
        "internal",
        "near miss",
        "near-miss",
        "deviation",
        "staging",
        "single team",
        "workaround",
    ),
    "SEV-4": (
        "cosmetic",
        "typo",
        "documentation",
        "docs",
        "minor delay",
        "wording",
        "misaligned",
        "label",
    ),
}
# With the customer-facing flag, these make it an outage (a SEV-1 floor): the
# service is gone for customers, not merely slow.
OUTAGE_WORDS = (
    "outage",
    "down",
    "unavailable",
    "not loading",
    "cannot access",
    "cannot log in",
    "cannot pay",
    "for all",
    "all customers",
    "every customer",
    "502",
    "503",
)


def _contains(text: str, phrase: str) -> bool:
    # Whole-word at the start, open at the end, so "exfiltrat" matches
    # "exfiltration" but "sla" does not match "translation".
    return re.search(r"(?<![a-z0-9])" + re.escape(phrase), text) is not None


def _matches(text: str, phrases: Iterable[str]) -> list[str]:
    return [p for p in phrases if _contains(text, p)]


def framework_floor(report: Report) -> tuple[str | None, list[str]]:
    """The severity the framework's hard signals demand at least, and why.

    Data exposed, a regulatory event or a customer-facing outage are SEV-1 by the
    framework (DESIGN.md) whatever a model has learned: under-rating them costs
    far more than over-rating, and a person confirms either way. A
    customer-facing outage counts from the flag with outage words, or from the
    text alone when it says everyone cannot use a service ("all EU customers",
    "payments failing"), ticked or not.
    """
    reasons = []
    if report.data_exposed:
        reasons.append("data exposed")
    if report.regulatory:
        reasons.append("regulatory event")
    if report.customer_facing and _matches(report.text.lower(), OUTAGE_WORDS):
        reasons.append("customer-facing outage")
    elif _everyone_cut_off(read_impact(report.text)):
        reasons.append("customer-facing outage")
    return ("SEV-1" if reasons else None), reasons


def _everyone_cut_off(impact) -> bool:
    return (
        impact.has("scope_all", "customers", "down")
        and not impact.has("internal")
        and not impact.has("near_miss")
    )


@dataclass(frozen=True)
class RuleContext:
    """What the rules read from the database, loaded once per suggestion (or
    once per evaluation of many incidents)."""

    types: list
    # Each severity level's code to its rank (1 most severe): the levels there
    # are, and which is more severe (``more_severe_code``).
    ranks: Mapping[str, int]

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.ranks)

    def more_severe(self, a: str | None, b: str | None) -> str | None:
        """The more severe of two level codes, by rank (either may be None)."""
        return more_severe_code(a, b, self.ranks)

    @classmethod
    def load(cls) -> RuleContext:
        return cls(
            types=list(
                IncidentType.objects.filter(is_active=True).select_related(
                    "default_severity"
                )
            ),
            ranks=SeverityLevel.objects.ranks(),
        )


@dataclass(frozen=True)
class RuleVerdict:
    type_slug: str | None
    type_confidence: float
    type_reason: str
    chosen_type: object  # IncidentType | None
    severity: str | None
    severity_confidence: float
    severity_reason: str


class BaselineSuggester:
    """Keyword and framework rules, plus TF-IDF for similar incidents.

    ``note``, when given, opens the rationale: it says why the rules are in use
    (no trained model yet, or one weaker than the rules).
    """

    def __init__(self, *, note: str = ""):
        self.note = note

    def suggest(self, report: Report, *, user=None) -> Suggestion:
        verdict = self.classify(report, RuleContext.load())
        # ``note`` (why no trained model is in use) is for administrators: the
        # rationale a responder reads names only the report's signals.
        reasons = [verdict.type_reason, verdict.severity_reason]
        similar = similar_for(report, user=user)
        if similar:
            reasons.append(similar_reason(similar))
        confidence = round(
            min(verdict.type_confidence, verdict.severity_confidence)
            if verdict.type_slug
            else verdict.severity_confidence * 0.8,
            2,
        )
        return Suggestion(
            severity=verdict.severity,
            incident_type=verdict.type_slug,
            confidence=confidence,
            rationale=plain_rationale(reasons),
            similar=similar,
            type_confidence=round(verdict.type_confidence, 2)
            if verdict.type_slug
            else None,
            severity_confidence=round(verdict.severity_confidence, 2),
        )

    def classify(self, report: Report, context: RuleContext) -> RuleVerdict:
        """Type and severity without similar incidents (the training code scores
        this on held-out incidents): the reporter's type if chosen, else the
        prior model's (``triage_prior``), else the taxonomy's keywords; the
        prior's severity raised to the framework floors, else the signal words.
        The reasons are plain sentences naming the report's own words."""
        from incidents.triage_prior import prior_verdict

        text = report.text.lower()
        impact = read_impact(report.text)
        prior = prior_verdict(
            report.text,
            (report.customer_facing, report.data_exposed, report.regulatory),
            impact,
            active_types={t.slug for t in context.types},
            codes=set(context.codes),
        )
        type_slug, type_confidence, type_reason, chosen_type = self._type(
            report, text, context.types, prior, impact
        )
        severity, severity_confidence, severity_reason = self._severity(
            report, text, chosen_type, context, prior, impact
        )
        return RuleVerdict(
            type_slug,
            type_confidence,
            type_reason,
            chosen_type,
            severity,
            severity_confidence,
            severity_reason,
        )

    # -- type --
    def _type(self, report: Report, text: str, types: list, prior, impact):
        if report.incident_type:
            chosen = next((t for t in types if t.slug == report.incident_type), None)
            if chosen:
                return chosen.slug, 1.0, f"{chosen.name}, as the reporter chose", chosen
        if prior is not None and prior.incident_type:
            chosen = next(t for t in types if t.slug == prior.incident_type)
            words = quoted(impact, TYPE_SIGNALS, limit=2)
            reason = f"looks like {_lower_first(chosen.name)}"
            if words:
                reason += " (" + ", ".join(words) + ")"
            return chosen.slug, prior.type_probability, reason, chosen
        return self._keyword_type(text, types)

    def _keyword_type(self, text: str, types: list):
        best: tuple[int, int, str] | None = None
        best_type = None
        best_hits: list[str] = []
        for incident_type in types:
            hits = _matches(text, incident_type.keyword_list)
            if not hits:
                continue
            # Most keywords first, then the longest (most specific) phrase, then
            # the slug so ties are stable.
            key = (len(hits), max(len(h) for h in hits), incident_type.slug)
            if (
                best is None
                or key[:2] > best[:2]
                or (key[:2] == best[:2] and key[2] < best[2])
            ):
                best, best_type, best_hits = key, incident_type, hits
        if best_type is None:
            return None, 0.3, "no type recognised", None
        confidence = min(0.9, 0.5 + 0.15 * len(best_hits))
        return (
            best_type.slug,
            confidence,
            f"looks like {_lower_first(best_type.name)} ("
            + ", ".join(f"“{h}”" for h in best_hits)
            + ")",
            best_type,
        )

    # -- severity --
    def _severity(
        self, report: Report, text: str, incident_type, context, prior, impact
    ):
        codes = context.codes
        floor, floor_reasons = framework_floor(report)
        if floor and floor in codes:
            words = quoted(impact, LEVEL_SIGNALS_FLOOR, limit=2)
            confidence = min(0.95, 0.55 + 0.1 * len(floor_reasons) + 0.1 * len(words))
            return (
                floor,
                confidence,
                f"{floor} by the framework: "
                + ", ".join(floor_reasons)
                + (" (" + ", ".join(words) + ")" if words else ""),
            )
        if (
            prior is not None
            and prior.severity
            and (impact.found or prior.severity_probability >= PRIOR_ALONE)
        ):
            return (
                prior.severity,
                prior.severity_probability,
                level_reason(prior.severity, impact),
            )
        signals: dict[str, list[str]] = {code: [] for code in SEVERITY_SIGNALS}
        if report.customer_facing:
            signals["SEV-2"].append("customer-facing")
        for code, words in SEVERITY_SIGNALS.items():
            signals[code].extend(f"“{w}”" for w in _matches(text, words))
        # The most severe level with any signal wins: under-rating a breach costs
        # far more than over-rating a typo, and a person confirms either way.
        for code in sorted(codes, key=context.ranks.__getitem__):
            if signals.get(code):
                strength = len(signals[code])
                confidence = min(0.95, 0.55 + 0.1 * strength)
                return code, confidence, f"{code} from " + ", ".join(signals[code])
        if incident_type is not None and incident_type.default_severity_id:
            code = incident_type.default_severity.code
            return code, 0.5, f"{code}, the usual level for this type (by default)"
        fallback = "SEV-3" if "SEV-3" in codes else None
        return (
            fallback,
            0.3,
            f"{fallback} as a cautious default: nothing in the report points at a level",
        )


# The signals worth naming for a type: what was hit and how.
TYPE_SIGNALS = (
    "down",
    "personal_data",
    "disclosure",
    "safety",
    "regulator",
    "degraded",
    "cosmetic",
    "docs",
)
# Without any impact signal in the report, the prior's severity is used only
# when at least this sure; else the type's default level.
PRIOR_ALONE = 0.6
# The words shown beside a framework floor.
LEVEL_SIGNALS_FLOOR = ("scope_all", "down", "personal_data", "disclosure", "missed")


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def plain_rationale(reasons: Sequence[str]) -> str:
    """One or two plain sentences: the reasons joined, the first capitalised."""
    text = "; ".join(r for r in reasons if r) + "."
    return text[:1].upper() + text[1:]


def similar_reason(similar: Sequence[SimilarIncident]) -> str:
    """``similar open incidents: INC-…; similar past incidents: INC-…`` (the
    clauses present)."""
    clauses = []
    still_open = [s.reference for s in similar if s.open]
    past = [s.reference for s in similar if not s.open]
    if still_open:
        clauses.append("similar open incidents: " + ", ".join(still_open))
    if past:
        clauses.append("similar past incidents: " + ", ".join(past))
    return "; ".join(clauses)


def similar_for(report: Report, *, user=None) -> list[SimilarIncident]:
    """Open look-alikes first (possible duplicates), then similar resolved
    incidents; both only among those ``user`` may see (non-restricted ones
    without a user)."""
    return open_lookalikes(
        report.text, user=user, exclude_pk=report.incident_pk
    ) + similar_incidents(report.text, user=user)


# Open incidents compared per suggestion: the newest, a handful in practice.
OPEN_CORPUS_LIMIT = 300
# An open incident this close is offered as a possible duplicate.
OPEN_MIN_SCORE = 0.2


def open_lookalikes(
    text: str, *, user=None, exclude_pk: int | None = None
) -> list[SimilarIncident]:
    """Up to ``SIMILAR_RESULTS`` open incidents resembling ``text``, best
    first, as possible duplicates (``open=True``).

    Visibility is applied before ranking (the open incidents are few): a
    restricted incident is never compared for someone who may not see it, nor
    without a user. TF-IDF cosine similarity of title and description, fitted on
    the visible open incidents and the report (a few milliseconds)."""
    if not text.strip():
        return []
    qs = Incident.objects.exclude(status__in=Incident.ENDED_STATUSES)
    qs = qs.visible_to(user) if user is not None else qs.filter(restricted=False)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    rows = list(
        qs.exclude(reference__startswith="~")
        .order_by("-created_at", "-pk")
        .values_list("reference", "title", "description", "severity__code")[
            :OPEN_CORPUS_LIMIT
        ]
    )
    if not rows:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    documents = [f"{title} {description}" for _, title, description, _ in rows]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform([*documents, text])
    except ValueError:  # only stop words
        return []
    scores = linear_kernel(matrix[-1], matrix[:-1]).ravel()
    ranked = sorted(
        (i for i in range(len(rows)) if scores[i] >= OPEN_MIN_SCORE),
        key=lambda i: (-scores[i], i),
    )[:SIMILAR_RESULTS]
    return [
        SimilarIncident(
            reference=rows[i][0],
            title=rows[i][1],
            severity=rows[i][3],
            resolution="",
            score=round(float(scores[i]), 3),
            open=True,
        )
        for i in ranked
    ]


def similar_incidents(text: str, *, user=None) -> list[SimilarIncident]:
    """Up to ``SIMILAR_RESULTS`` resolved incidents resembling ``text``.

    With ``user``, only incidents ``user`` may see; without, only non-restricted
    ones (the suggestion is stored on an incident that other people will see).

    Ranks against the per-process corpus index (``corpus_index``), then asks the
    database which of the best candidates may be shown and reads what is shown
    (reference, title, severity, resolution) fresh: a restriction or a title
    changed since the index was fitted is honoured at once.
    """
    if not text.strip():
        return []
    index = corpus_index()
    if index is None:
        return []
    candidates = index.rank(text)
    qs = Incident.objects.filter(status__in=Incident.ENDED_STATUSES)
    qs = qs.visible_to(user) if user is not None else qs.filter(restricted=False)
    found: list[SimilarIncident] = []
    # Usually the first chunk holds enough visible incidents: one query. A user
    # who may see little walks further down the ranking, a chunk per query.
    for offset in range(0, len(candidates), SIMILAR_CANDIDATE_CHUNK):
        chunk = candidates[offset : offset + SIMILAR_CANDIDATE_CHUNK]
        shown = {
            row[0]: row[1:]
            for row in qs.filter(pk__in=[pk for pk, _ in chunk]).values_list(
                "pk", "reference", "title", "severity__code", "resolution_summary"
            )
        }
        for pk, score in chunk:
            if pk in shown:
                reference, title, severity_code, resolution = shown[pk]
                found.append(
                    SimilarIncident(
                        reference=reference,
                        title=title,
                        severity=severity_code,
                        resolution=resolution,
                        score=score,
                    )
                )
                if len(found) == SIMILAR_RESULTS:
                    return found
    return found


@dataclass(frozen=True)
class CorpusIndex:
    """The TF-IDF vectorizer and matrix fitted over the latest resolved incidents
    (all of them, whoever may see them: visibility is applied after ranking)."""

    watermark: tuple
    pks: tuple[int, ...]
    vectorizer: object
    matrix: object

    def rank(self, text: str) -> list[tuple[int, float]]:
        """(pk, cosine score) of the corpus rows scoring at least
        ``SIMILAR_MIN_SCORE``, best first, the more recently resolved first on a
        tie."""
        from sklearn.metrics.pairwise import linear_kernel

        query = self.vectorizer.transform([text])
        # TF-IDF rows are L2-normalised, so the dot product is the cosine.
        scores = linear_kernel(query, self.matrix).ravel()
        ranked = sorted(
            (i for i in range(len(self.pks)) if scores[i] >= SIMILAR_MIN_SCORE),
            key=lambda i: (-scores[i], i),
        )
        return [(self.pks[i], round(float(scores[i]), 3)) for i in ranked]


# One fitted index per process, refitted when the corpus watermark moves. Each
# gunicorn worker or Celery process keeps its own; nothing is shared between
# processes or machines, so none can see another's stale state.
_corpus_cache: CorpusIndex | None = None
_corpus_lock = threading.Lock()


def corpus_watermark() -> tuple:
    """(latest ``resolved_at``, count, highest pk) of the resolved incidents: one
    aggregate query. It moves whenever an incident resolves, is reopened or is
    deleted, which is when the corpus changes."""
    row = Incident.objects.filter(status__in=Incident.ENDED_STATUSES).aggregate(
        latest=Max("resolved_at"), count=Count("pk"), top=Max("pk")
    )
    return (row["latest"], row["count"], row["top"])


def corpus_index() -> CorpusIndex | None:
    """The fitted corpus index for the current watermark, fitting it only when
    the watermark has moved since this process last fitted; None when there is
    nothing to rank against. Costs one query when nothing changed."""
    global _corpus_cache
    watermark = corpus_watermark()
    cached = _corpus_cache
    if cached is not None and cached.watermark == watermark:
        return cached if cached.pks else None
    with _corpus_lock:
        cached = _corpus_cache
        if cached is None or cached.watermark != watermark:
            cached = _corpus_cache = _fit_corpus(watermark)
    return cached if cached.pks else None


def clear_corpus_cache() -> None:
    """Forget this process's fitted index (the next suggestion refits)."""
    global _corpus_cache
    with _corpus_lock:
        _corpus_cache = None


def _fit_corpus(watermark: tuple) -> CorpusIndex:
    from sklearn.feature_extraction.text import TfidfVectorizer

    rows = list(
        Incident.objects.filter(status__in=Incident.ENDED_STATUSES)
        .order_by("-resolved_at", "-pk")
        .values_list("pk", "title", "description")[:SIMILAR_CORPUS_LIMIT]
    )
    empty = CorpusIndex(watermark=watermark, pks=(), vectorizer=None, matrix=None)
    if not rows:
        return empty
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(
            [f"{title} {description}" for _, title, description in rows]
        )
    except ValueError:  # only stop words in the corpus
        return empty
    return CorpusIndex(
        watermark=watermark,
        pks=tuple(pk for pk, _, _ in rows),
        vectorizer=vectorizer,
        matrix=matrix,
    )


def get_suggester() -> Suggester:
    """The suggester in use: the learned one when the latest trained version is
    usable for type or severity, else the baseline with a note saying why.

    Costs one small query (the latest version's id); the pipeline itself is
    loaded once per process and version (``triage_model.current_model``).
    """
    # Imported here: triage_model builds on this module's rules and types.
    from incidents.triage_model import LearnedSuggester, current_model

    model = current_model()
    if model.usable:
        return LearnedSuggester(model)
    return BaselineSuggester(note=model.fallback_note)


def suggest_for(
    *,
    title: str,
    description: str = "",
    impact: str = "",
    customer_facing: bool = False,
    data_exposed: bool = False,
    regulatory: bool = False,
    incident_type: str | None = None,
    affected_services: Sequence[str] = (),
    affected_sites: Sequence[str] = (),
    affected_suppliers: Sequence[str] = (),
    user=None,
    suggester: Suggester | None = None,
    incident_pk: int | None = None,
) -> Suggestion:
    """Suggest a type, a severity and similar past incidents. Stores nothing.

    ``user``: when given, similar incidents come only from those ``user`` may
    see; when None, only from non-restricted incidents. Open look-alikes come
    first (``open=True``, possible duplicates); ``incident_pk`` is left out of
    them (the incident this report already is). ``affected_*`` are the
    declare form's tags; the learned model uses them as features.
    """
    report = Report(
        title=title,
        description=description,
        impact=impact,
        customer_facing=customer_facing,
        data_exposed=data_exposed,
        regulatory=regulatory,
        incident_type=incident_type,
        affected_services=tuple(affected_services),
        affected_sites=tuple(affected_sites),
        affected_suppliers=tuple(affected_suppliers),
        incident_pk=incident_pk,
    )
    return (suggester or get_suggester()).suggest(report, user=user)


# --- Showing a stored suggestion ---------------------------------------------

# An incident reference as triage writes it in a rationale (INC-2026-0042).
REFERENCE = re.compile(r"\bINC-\d{4}-\d+\b")


def named_references(incident) -> set[str]:
    """The incident references a stored triage rationale names."""
    return set(REFERENCE.findall((incident.suggestion or {}).get("rationale") or ""))


def visible_rationale(user, incident, *, visible: set[str] | None = None) -> str:
    """The stored triage rationale, naming only the similar incidents ``user``
    may see now: it was written at declaration, and one may since have been
    restricted. ``visible``: the references ``user`` may see, when the caller
    has already looked them up for many incidents at once."""
    rationale = (incident.suggestion or {}).get("rationale") or ""
    named = named_references(incident)
    if not named:
        return rationale
    if visible is None:
        visible = set(
            Incident.objects.visible_to(user)
            .filter(reference__in=named)
            .values_list("reference", flat=True)
        )
    for reference in named - visible:
        rationale = re.sub(rf",?\s*\b{re.escape(reference)}\b", "", rationale)
    # A "similar ... incidents:" clause left empty says nothing.
    return re.sub(r";?\s*similar (?:past|open) incidents:\s*(?=[;.]|$)", "", rationale)


def visible_similar(user, incident) -> list[Incident]:
    """The similar incidents stored with ``incident``'s triage suggestion that
    ``user`` may see now, in the stored order (open look-alikes first), never
    ``incident`` itself. Read afresh: their titles and states are today's, and
    one restricted since the declaration is left out."""
    stored = (incident.suggestion or {}).get("similar") or []
    references = [
        item.get("reference")
        for item in stored
        if isinstance(item, dict) and item.get("reference") != incident.reference
    ]
    references = [reference for reference in references if reference]
    if not references:
        return []
    found = {
        row.reference: row
        for row in Incident.objects.visible_to(user)
        .filter(reference__in=references)
        .select_related("severity")
    }
    return [found[reference] for reference in references if reference in found]


def visible_suggestion(user, incident) -> dict:
    """The stored triage suggestion as ``user`` may read it now: the rationale
    naming only the similar incidents they may see, and only those similar
    incidents, never one restricted since the declaration (``user`` None:
    none of them)."""
    stored = dict(incident.suggestion or {})
    if not stored:
        return stored
    seen = (
        {row.reference for row in visible_similar(user, incident)}
        if user is not None
        else set()
    )
    stored["rationale"] = visible_rationale(user, incident, visible=seen)
    stored["similar"] = [
        item
        for item in stored.get("similar") or []
        if isinstance(item, dict) and item.get("reference") in seen
    ]
    return stored
