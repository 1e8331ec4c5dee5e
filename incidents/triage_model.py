"""The learned triage model: training, storage, loading and the suggester.

Two linear classifiers (incident type, severity) over one feature space:

* words: TF-IDF of word 1–2-grams of title, description and impact;
* chars: TF-IDF of character 3–5-grams (within words), which copes with
  spelling variants, service names and compounds;
* signals: the impact flags (customer-facing, data exposed, regulatory) and the
  affected services, sites and suppliers as binary tokens.

Each head is a multinomial logistic regression; when every class has at least
``CALIBRATION_FOLDS`` examples its probabilities are calibrated by temperature
scaling on cross-validated predictions, and the held-out metrics record how
well the probabilities match the hit rate (mean confidence, log loss). Training
(``triage_model_train``) measures the model and the rule baseline on the same
stratified hold-out split, then refits on every labelled incident and stores a
new ``TriageModel`` version. A head (type or severity) is used only when its
held-out accuracy is at least the baseline's; severity keeps the framework's
hard signals as floors (``triage.framework_floor``).

Many processes on many machines: the pipeline lives in the database, each
suggestion asks for the latest version number (one small query), and each
process keeps the unpickled pipeline of that one version (``current_model``).
The pickle is written only by ``triage_model_train``; nothing else writes it.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import joblib
import numpy as np
import sklearn
from django.db import IntegrityError, transaction
from django.utils import timezone
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import (
    ENGLISH_STOP_WORDS,
    CountVectorizer,
    TfidfVectorizer,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from incidents.models import Incident, TriageModel
from incidents.triage import (
    BaselineSuggester,
    Report,
    RuleContext,
    Suggestion,
    framework_floor,
    plain_rationale,
    similar_for,
    similar_reason,
)
from incidents.triage_reader import level_reason, read_impact
from incidents.triage_serving import (
    FAMILIARITY_QUANTILE,
    familiar_mask,
    familiarity,
    familiarity_threshold,
    familiarity_vectorizer,
    served_label,
    served_labels,
)

logger = logging.getLogger(__name__)

# Below this many labelled incidents a held-out split is too small to tell a
# model from luck; training stores nothing and the rules stay in use.
MIN_TRAINING_SAMPLES = 50
# A type with fewer confirmed incidents cannot be learned (nor stratified); it is
# left out of training, and the model never suggests it.
MIN_SAMPLES_PER_TYPE = 3
# The newest labelled incidents only: keeps nightly training to seconds.
MAX_TRAINING_SAMPLES = 5000
TEST_SIZE = 0.25
RANDOM_STATE = 0
# Weak regularisation: the TF-IDF features are many and sparse, and on the demo
# history lower values lost type accuracy (docs/triage.md); calibration then
# corrects over-confidence where there is data for it.
C = 10.0
# Temperature scaling has one parameter: two folds estimate it well enough, and
# every type kept for training has two examples in the training split.
CALIBRATION_FOLDS = 2
KEEP_VERSIONS = 5
EXPLAIN_TERMS = 3
# Part of the data fingerprint: bump when the features change, so the next
# nightly run retrains even if no incident changed.
FEATURE_SCHEMA = 2

FLAGS = ("customer_facing", "data_exposed", "regulatory")
TAG_FIELDS = (
    ("service", "affected_services"),
    ("site", "affected_sites"),
    ("supplier", "affected_suppliers"),
)


# --- features -----------------------------------------------------------------


def _tag_token(value: str) -> str:
    return "_".join(str(value).lower().split())


def signal_tokens(report: Report) -> str:
    """The flags and affected tags of ``report`` as space-separated tokens."""
    tokens = [f"flag:{name}" for name in FLAGS if getattr(report, name)]
    for prefix, attribute in TAG_FIELDS:
        tokens += [f"{prefix}:{_tag_token(v)}" for v in getattr(report, attribute) if v]
    # Never empty, so the vocabulary is never empty either.
    return " ".join(tokens) or "flag:none"


def feature_rows(reports: Sequence[Report]) -> np.ndarray:
    """The model's input: one row per report, columns (text, signals)."""
    rows = np.empty((len(reports), 2), dtype=object)
    for i, report in enumerate(reports):
        rows[i, 0] = report.text
        rows[i, 1] = signal_tokens(report)
    return rows


