"""Measuring the triage suggestion on labelled reports.

A labelled file is JSON lines, one report per line::

    {"title": "...", "description": "...", "impact": "...",
     "customer_facing": false, "data_exposed": false, "regulatory": false,
     "severity": "SEV-1", "family": "service-outage",
     "incident_type": "customer-facing-outage"}

``title`` is required; the impact flags default to false; each of the expected
``severity``, ``family`` and ``incident_type`` is optional, and a measure counts
only the lines that give its label. Other keys (``reason``, ``hard_cases``) are
carried along: ``hard_cases`` (a list of words such as ``"terse"``) gives the
per-kind breakdown.

``evaluate`` asks the suggester in use (``triage.get_suggester``, or the one
given) for each report, as a reporter would get it, without a user (so similar
incidents come only from non-restricted ones). It stores nothing. The family of
a suggestion is the family of the suggested type in this database's taxonomy.

Figures (fractions in [0, 1]):

* severity top-1: the suggested level is the expected one;
* severity within one: at most one level away (by ``SeverityLevel.rank``);
* family, type: the suggested type's family / the type is the expected one;
* calibration: the expected calibration error (ECE) of a confidence against
  being right, over ``CALIBRATION_BINS`` equal-width bins: the weighted mean of
  |accuracy - mean confidence| per bin. 0 is perfectly calibrated. Given for the
  type's and the severity's own confidence when the suggestion has them, and for
  the overall ``confidence`` against "type and severity both right".
* latency: p50 and p95 of one suggestion, in milliseconds.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from incidents.models import IncidentType, SeverityLevel
from incidents.triage import Report, Suggester, get_suggester

CALIBRATION_BINS = 10
FLAG_KEYS = ("customer_facing", "data_exposed", "regulatory")


class LabelledFileError(ValueError):
    """A line of a labelled file is not a usable report (message names it)."""


@dataclass(frozen=True)
class LabelledReport:
    report: Report
    severity: str | None = None
    family: str | None = None
    incident_type: str | None = None
    hard_cases: tuple[str, ...] = ()


def parse_labelled(lines: Iterable[str]) -> list[LabelledReport]:
    """Labelled reports from JSON lines; blank lines are skipped. Raises
    ``LabelledFileError`` naming the line number of a bad line."""
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LabelledFileError(f"line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(data, dict) or not str(data.get("title") or "").strip():
            raise LabelledFileError(f"line {number}: an object with a title is needed")
        if not any(data.get(k) for k in ("severity", "family", "incident_type")):
            raise LabelledFileError(
                f"line {number}: no expected severity, family or incident_type"
            )
        report = Report(
            title=str(data["title"]),
            description=str(data.get("description") or ""),
            impact=str(data.get("impact") or ""),
            **{key: bool(data.get(key)) for key in FLAG_KEYS},
        )
        rows.append(
            LabelledReport(
                report=report,
                severity=data.get("severity") or None,
                family=data.get("family") or None,
                incident_type=data.get("incident_type") or None,
                hard_cases=tuple(data.get("hard_cases") or ()),
            )
        )
    return rows


def load_labelled(path: str | Path) -> list[LabelledReport]:
    with open(path, encoding="utf-8") as handle:
        return parse_labelled(handle)


def expected_calibration_error(
    confidences: Sequence[float], hits: Sequence[bool], bins: int = CALIBRATION_BINS
) -> float | None:
    """ECE over ``bins`` equal-width confidence bins; None without data."""
    if not confidences:
        return None
    totals: dict[int, list] = defaultdict(lambda: [0, 0.0, 0])
    for confidence, hit in zip(confidences, hits, strict=True):
        index = min(bins - 1, int(max(0.0, confidence) * bins))
        totals[index][0] += 1
        totals[index][1] += confidence
        totals[index][2] += int(hit)
    error = sum(
        abs(right / count - summed / count) * count
        for count, summed, right in totals.values()
    )
    return error / len(confidences)


@dataclass
class Measure:
    hits: int = 0
    count: int = 0

    def add(self, hit: bool) -> None:
        self.hits += int(hit)
        self.count += 1

    @property
    def value(self) -> float | None:
        return self.hits / self.count if self.count else None


@dataclass
class Evaluation:
    """The figures of one evaluation run; ``measures`` by name, ``calibration``
    (ECE) by name, ``by_case`` the severity top-1 and type per hard-case kind,
    ``misses`` one dict per report with any wrong label."""

    measures: dict[str, Measure] = field(default_factory=dict)
    calibration: dict[str, float | None] = field(default_factory=dict)
    mean_confidence: dict[str, float | None] = field(default_factory=dict)
    by_case: dict[str, dict[str, Measure]] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    misses: list[dict] = field(default_factory=list)

    def value(self, name: str) -> float | None:
        return self.measures[name].value

    def lines(self) -> list[str]:
        """One line per measure, e.g. ``severity top-1 0.87 (n=400)``."""
        out = []
        for name, measure in self.measures.items():
            if measure.count:
                out.append(f"{name} {measure.value:.2f} (n={measure.count})")
        for name, error in self.calibration.items():
            if error is not None:
                mean = self.mean_confidence.get(name)
                out.append(
                    f"calibration {name} ECE {error:.3f} (mean confidence {mean:.2f})"
                )
        if self.latency_ms:
            out.append(
                f"latency p50 {self.latency_ms['p50']:.1f} ms, "
                f"p95 {self.latency_ms['p95']:.1f} ms"
            )
        return out


SUGGESTERS = ("current", "rules", "demo-model")


def suggester_named(name: str) -> Suggester:
    """The suggester to measure, by name:

    * ``current``: the one in use here (``get_suggester``: the latest trained
      version when usable, the rules otherwise);
    * ``rules``: the rules and impact reading with the shipped prior, as with no
      trained model;
    * ``demo-model``: a model trained, in memory, on the demo history that
      ``seed_demo`` loads (as after ``make run`` and its first training),
      combined with the rules as served. Stores nothing; needs the demo
      taxonomy. Raises ``ValueError`` for another name or when the demo history
      cannot train a model."""
    from incidents.triage import BaselineSuggester

    if name == "current":
        return get_suggester()
    if name == "rules":
        return BaselineSuggester()
    if name == "demo-model":
        from incidents.seed import demo_labelled_incidents
        from incidents.triage_model import (
            CurrentModel,
            LearnedSuggester,
            LoadedModel,
            build_version,
        )

        built = build_version(demo_labelled_incidents(), version=0, now=None)
        if built is None:
            raise ValueError("the demo history trains no model here")
        row, parts = built
        return LearnedSuggester(CurrentModel(LoadedModel(row, parts)))
    raise ValueError(f"unknown suggester {name!r}; one of {', '.join(SUGGESTERS)}")


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def evaluate(
    rows: Sequence[LabelledReport], *, suggester: Suggester | None = None
) -> Evaluation:
    """Suggest for every labelled report and measure (see the module doc).

    ``suggester``: the one to measure; by default the one in use, looked up
    once (``get_suggester``)."""
    suggester = suggester or get_suggester()
    ranks = SeverityLevel.objects.ranks()
    families = dict(IncidentType.objects.values_list("slug", "family__slug"))
    result = Evaluation(
        measures={
            name: Measure()
            for name in ("severity top-1", "severity within one", "family", "type")
        }
    )
    scored: dict[str, tuple[list[float], list[bool]]] = defaultdict(lambda: ([], []))
    timings = []
    for row in rows:
        started = time.perf_counter()
        suggestion = suggester.suggest(row.report)
        timings.append((time.perf_counter() - started) * 1000)
        _score(result, scored, row, suggestion, ranks, families)
    for name in ("type", "severity", "overall"):
        if name not in scored:
            continue
        confidences, hits = scored[name]
        result.calibration[name] = expected_calibration_error(confidences, hits)
        result.mean_confidence[name] = sum(confidences) / len(confidences)
    if timings:
        result.latency_ms = {
            "p50": _percentile(timings, 0.5),
            "p95": _percentile(timings, 0.95),
        }
    return result


def _score(result, scored, row, suggestion, ranks, families) -> None:
    hits: dict[str, bool] = {}
    if row.severity:
        hits["severity top-1"] = suggestion.severity == row.severity
        distance = (
            abs(ranks[suggestion.severity] - ranks[row.severity])
            if suggestion.severity in ranks and row.severity in ranks
            else None
        )
        hits["severity within one"] = distance is not None and distance <= 1
    if row.family:
        hits["family"] = families.get(suggestion.incident_type) == row.family
    if row.incident_type:
        hits["type"] = suggestion.incident_type == row.incident_type
    for name, hit in hits.items():
        result.measures[name].add(hit)
    for kind in row.hard_cases:
        per_case = result.by_case.setdefault(
            kind, {"severity top-1": Measure(), "type": Measure()}
        )
        for name in per_case:
            if name in hits:
                per_case[name].add(hits[name])
    confidences = {
        "type": getattr(suggestion, "type_confidence", None),
        "severity": getattr(suggestion, "severity_confidence", None),
    }
    for name, key in (("type", "type"), ("severity", "severity top-1")):
        if confidences[name] is not None and key in hits:
            scored[name][0].append(confidences[name])
            scored[name][1].append(hits[key])
    if "type" in hits and "severity top-1" in hits:
        scored["overall"][0].append(suggestion.confidence)
        scored["overall"][1].append(hits["type"] and hits["severity top-1"])
    if not all(hits.values()):
        result.misses.append(
            {
                "title": row.report.title,
                "expected": [row.incident_type, row.severity],
                "suggested": [suggestion.incident_type, suggestion.severity],
                "rationale": suggestion.rationale,
            }
        )
