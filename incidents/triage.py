"""Triage suggestions: which type and severity a new report looks like, and which
past incidents resemble it.

A suggestion is advice for a person; it changes nothing by itself (DESIGN.md,
control 2). ``suggest_for`` stores nothing: the API's suggest endpoint and
``incident_declare`` both call it, and only the service writes the result.

``Suggester`` is the interface a learned model will implement later;
``BaselineSuggester`` is the transparent rule-based default:

* type: the taxonomy's keywords matched against title, description and impact;
* severity: the severity framework's signals (flags and words), with the type's
  default severity as the prior when nothing else speaks;
* similar: TF-IDF cosine similarity over the latest resolved incidents.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

from incidents.models import Incident, IncidentType, SeverityLevel

# The similar-incident corpus is capped so a suggestion stays well under a second
# on a large history: the latest resolved incidents are the most relevant anyway.
SIMILAR_CORPUS_LIMIT = 2000
SIMILAR_RESULTS = 3
SIMILAR_MIN_SCORE = 0.1


@dataclass(frozen=True)
class SimilarIncident:
    reference: str
    title: str
    severity: str | None
    resolution: str
    score: float = 0.0


@dataclass(frozen=True)
class Suggestion:
    severity: str | None
    incident_type: str | None
    confidence: float
    rationale: str
    similar: list[SimilarIncident] = field(default_factory=list)

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
OUTAGE_WORDS = ("outage", "down", "unavailable", "not loading", "cannot access")


def _contains(text: str, phrase: str) -> bool:
    # Whole-word at the start, open at the end, so "exfiltrat" matches
    # "exfiltration" but "sla" does not match "translation".
    return re.search(r"(?<![a-z0-9])" + re.escape(phrase), text) is not None


def _matches(text: str, phrases: Iterable[str]) -> list[str]:
    return [p for p in phrases if _contains(text, p)]


class BaselineSuggester:
    """Keyword and framework rules, plus TF-IDF for similar incidents."""

    def suggest(self, report: Report, *, user=None) -> Suggestion:
        text = report.text.lower()
        reasons: list[str] = []

        type_slug, type_confidence, type_reason, chosen_type = self._type(report, text)
        reasons.append(type_reason)
        severity, severity_confidence, severity_reason = self._severity(
            report, text, chosen_type
        )
        reasons.append(severity_reason)
        similar = self._similar(report.text, user=user)
        if similar:
            reasons.append(
                "similar past incidents: " + ", ".join(s.reference for s in similar)
            )
        confidence = round(
            min(type_confidence, severity_confidence)
            if type_slug
            else severity_confidence * 0.8,
            2,
        )
        return Suggestion(
            severity=severity,
            incident_type=type_slug,
            confidence=confidence,
            rationale="; ".join(reasons) + ".",
            similar=similar,
        )

    # -- type --
    def _type(self, report: Report, text: str):
        types = list(
            IncidentType.objects.filter(is_active=True).select_related(
                "default_severity"
            )
        )
        if report.incident_type:
            chosen = next((t for t in types if t.slug == report.incident_type), None)
            if chosen:
                return (
                    chosen.slug,
                    1.0,
                    f"type {chosen.slug} chosen by the reporter",
                    chosen,
                )
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
            return None, 0.3, "no type keywords matched", None
        confidence = min(0.9, 0.5 + 0.15 * len(best_hits))
        return (
            best_type.slug,
            confidence,
            f"type {best_type.slug} from keywords "
            + ", ".join(f'"{h}"' for h in best_hits),
            best_type,
        )

    # -- severity --
    def _severity(self, report: Report, text: str, incident_type):
        codes = set(SeverityLevel.objects.values_list("code", flat=True))
        signals: dict[str, list[str]] = {code: [] for code in SEVERITY_SIGNALS}
        if report.data_exposed:
            signals["SEV-1"].append("data exposed")
        if report.regulatory:
            signals["SEV-1"].append("regulatory event")
        if report.customer_facing:
            if _matches(text, OUTAGE_WORDS):
                signals["SEV-1"].append("customer-facing outage")
            else:
                signals["SEV-2"].append("customer-facing")
        for code, words in SEVERITY_SIGNALS.items():
            signals[code].extend(f'"{w}"' for w in _matches(text, words))

        # The most severe level with any signal wins: under-rating a breach costs
        # far more than over-rating a typo, and a person confirms either way.
        for code in ("SEV-1", "SEV-2", "SEV-3", "SEV-4"):
            if signals[code] and code in codes:
                strength = len(signals[code])
                confidence = min(0.95, 0.55 + 0.1 * strength)
                return (
                    code,
                    confidence,
                    f"severity {code} from " + ", ".join(signals[code]),
                )
        if incident_type is not None and incident_type.default_severity_id:
            code = incident_type.default_severity.code
            return code, 0.5, f"severity {code} is the type's default"
        fallback = "SEV-3" if "SEV-3" in codes else None
        return fallback, 0.3, f"no severity signals; {fallback} as a cautious default"

    # -- similar incidents --
    def _similar(self, text: str, *, user=None) -> list[SimilarIncident]:
        if not text.strip():
            return []
        qs = Incident.objects.filter(status__in=Incident.CLOSED_STATUSES)
        # Without a user to ask for, only non-restricted incidents qualify: the
        # suggestion is stored on an incident that other people will see.
        qs = qs.visible_to(user) if user is not None else qs.filter(restricted=False)
        rows = list(
            qs.order_by("-resolved_at", "-pk").values_list(
                "reference",
                "title",
                "description",
                "severity__code",
                "resolution_summary",
            )[:SIMILAR_CORPUS_LIMIT]
        )
        if not rows:
            return []
        return _rank_similar(text, rows)


def _rank_similar(text: str, rows: Sequence[tuple]) -> list[SimilarIncident]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import linear_kernel

    documents = [f"{title} {description}" for _, title, description, _, _ in rows]
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    try:
        matrix = vectorizer.fit_transform(documents)
    except ValueError:  # only stop words in the corpus
        return []
    query = vectorizer.transform([text])
    # TF-IDF rows are L2-normalised, so the dot product is the cosine similarity.
    scores = linear_kernel(query, matrix).ravel()
    ranked = sorted(
        (i for i in range(len(rows)) if scores[i] >= SIMILAR_MIN_SCORE),
        key=lambda i: (-scores[i], i),
    )[:SIMILAR_RESULTS]
    return [
        SimilarIncident(
            reference=rows[i][0],
            title=rows[i][1],
            severity=rows[i][3],
            resolution=rows[i][4],
            score=round(float(scores[i]), 3),
        )
        for i in ranked
    ]


_default_suggester: Suggester = BaselineSuggester()


def get_suggester() -> Suggester:
    """The suggester in use (the baseline until a learned model replaces it)."""
    return _default_suggester


def suggest_for(
    *,
    title: str,
    description: str = "",
    impact: str = "",
    customer_facing: bool = False,
    data_exposed: bool = False,
    regulatory: bool = False,
    incident_type: str | None = None,
    user=None,
    suggester: Suggester | None = None,
) -> Suggestion:
    """Suggest a type, a severity and similar past incidents. Stores nothing.

    ``user``: when given, similar incidents come only from those ``user`` may
    see; when None, only from non-restricted incidents.
    """
    report = Report(
        title=title,
        description=description,
        impact=impact,
        customer_facing=customer_facing,
        data_exposed=data_exposed,
        regulatory=regulatory,
        incident_type=incident_type,
    )
    return (suggester or get_suggester()).suggest(report, user=user)
