"""The triage model every installation starts with: trained on a corpus of
realistic reports shipped with the code (``triage_data/corpus.jsonl``, written
for this purpose and labelled with the demo taxonomy's types and the severity
framework), not on the organisation's history.

Two linear heads over one feature space:

* words: TF-IDF of word 1–2-grams of the report, host names replaced by a neutral
  word (``triage_reader.normalise``);
* chars: TF-IDF of character 3–5-grams within words (spelling, non-native
  English, compounds);
* impact: the signals ``triage_reader.read_impact`` finds (who, how many, which
  function, data, regulator, safety), as tokens, weighted up.

Training takes about a second and is deterministic (fixed data order, the
lbfgs solver). Each process trains once: ``warm_up()`` starts it in a
background thread at start-up (``IncidentsConfig.ready``), and ``prior_model()``
waits for it if a suggestion comes first. Nothing is fetched or unpickled.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from incidents.triage_reader import Impact, normalise, read_impact

logger = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "triage_data"
# The training corpus and the development set: both train the shipped prior (the
# held-out evaluation set lives with the tests and trains nothing).
CORPUS = (DATA / "corpus.jsonl", DATA / "dev.jsonl")
TYPE_C = 10.0
SEVERITY_C = 3.0
IMPACT_WEIGHT = 2.0


@dataclass(frozen=True)
class Example:
    text: str
    flags: tuple[bool, bool, bool]
    incident_type: str
    severity: str


def load_corpus(paths: tuple[Path, ...] = CORPUS) -> list[Example]:
    examples = []
    for path in paths:
        examples += _read(path)
    return examples


def _read(path: Path) -> list[Example]:
    examples = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            examples.append(
                Example(
                    text=" ".join(
                        filter(None, (row["title"], row.get("description", "")))
                    ),
                    flags=(
                        bool(row.get("customer_facing")),
                        bool(row.get("data_exposed")),
                        bool(row.get("regulatory")),
                    ),
                    incident_type=row["incident_type"],
                    severity=row["severity"],
                )
            )
    return examples


def taxonomy_examples() -> list[Example]:
    """The demo taxonomy's types as examples: name, description and keywords,
    at the type's default severity (class prototypes for the rarer types)."""
    from incidents.demo.taxonomy import TYPES

    return [
        Example(
            text=f"{spec['name']}. {spec['description']} {spec['keywords']}",
            flags=(False, False, False),
            incident_type=spec["slug"],
            severity=spec["default_severity"],
        )
        for spec in TYPES
    ]


def _flag_tokens(flags) -> str:
    names = ("customer_facing", "data_exposed", "regulatory")
    return " ".join(f"flag:{n}" for n, on in zip(names, flags, strict=True) if on)


@dataclass
class Prediction:
    label: str
    probability: float


class PriorModel:
    """The fitted features and heads; ``predict`` gives the best label of a
    head among the allowed ones with its probability (renormalised)."""

    def __init__(self, examples: list[Example]):
        started = time.perf_counter()
        self.words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        self.chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2
        )
        self.signals = CountVectorizer(
            token_pattern=r"\S+", lowercase=False, binary=True
        )
        texts = [normalise(e.text) for e in examples]
        signals = [
            read_impact(e.text).tokens + " " + _flag_tokens(e.flags) for e in examples
        ]
        x = sparse.hstack(
            [
                self.words.fit_transform(texts),
                self.chars.fit_transform(texts),
                self.signals.fit_transform(signals) * IMPACT_WEIGHT,
            ]
        ).tocsr()
        self.type_head = LogisticRegression(
            C=TYPE_C, max_iter=500, solver="newton-cg"
        ).fit(x, [e.incident_type for e in examples])
        self.severity_head = LogisticRegression(
            C=SEVERITY_C, max_iter=500, solver="newton-cg"
        ).fit(x, [e.severity for e in examples])
        self.size = len(examples)
        self.seconds = time.perf_counter() - started

    def features(self, text: str, flags, impact: Impact):
        plain = normalise(text)
        return sparse.hstack(
            [
                self.words.transform([plain]),
                self.chars.transform([plain]),
                self.signals.transform([impact.tokens + " " + _flag_tokens(flags)])
                * IMPACT_WEIGHT,
            ]
        ).tocsr()

    def predict(self, head: str, x, allowed: set[str] | None = None):
        model = self.type_head if head == "type" else self.severity_head
        probabilities = model.predict_proba(x)[0]
        classes = [str(c) for c in model.classes_]
        if allowed is not None:
            mask = np.array([c in allowed for c in classes])
            if not mask.any():
                return None
            probabilities = np.where(mask, probabilities, 0.0)
            probabilities = probabilities / probabilities.sum()
        k = int(probabilities.argmax())
        return Prediction(classes[k], float(probabilities[k]))


_model: PriorModel | None = None
_lock = threading.Lock()
_failed = False


def prior_model() -> PriorModel | None:
    """This process's prior model, trained on first use (or by ``warm_up``);
    None when the corpus cannot be read (the keyword rules are used then)."""
    global _model, _failed
    if _model is not None or _failed:
        return _model
    with _lock:
        if _model is None and not _failed:
            try:
                _model = PriorModel(load_corpus() + taxonomy_examples())
            except Exception:  # noqa: BLE001 - a broken corpus means "rules"
                logger.exception("the triage prior model could not be trained")
                _failed = True
    return _model


def _after_fork_in_child() -> None:
    # A fork (a Celery prefork child) may happen while the warm-up thread holds
    # the lock; that thread does not exist in the child, so the child gets a
    # fresh lock and trains on first use if the parent had not finished.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def warm_up() -> threading.Thread:
    """Train the prior model in a background (daemon) thread, so the first
    reporter of a new process does not wait for it."""
    thread = threading.Thread(target=prior_model, name="triage-warm-up", daemon=True)
    thread.start()
    return thread


# The prior names a type only when the organisation's active types carry at
# least this share of its probability: with a taxonomy of its own, the prior's
# types are mostly absent and the keywords know better.
MIN_ACTIVE_MASS = 0.5


@dataclass(frozen=True)
class PriorVerdict:
    """What the prior model says about one report (either part may be None)."""

    incident_type: str | None
    type_probability: float
    severity: str | None
    severity_probability: float


def prior_verdict(
    text: str, flags, impact: Impact, *, active_types: set[str], codes: set[str]
) -> PriorVerdict | None:
    """The prior's type (among ``active_types``) and severity (among ``codes``)
    for a report; None when the prior model is not available."""
    model = prior_model()
    if model is None:
        return None
    x = model.features(text, flags, impact)
    type_label, type_probability = None, 0.0
    probabilities = model.type_head.predict_proba(x)[0]
    classes = [str(c) for c in model.type_head.classes_]
    mask = np.array([c in active_types for c in classes])
    if mask.any() and probabilities[mask].sum() >= MIN_ACTIVE_MASS:
        kept = np.where(mask, probabilities, 0.0) / probabilities[mask].sum()
        k = int(kept.argmax())
        type_label, type_probability = classes[k], float(kept[k])
    severity = model.predict("severity", x, allowed=codes)
    return PriorVerdict(
        incident_type=type_label,
        type_probability=type_probability,
        severity=severity.label if severity else None,
        severity_probability=severity.probability if severity else 0.0,
    )