def build_features() -> ColumnTransformer:
    # Only scikit-learn classes, no functions of ours: the pickle then loads on
    # any machine with the same scikit-learn, whatever we rename here.
    return ColumnTransformer(
        [
            (
                "words",
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                0,
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    sublinear_tf=True,
                    min_df=2,
                ),
                0,
            ),
            (
                "signals",
                CountVectorizer(binary=True, token_pattern=r"\S+", lowercase=False),
                1,
            ),
        ]
    )


def can_calibrate(labels: Sequence[str]) -> bool:
    return min(Counter(labels).values()) >= CALIBRATION_FOLDS


def fit_head(x, labels: Sequence[str], *, calibrate: bool):
    """A fitted classifier for ``labels``: temperature-calibrated logistic
    regression when ``calibrate``, plain logistic regression otherwise.
    Returns (classifier, its linear model)."""
    linear = LogisticRegression(C=C, max_iter=2000)
    if not calibrate:
        return linear.fit(x, labels), linear
    calibrated = CalibratedClassifierCV(
        linear, method="temperature", cv=CALIBRATION_FOLDS, ensemble=False
    ).fit(x, labels)
    # ensemble=False: one model fit on all of ``labels``, whose weights explain.
    return calibrated, calibrated.calibrated_classifiers_[0].estimator


def _strip_for_pickling(features: ColumnTransformer) -> None:
    # ``stop_words_`` keeps every term min_df dropped: introspection only, and
    # it can be most of the pickle (scikit-learn's docs say to drop it).
    for _, transformer, _ in features.transformers_:
        if hasattr(transformer, "stop_words_"):
            transformer.stop_words_ = None


# --- training -----------------------------------------------------------------


@dataclass(frozen=True)
class LabelledIncident:
    pk: int
    report: Report
    type_slug: str
    severity: str


def labelled_incidents() -> list[LabelledIncident]:
    """Resolved or closed incidents with a confirmed type and severity, newest
    ``MAX_TRAINING_SAMPLES``, in primary-key order (deterministic)."""
    rows = (
        Incident.objects.filter(
            status__in=Incident.ENDED_STATUSES,
            severity__isnull=False,
            incident_type__isnull=False,
        )
        .order_by("-resolved_at", "-pk")
        .values_list(
            "pk",
            "title",
            "description",
            "impact",
            *FLAGS,
            *(attribute for _, attribute in TAG_FIELDS),
            "incident_type__slug",
            "severity__code",
        )[:MAX_TRAINING_SAMPLES]
    )
    result = []
    for row in sorted(rows, key=lambda r: r[0]):
        pk, title, description, impact, cf, de, rg, services, sites, suppliers = row[
            :10
        ]
        report = Report(
            title=title,
            description=description,
            impact=impact,
            customer_facing=cf,
            data_exposed=de,
            regulatory=rg,
            affected_services=tuple(services or ()),
            affected_sites=tuple(sites or ()),
            affected_suppliers=tuple(suppliers or ()),
        )
        result.append(LabelledIncident(pk, report, row[10], row[11]))
    return result


