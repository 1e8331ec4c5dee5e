"""The triage evaluation: the labelled sets, the figures and the command, and the
held-out thresholds of docs/triage.md."""

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

import incidents
from incidents.seed import seed_incident_types, seed_severity_framework
from incidents.triage import Suggestion
from incidents.triage_eval import (
    LabelledFileError,
    evaluate,
    expected_calibration_error,
    load_labelled,
    parse_labelled,
    suggester_named,
)

DATA = Path(__file__).resolve().parent.parent / "data" / "triage"
DEV = Path(incidents.__file__).resolve().parent / "triage_data" / "dev.jsonl"
FAMILIES = {
    "service-outage",
    "security-data-breach",
    "supply-chain-disruption",
    "compliance-event",
}
# The hard-case kinds the sets must cover (docs/triage.md, "The evaluation sets").
HARD_CASES = {
    "scope",  # "all", "every", "some", "one customer", "internal only"
    "function",  # payments, login, ordering, patient care, payroll
    "misleading",  # words that point elsewhere ("failed", "container", "high")
    "flags",  # impact flags that contradict the text
    "nonnative",
    "terse",  # alert-style titles
    "narrative",  # long descriptions
    "host",  # host names ("...internal")
    "near-miss",
    "docs",
}
# Thresholds on the held-out set (the targets; never lowered).
THRESHOLDS = {
    "severity top-1": 0.85,
    "severity within one": 0.98,
    "family": 0.90,
    "type": 0.80,
}


@pytest.fixture
def taxonomy(db):
    seed_incident_types(seed_severity_framework())


def _rows(name):
    return [
        json.loads(line)
        for line in (DEV if name == "dev.jsonl" else DATA / name)
        .read_text()
        .splitlines()
    ]


@pytest.mark.parametrize("name", ["dev.jsonl", "heldout.jsonl"])
def test_sets_are_balanced_and_cover_every_hard_case(name):
    rows = _rows(name)
    assert len(rows) >= 200
    families = Counter(row["family"] for row in rows)
    levels = Counter(row["severity"] for row in rows)
    assert set(families) == FAMILIES
    assert set(levels) == {"SEV-1", "SEV-2", "SEV-3", "SEV-4"}
    # Balanced: no family or level below 22% of the set.
    assert min(families.values()) >= 0.22 * len(rows)
    assert min(levels.values()) >= 0.22 * len(rows)
    cases = Counter(kind for row in rows for kind in row["hard_cases"])
    assert HARD_CASES <= set(cases)
    assert all(row["reason"] for row in rows)


def test_dev_and_heldout_share_no_report():
    dev = {row["title"].lower() for row in _rows("dev.jsonl")}
    held = {row["title"].lower() for row in _rows("heldout.jsonl")}
    assert not dev & held


def test_labels_name_types_of_the_demo_taxonomy(taxonomy):
    from incidents.models import IncidentType

    families = dict(IncidentType.objects.values_list("slug", "family__slug"))
    for name in ("dev.jsonl", "heldout.jsonl"):
        for row in _rows(name):
            assert families[row["incident_type"]] == row["family"], row["title"]


def test_parse_refuses_bad_lines_naming_them():
    with pytest.raises(LabelledFileError, match="line 2: not JSON"):
        parse_labelled(['{"title": "a", "severity": "SEV-1"}', "{oops"])
    with pytest.raises(LabelledFileError, match="line 1: an object with a title"):
        parse_labelled(['{"severity": "SEV-1"}'])
    with pytest.raises(LabelledFileError, match="no expected"):
        parse_labelled(['{"title": "a"}'])
    rows = parse_labelled(['{"title": "a", "family": "x", "data_exposed": 1}', ""])
    assert rows[0].report.data_exposed and rows[0].severity is None


def test_expected_calibration_error():
    # Two bins: 0.9 confident and right 1 of 2 (|0.5-0.9|), 0.3 and right 0 of 2.
    error = expected_calibration_error(
        [0.9, 0.9, 0.3, 0.3], [True, False, False, False]
    )
    assert error == pytest.approx((0.4 * 2 + 0.3 * 2) / 4)
    assert expected_calibration_error([], []) is None


class _Scripted:
    """A suggester answering from a table, to check the figures."""

    def __init__(self, answers):
        self.answers = answers

    def suggest(self, report, *, user=None):
        incident_type, severity, type_confidence = self.answers[report.title]
        return Suggestion(
            severity=severity,
            incident_type=incident_type,
            confidence=0.5,
            rationale="scripted",
            type_confidence=type_confidence,
            severity_confidence=0.5,
        )


FIXTURE = [
    # expected: type, family, severity; suggested: type, severity
    ("a", "customer-facing-outage", "service-outage", "SEV-1"),
    ("b", "degraded-performance", "service-outage", "SEV-2"),
    ("c", "logistics-delay", "supply-chain-disruption", "SEV-3"),
    ("d", "policy-violation", "compliance-event", "SEV-4"),
]
ANSWERS = {
    "a": ("customer-facing-outage", "SEV-1", 0.9),  # all right
    "b": ("infrastructure-failure", "SEV-3", 0.6),  # family right, one level off
    "c": ("inventory-shortage", "SEV-1", 0.8),  # family right, two levels off
    "d": ("hr-compliance", "SEV-4", 0.3),  # family right, severity right
}


