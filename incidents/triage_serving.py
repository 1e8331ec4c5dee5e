"""How a model trained on the organisation's history is served beside the
rules (``incidents.triage_model``): per report and head, the model's label only
where it is surer than the rules, and only for reports like its history.

Both numbers compared estimate the chance of being right: the model's
probability is calibrated on the organisation's own held-out incidents
(temperature scaling), the rules' confidence is the prior's probability or the
framework rule's, measured on the realistic evaluation set (docs/triage.md
gives its calibration error). Calibration measured on a history says nothing
about reports unlike it: the familiarity check keeps the model to reports at
least as close to its training incidents as 95% of the held-out ones were.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

# A report less like the organisation's history than this share of its own
# held-out incidents are is outside what the model's calibration was measured
# on: its probabilities say nothing there, and the rules answer.
FAMILIARITY_QUANTILE = 0.05


def familiarity_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")


def familiarity(vectorizer, history, texts: Sequence[str]) -> np.ndarray:
    """For each text, the cosine similarity of its nearest training incident
    (word 1–2-grams without stop words; 0 when it shares no word)."""
    if history is None or history.shape[0] == 0:
        return np.ones(len(texts))
    query = vectorizer.transform(list(texts))
    # TF-IDF rows are L2-normalised: the dot product is the cosine.
    return np.asarray((query @ history.T).max(axis=1).todense()).ravel()


def familiarity_threshold(train, test) -> float:
    """The ``FAMILIARITY_QUANTILE`` of the held-out incidents' similarity to the
    training ones: how close the organisation's own new incidents come."""
    vectorizer = familiarity_vectorizer()
    try:
        history = vectorizer.fit_transform([r.report.text for r in train])
    except ValueError:  # only stop words
        return 0.0
    similarity = familiarity(vectorizer, history, [r.report.text for r in test])
    return float(np.quantile(similarity, FAMILIARITY_QUANTILE))


def familiar_mask(train, test, threshold: float) -> np.ndarray:
    """Which of ``test`` are at least ``threshold`` close to ``train`` (by
    construction about 95% of them at the stored threshold)."""
    vectorizer = familiarity_vectorizer()
    try:
        history = vectorizer.fit_transform([r.report.text for r in train])
    except ValueError:  # only stop words: every report counts as familiar
        return np.ones(len(test), dtype=bool)
    return familiarity(vectorizer, history, [r.report.text for r in test]) >= threshold


def served_label(
    model_label: str,
    model_probability: float,
    rules_label: str | None,
    rules_confidence: float,
) -> str:
    """The label a suggestion shows for one head: the model's only when it is
    surer of it than the rules are of theirs.

    Both numbers estimate the chance of being right: the model's probability is
    calibrated on the organisation's own held-out incidents (temperature
    scaling), the rules' confidence is the prior's probability or the
    framework's rule confidence, measured on the realistic evaluation set (its
    calibration error is in docs/triage.md). A model trained on a history whose
    labels do not follow the text (the demo's severities are drawn at random) is
    unsure of everything, so the rules keep their answer."""
    if rules_label is None or model_label == rules_label:
        return model_label
    return model_label if model_probability > rules_confidence else rules_label


def served_labels(
    labels,
    probabilities,
    rules: Sequence[tuple[str | None, float]],
    familiar,
    *,
    overruled: Sequence[bool] | None = None,
) -> list[str]:
    """``served_label`` for many reports: the model's ``labels`` with their
    ``probabilities``, the rules' (label, confidence) pairs, whether each
    report is familiar (an unfamiliar one gets the model only where the rules
    have no answer), and where a framework floor ``overruled`` the model (the
    rules answer)."""
    overruled = overruled or [False] * len(rules)
    served = []
    for label, p, (rule_label, confidence), known, floor in zip(
        labels, probabilities, rules, familiar, overruled, strict=True
    ):
        if floor:
            served.append(rule_label or "")
            continue
        served.append(
            served_label(str(label), float(p), rule_label, confidence if known else 1.0)
            or ""
        )
    return served