def data_fingerprint(rows: Sequence[LabelledIncident]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{FEATURE_SCHEMA}|{sklearn.__version__}|{C}".encode())
    for row in rows:
        payload = [row.pk, row.type_slug, row.severity, row.report.text]
        payload.append(signal_tokens(row.report))
        digest.update(json.dumps(payload).encode())
    return digest.hexdigest()


def _with_floor(report: Report, predicted: str, context: RuleContext) -> str:
    floor, _ = framework_floor(report)
    return context.more_severe(predicted, floor) or predicted


def _head_metrics(truth, predicted, probabilities, classes, baseline) -> dict:
    confidence = probabilities.max(axis=1)
    return {
        "accuracy": round(accuracy_score(truth, predicted), 4),
        "macro_f1": round(
            f1_score(truth, predicted, average="macro", zero_division=0), 4
        ),
        "baseline_accuracy": round(accuracy_score(truth, baseline), 4),
        "baseline_macro_f1": round(
            f1_score(truth, baseline, average="macro", zero_division=0), 4
        ),
        # Calibration: a calibrated model's mean top probability is close to
        # its accuracy; log loss punishes confident mistakes.
        "mean_confidence": round(float(confidence.mean()), 4),
        "log_loss": round(log_loss(truth, probabilities, labels=classes), 4),
    }


def _evaluate(train, test) -> dict:
    """Fit on ``train``, score model and rules on ``test``; the metrics dict."""
    features = build_features()
    x_train = features.fit_transform(feature_rows([r.report for r in train]))
    x_test = features.transform(feature_rows([r.report for r in test]))

    context = RuleContext.load()
    rules = BaselineSuggester()
    verdicts = [rules.classify(r.report, context) for r in test]

    metrics: dict = {}
    threshold = familiarity_threshold(train, test)
    metrics["familiarity"] = {
        "threshold": round(threshold, 4),
        "quantile": FAMILIARITY_QUANTILE,
    }
    familiar = familiar_mask(train, test, threshold)
    # The split decides calibration; the refit on all rows does the same, so
    # the metrics describe the kind of model that is stored.
    calibrate = {
        "type": can_calibrate([r.type_slug for r in train]),
        "severity": can_calibrate([r.severity for r in train]),
    }
    type_head, _ = fit_head(
        x_train, [r.type_slug for r in train], calibrate=calibrate["type"]
    )
    type_probabilities = type_head.predict_proba(x_test)
    metrics["type"] = _head_metrics(
        [r.type_slug for r in test],
        type_head.classes_[type_probabilities.argmax(axis=1)],
        type_probabilities,
        type_head.classes_,
        [v.type_slug or "" for v in verdicts],
    )
    metrics["type"]["calibrated"] = calibrate["type"]
    metrics["type"]["served_accuracy"] = round(
        accuracy_score(
            [r.type_slug for r in test],
            served_labels(
                type_head.classes_[type_probabilities.argmax(axis=1)],
                type_probabilities.max(axis=1),
                [(v.type_slug, v.type_confidence) for v in verdicts],
                familiar,
            ),
        ),
        4,
    )

    severities = [r.severity for r in train]
    if len(set(severities)) < 2:
        metrics["severity"] = None
        return metrics
    severity_head, _ = fit_head(x_train, severities, calibrate=calibrate["severity"])
    severity_probabilities = severity_head.predict_proba(x_test)
    raw = severity_head.classes_[severity_probabilities.argmax(axis=1)]
    floored = [
        _with_floor(r.report, p, context) for r, p in zip(test, raw, strict=True)
    ]
    truth = [r.severity for r in test]
    # What a person sees is the model's level raised by the framework's floors,
    # so that is what is compared with the rules.
    metrics["severity"] = _head_metrics(
        truth,
        floored,
        severity_probabilities,
        severity_head.classes_,
        [v.severity or "" for v in verdicts],
    )
    metrics["severity"]["accuracy_without_floors"] = round(
        accuracy_score(truth, raw), 4
    )
    metrics["severity"]["calibrated"] = calibrate["severity"]
    # A floor is a rule: where it raised the model's level, the rules answer.
    served = served_labels(
        raw,
        severity_probabilities.max(axis=1),
        [(v.severity, v.severity_confidence) for v in verdicts],
        familiar,
        overruled=[f != label for f, label in zip(floored, raw, strict=True)],
    )
    metrics["severity"]["served_accuracy"] = round(accuracy_score(truth, served), 4)
    return metrics


def _split(rows: list[LabelledIncident]):
    types = [r.type_slug for r in rows]
    n_classes = len(set(types))
    n_test = max(round(len(rows) * TEST_SIZE), n_classes)
    if len(rows) - n_test < n_classes:
        return None
    return train_test_split(
        rows, test_size=n_test, random_state=RANDOM_STATE, stratify=types
    )


def _fit_all(rows: list[LabelledIncident], metrics: dict) -> dict:
    features = build_features()
    x = features.fit_transform(feature_rows([r.report for r in rows]))
    parts = {"features": features}
    parts["type"], parts["type_linear"] = fit_head(
        x, [r.type_slug for r in rows], calibrate=metrics["type"]["calibrated"]
    )
    parts["severity"] = parts["severity_linear"] = None
    if metrics["severity"] is not None:
        parts["severity"], parts["severity_linear"] = fit_head(
            x,
            [r.severity for r in rows],
            calibrate=metrics["severity"]["calibrated"],
        )
    _strip_for_pickling(features)
    vectorizer = familiarity_vectorizer()
    try:
        history = vectorizer.fit_transform([r.report.text for r in rows])
    except ValueError:  # only stop words: every report counts as familiar
        vectorizer = history = None
    if vectorizer is not None:
        vectorizer.stop_words_ = None
    parts["familiarity"] = {
        "vectorizer": vectorizer,
        "history": history,
        "threshold": metrics["familiarity"]["threshold"],
    }
    return parts


def build_version(
    rows: Sequence[LabelledIncident], *, version: int, now, fingerprint: str = ""
) -> tuple[TriageModel, dict] | None:
    """Train on ``rows`` and return an unsaved ``TriageModel`` (metrics, flags,
    the joblib bytes) with the fitted parts, or None when there is too little to
    learn from (fewer than ``MIN_TRAINING_SAMPLES`` usable rows, fewer than two
    types, or a split without every type). Touches the database only to read
    the taxonomy the rules use. Deterministic."""
    started = time.perf_counter()
    counts = Counter(r.type_slug for r in rows)
    rare = {slug: n for slug, n in counts.items() if n < MIN_SAMPLES_PER_TYPE}
    kept = [r for r in rows if r.type_slug not in rare]
    if len(kept) < MIN_TRAINING_SAMPLES or len(counts) - len(rare) < 2:
        logger.info(
            "triage model not trained: %s usable labelled incidents, %s needed",
            len(kept),
            MIN_TRAINING_SAMPLES,
        )
        return None
    split = _split(kept)
    if split is None:
        return None
    train, test = split
    # One BLAS thread: training shares its machine with workers and web
    # processes, and on data this size more threads barely help.
    with threadpool_limits(1):
        metrics = _evaluate(train, test)
        parts = _fit_all(kept, metrics)

    buffer = io.BytesIO()
    joblib.dump(parts, buffer, compress=3)
    type_metrics, severity_metrics = metrics["type"], metrics["severity"] or {}
    metrics["types_left_out"] = dict(sorted(rare.items()))
    metrics["test_type_counts"] = dict(
        sorted(Counter(r.type_slug for r in test).items())
    )
    model = TriageModel(
        version=version,
        trained_at=now,
        pipeline=buffer.getvalue(),
        library_version=sklearn.__version__,
        data_fingerprint=fingerprint,
        sample_count=len(kept),
        train_count=len(train),
        test_count=len(test),
        type_accuracy=type_metrics["accuracy"],
        baseline_type_accuracy=type_metrics["baseline_accuracy"],
        severity_accuracy=severity_metrics.get("accuracy"),
        baseline_severity_accuracy=severity_metrics.get("baseline_accuracy"),
        # A head is used when the suggestion as served (the model where it is
        # surer than the rules, the rules elsewhere) is at least as accurate as
        # the rules alone on the held-out incidents.
        type_usable=type_metrics["served_accuracy"]
        >= type_metrics["baseline_accuracy"],
        severity_usable=bool(severity_metrics)
        and severity_metrics["served_accuracy"]
        >= severity_metrics["baseline_accuracy"],
        type_labels=[str(c) for c in parts["type"].classes_],
        severity_labels=[str(c) for c in parts["severity"].classes_]
        if parts["severity"] is not None
        else [],
        metrics=metrics,
    )
    model.training_seconds = round(time.perf_counter() - started, 3)
    return model, parts


@transaction.atomic
def triage_model_train(*, now=None, force: bool = False) -> TriageModel | None:
    """Train the triage model on resolved incidents and store a new version.

    Changes: a new ``TriageModel`` row (the serialized pipeline, held-out
    metrics of model and baseline on the same split, labels, counts); versions
    beyond the newest ``KEEP_VERSIONS`` are deleted. Returns None and stores
    nothing when there are fewer than ``MIN_TRAINING_SAMPLES`` usable labelled
    incidents, or when the labelled incidents (and library) are exactly those of
    the latest version, unless ``force``; also when a concurrent run stored the
    same version number first. Sends nothing. Raises nothing of its own.
    Deterministic: fixed split and solver, rows in primary-key order.
    """
    now = now or timezone.now()
    started = time.perf_counter()
    rows = labelled_incidents()
    fingerprint = data_fingerprint(rows)
    latest = TriageModel.objects.without_pipeline().order_by("-version").first()
    if latest and latest.data_fingerprint == fingerprint and not force:
        logger.info("triage model v%s is up to date", latest.version)
        return None
    version = (latest.version if latest else 0) + 1
    built = build_version(rows, version=version, now=now, fingerprint=fingerprint)
    if built is None:
        return None
    model, _parts = built
    model.training_seconds = round(time.perf_counter() - started, 3)
    try:
        # A savepoint: a concurrent run that took this version number wins.
        with transaction.atomic():
            model.save()
    except IntegrityError:
        logger.info("triage model v%s was stored by a concurrent run", version)
        return None
    old = TriageModel.objects.order_by("-version").values_list("pk", flat=True)[
        KEEP_VERSIONS:
    ]
    TriageModel.objects.filter(pk__in=list(old)).delete()
    return model


# --- loading (per process, per version) ----------------------------------------


@dataclass(frozen=True)
class HeadPrediction:
    label: str
    probability: float
    terms: list[str]


class LoadedModel:
    """One version's pipeline, unpickled, plus the facts the rationale names."""

    def __init__(self, row: TriageModel, parts: dict):
        self.row = row
        self.version = row.version
        self.features = parts["features"]
        self.heads = {"type": parts["type"], "severity": parts["severity"]}
        self.familiarity = parts.get("familiarity")
        self.linear = {
            "type": parts["type_linear"],
            "severity": parts["severity_linear"],
        }
        names = self.features.get_feature_names_out()
        # Character n-grams explain nothing to a person: only whole words and
        # the signals (flags, tags) are named in a rationale.
        self.labels: dict[int, str] = {}
        for index, name in enumerate(names):
            block, _, term = name.partition("__")
            if block == "words" and not any(
                w in ENGLISH_STOP_WORDS or w.isdigit() for w in term.split()
            ):
                self.labels[index] = f'"{term}"'
            elif block == "signals" and term != "flag:none":
                kind, _, value = term.partition(":")
                self.labels[index] = (
                    value.replace("_", " ")
                    if kind == "flag"
                    else f"{kind} {value.replace('_', ' ')}"
                )

    def transform(self, report: Report):
        return self.features.transform(feature_rows([report]))

    def is_familiar(self, report: Report) -> bool:
        """Whether ``report`` resembles the incidents the model learned from at
        least as much as 95% of the organisation's own held-out incidents did
        (``FAMILIARITY_QUANTILE``). Versions stored before this check count
        every report as familiar."""
        if self.familiarity is None or self.familiarity["vectorizer"] is None:
            return True
        similarity = familiarity(
            self.familiarity["vectorizer"],
            self.familiarity["history"],
            [report.text],
        )[0]
        return bool(similarity >= self.familiarity["threshold"])

    def predict(
        self, head: str, x, *, allowed: set[str] | None = None
    ) -> HeadPrediction | None:
        """The most probable label of ``head`` among ``allowed`` (all when None),
        its probability (renormalised over ``allowed``) and the terms of ``x``
        that pushed most towards it."""
        classifier = self.heads[head]
        if classifier is None:
            return None
        probabilities = classifier.predict_proba(x)[0]
        classes = [str(c) for c in classifier.classes_]
        if allowed is not None:
            mask = np.array([c in allowed for c in classes])
            if not mask.any():
                return None
            probabilities = np.where(mask, probabilities, 0.0)
            probabilities = probabilities / probabilities.sum()
        k = int(probabilities.argmax())
        return HeadPrediction(
            classes[k], float(probabilities[k]), self._terms(self.linear[head], x, k)
        )

    def _terms(self, classifier, x, k: int) -> list[str]:
        row = sparse.csr_matrix(x)  # dense when the vocabulary is tiny
        indices, values = row.indices, row.data
        if not len(indices):
            return []
        coef = classifier.coef_[:, indices]
        if coef.shape[0] == 1:  # binary: one row, pointing at classes_[1]
            weights = coef[0] if k == 1 else -coef[0]
        else:
            # Relative to the average class: what makes this class win.
            weights = coef[k] - coef.mean(axis=0)
        contributions = values * weights
        ranked = sorted(
            (
                (float(c), int(i))
                for c, i in zip(contributions, indices, strict=True)
                if c > 0 and int(i) in self.labels
            ),
            reverse=True,
        )
        terms: list[str] = []
        seen_words: set[str] = set()
        for _, index in ranked:
            label = self.labels[index]
            words = set(label.strip('"').split())
            if words <= seen_words:  # "personal" after "personal data"
                continue
            seen_words |= words
            terms.append(label)
            if len(terms) == EXPLAIN_TERMS:
                break
        return terms


@dataclass(frozen=True)
class CurrentModel:
    """The latest version as this process sees it: loaded and usable, or not
    (``fallback_note`` says why the rules are used instead)."""

    loaded: LoadedModel | None
    fallback_note: str = ""

    @property
    def usable(self) -> bool:
        return self.loaded is not None and self.loaded.row.is_usable


_NO_MODEL = CurrentModel(
    None,
    "no triage model trained yet (it needs "
    f"{MIN_TRAINING_SAMPLES} resolved incidents with a confirmed type and "
    "severity), so the keyword and framework rules suggest",
)

# The trained model kept between requests (beside ``incidents.triage``'s corpus
# index): {version: CurrentModel}, at most one entry, replaced when a newer
# version appears. Rows never change, so a version number is a complete cache key.
_cache: dict[int, CurrentModel] = {}
_cache_lock = threading.Lock()


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _load(version: int) -> CurrentModel:
    row = TriageModel.objects.without_pipeline().filter(version=version).first()
    if row is None:  # pruned between the two queries
        return _NO_MODEL
    if not row.is_usable:
        return CurrentModel(
            None,
            f"triage model v{version} is weaker than the rules on held-out "
            f"incidents (type {_percent(row.type_accuracy)} vs "
            f"{_percent(row.baseline_type_accuracy)}, severity "
            f"{_percent(row.severity_accuracy)} vs "
            f"{_percent(row.baseline_severity_accuracy)}), so the keyword and "
            "framework rules suggest",
        )
    try:
        blob = TriageModel.objects.filter(pk=row.pk).values_list("pipeline", flat=True)[
            0
        ]
        # Our own bytes: written only by triage_model_train, never uploaded.
        parts = joblib.load(io.BytesIO(bytes(blob)))
        return CurrentModel(LoadedModel(row, parts))
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means "rules"
        logger.warning("triage model v%s could not be loaded: %s", version, exc)
        return CurrentModel(
            None,
            f"triage model v{version} could not be loaded here (trained with "
            f"scikit-learn {row.library_version}), so the keyword and framework "
            "rules suggest",
        )


def current_model() -> CurrentModel:
    """The latest trained version: one query for its number, the pipeline from
    this process's cache (loaded on first use of a version)."""
    version = (
        TriageModel.objects.order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    if version is None:
        return _NO_MODEL
    cached = _cache.get(version)
    if cached is not None:
        return cached
    with _cache_lock:
        cached = _cache.get(version)
        if cached is None:
            cached = _load(version)
            _cache.clear()
            _cache[version] = cached
    return cached


def clear_cache() -> None:
    """Forget loaded pipelines (tests; a process reloads on next use anyway)."""
    with _cache_lock:
        _cache.clear()


# --- the suggester ------------------------------------------------------------


@dataclass
class _Part:
    value: str | None
    confidence: float
    reason: str
    extra: list[str] = field(default_factory=list)


def _curly(term: str) -> str:
    """A quoted word of the report in typographic quotes; a tag as it is."""
    return f"“{term[1:-1]}”" if term.startswith('"') else term


class LearnedSuggester:
    """Type and severity from the trained model, the framework's hard signals as
    severity floors, the rules for a head the model does not beat, and similar
    past incidents as the baseline finds them."""

    def __init__(self, current: CurrentModel):
        assert current.loaded is not None
        self.model = current.loaded

    def suggest(self, report: Report, *, user=None) -> Suggestion:
        context = RuleContext.load()
        rules = BaselineSuggester().classify(report, context)
        impact = read_impact(report.text)
        x = self.model.transform(report)
        # A report unlike anything the organisation has confirmed: the model's
        # probabilities were never measured on such reports, so it only fills
        # in what the rules leave open.
        familiar = self.model.is_familiar(report)
        type_part = self._type(report, x, rules, context, impact, familiar)
        severity_part = self._severity(report, x, rules, context, impact, familiar)

        reasons = [type_part.reason, severity_part.reason]
        similar = similar_for(report, user=user)
        if similar:
            reasons.append(similar_reason(similar))
        confidence = (
            min(type_part.confidence, severity_part.confidence)
            if type_part.value
            else severity_part.confidence * 0.8
        )
        return Suggestion(
            severity=severity_part.value,
            incident_type=type_part.value,
            confidence=round(confidence, 2),
            rationale=plain_rationale(reasons),
            similar=similar,
            type_confidence=round(type_part.confidence, 2) if type_part.value else None,
            severity_confidence=round(severity_part.confidence, 2),
        )

    def _type(self, report: Report, x, rules, context, impact, familiar) -> _Part:
        row = self.model.row
        if report.incident_type and rules.type_slug == report.incident_type:
            return _Part(rules.type_slug, rules.type_confidence, rules.type_reason)
        if not row.type_usable:
            return _Part(rules.type_slug, rules.type_confidence, rules.type_reason)
        active = {t.slug: t for t in context.types}
        prediction = self.model.predict("type", x, allowed=set(active))
        if prediction is None or rules.type_slug == prediction.label:
            # Agreeing (or no answer): the rules' reason names the report's
            # own signals.
            return _Part(
                rules.type_slug,
                max(rules.type_confidence, prediction.probability)
                if prediction
                else rules.type_confidence,
                rules.type_reason,
            )
        if (
            served_label(
                prediction.label,
                prediction.probability,
                rules.type_slug,
                rules.type_confidence if familiar else 1.0,
            )
            != prediction.label
        ):
            # Less sure than the rules: the rules name what the reporter wrote.
            return _Part(rules.type_slug, rules.type_confidence, rules.type_reason)
        name = active[prediction.label].name
        reason = f"looks like {name[:1].lower() + name[1:]}, like past incidents"
        words = [_curly(t) for t in prediction.terms[:2]]
        if words:
            reason += " with " + ", ".join(words)
        return _Part(prediction.label, prediction.probability, reason)

    def _severity(self, report: Report, x, rules, context, impact, familiar) -> _Part:
        row = self.model.row
        prediction = (
            self.model.predict("severity", x, allowed=set(context.codes))
            if row.severity_usable
            else None
        )
        if prediction is None:
            return _Part(
                rules.severity, rules.severity_confidence, rules.severity_reason
            )
        floor, floor_reasons = framework_floor(report)
        chosen = context.more_severe(prediction.label, floor)
        if chosen != prediction.label and chosen in context.codes:
            # A floor is a rule: the rules' own reason and confidence for it.
            return _Part(
                rules.severity, rules.severity_confidence, rules.severity_reason
            )
        if prediction.label == rules.severity:
            return _Part(
                rules.severity,
                max(rules.severity_confidence, prediction.probability),
                rules.severity_reason,
            )
        if (
            served_label(
                prediction.label,
                prediction.probability,
                rules.severity,
                rules.severity_confidence if familiar else 1.0,
            )
            != prediction.label
        ):
            # Less sure than the rules and the impact reading: they keep it.
            return _Part(
                rules.severity, rules.severity_confidence, rules.severity_reason
            )
        return _Part(
            prediction.label,
            prediction.probability,
            level_reason(prediction.label, impact) + ", as in past incidents like this",
        )