def _fixture_file(tmp_path):
    path = tmp_path / "small.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(
                {
                    "title": title,
                    "description": "",
                    "incident_type": incident_type,
                    "family": family,
                    "severity": severity,
                    "hard_cases": ["terse"] if title in "ab" else [],
                }
            )
            for title, incident_type, family, severity in FIXTURE
        )
    )
    return path


def test_evaluate_computes_the_figures(taxonomy, tmp_path):
    rows = load_labelled(_fixture_file(tmp_path))
    result = evaluate(rows, suggester=_Scripted(ANSWERS))
    right = {
        "severity top-1": sum(ANSWERS[t][1] == s for t, _, _, s in FIXTURE),
        "type": sum(ANSWERS[t][0] == ty for t, ty, _, _ in FIXTURE),
    }
    assert result.value("severity top-1") == right["severity top-1"] / 4 == 0.5
    assert result.value("type") == right["type"] / 4 == 0.25
    assert result.value("severity within one") == 0.75
    assert result.value("family") == 1.0
    assert result.by_case["terse"]["severity top-1"].value == 0.5
    # Type confidences 0.9 (right), 0.6, 0.8, 0.3 (wrong), each in its own bin.
    assert result.calibration["type"] == pytest.approx((0.1 + 0.6 + 0.8 + 0.3) / 4)
    assert len(result.misses) == 3
    assert {"p50", "p95"} <= set(result.latency_ms)


def test_command_prints_one_line_per_measure(taxonomy, tmp_path):
    out = io.StringIO()
    call_command(
        "evaluate_triage", str(_fixture_file(tmp_path)), "--by-case", stdout=out
    )
    lines = out.getvalue().splitlines()
    assert any(line.startswith("severity top-1 ") and "(n=4)" in line for line in lines)
    for name in ("severity within one", "family", "type"):
        assert any(line.startswith(name + " ") for line in lines)
    assert any(line.startswith("calibration severity ECE ") for line in lines)
    assert any(line.startswith("latency p50 ") for line in lines)
    assert any("terse (n=2)" in line for line in lines)


def test_command_refuses_a_missing_or_bad_file(taxonomy, tmp_path):
    with pytest.raises(CommandError):
        call_command("evaluate_triage", str(tmp_path / "nope.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n")
    with pytest.raises(CommandError, match="line 1"):
        call_command("evaluate_triage", str(bad))


@pytest.fixture(scope="module")
def heldout_figures(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            seed_incident_types(seed_severity_framework())
            result = evaluate(load_labelled(DATA / "heldout.jsonl"))
            transaction.set_rollback(True)
    return result


# Measures not met yet are expected failures (strict: meeting one fails the
# run until its mark is removed). docs/triage.md reports the current figures.
NOT_MET_YET = {"severity top-1", "severity within one", "family", "type"}


@pytest.mark.parametrize(
    "measure",
    [
        pytest.param(
            name,
            marks=[
                pytest.mark.xfail(
                    strict=True, reason="below the target; see docs/triage.md"
                )
            ]
            if name in NOT_MET_YET
            else [],
        )
        for name in THRESHOLDS
    ],
)
def test_heldout_thresholds(heldout_figures, measure):
    assert heldout_figures.value(measure) >= THRESHOLDS[measure]


@pytest.fixture(scope="module")
def heldout_with_demo_model(django_db_setup, django_db_blocker):
    """The held-out figures with a model trained on the demo history, as after
    ``make run`` (seed_demo trains one, the nightly task retrains it)."""
    with django_db_blocker.unblock():
        from django.db import transaction

        with transaction.atomic():
            seed_incident_types(seed_severity_framework())
            suggester = suggester_named("demo-model")
            result = evaluate(
                load_labelled(DATA / "heldout.jsonl"), suggester=suggester
            )
            transaction.set_rollback(True)
    return suggester, result


def test_the_demo_history_trains_a_model_that_is_used(heldout_with_demo_model):
    suggester, _ = heldout_with_demo_model
    row = suggester.model.row
    # The demo's types follow its stories; its severities are drawn at random.
    assert row.type_usable
    assert row.metrics["type"]["served_accuracy"] > 0.9
    assert row.metrics["familiarity"]["threshold"] > 0


@pytest.mark.parametrize("measure", list(THRESHOLDS))
def test_a_model_trained_on_the_demo_does_not_lower_heldout_figures(
    heldout_figures, heldout_with_demo_model, measure
):
    # The learned model answers only where it is surer than the rules and the
    # report resembles its history; the demo's templated stories must not
    # override better answers on realistic reports.
    _, with_model = heldout_with_demo_model
    assert with_model.value(measure) >= heldout_figures.value(measure)
