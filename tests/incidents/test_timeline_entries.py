"""The timeline's entry builders: one per kind, each kind the portal renders has
one, and the apps record entries only through them."""

import ast
import inspect
import re
from pathlib import Path

import pytest

from incidents import timeline_entries as entries
from incidents.models import TimelineEntry

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
APPS = ("incidentops", "incidents", "notifications", "reviews")


def _rendered_kinds() -> set[str]:
    """Kinds the templates name (``entry.kind == "..."``) plus every kind the
    incident page's timeline filter offers (``TimelineEntry.Kind.choices``)."""
    named = set()
    for template in TEMPLATES.rglob("*.html"):
        named |= set(
            re.findall(r"entry\.kind\s*==\s*[\"'](\w+)[\"']", template.read_text())
        )
    return named | set(TimelineEntry.Kind.values)


def test_every_kind_the_portal_renders_has_a_builder_and_every_builder_a_kind():
    rendered = _rendered_kinds()
    # the communication partial is rendered for a kind that exists
    assert "communication" in rendered
    assert set(entries.BUILDERS) == rendered == set(TimelineEntry.Kind.values)


@pytest.mark.parametrize("kind", TimelineEntry.Kind.values)
def test_each_builder_documents_its_kinds_data(kind):
    builder = entries.BUILDERS[kind]
    doc = inspect.getdoc(builder) or ""
    assert f"``{kind}``" in doc, f"{builder.__name__} does not name its kind"
    assert "data" in doc, f"{builder.__name__} does not document its data"
    assert all(
        parameter.kind == inspect.Parameter.KEYWORD_ONLY
        or parameter.kind == inspect.Parameter.VAR_KEYWORD
        for parameter in inspect.signature(builder).parameters.values()
    ), f"{builder.__name__} takes positional arguments"


def test_the_communication_partial_reads_only_documented_data():
    # given: what the incident page's communication partial reads from data
    partial = (TEMPLATES / "incidents" / "_communication.html").read_text()
    read = set(re.findall(r"\bdata\.(\w+)", partial))
    documented = inspect.getdoc(entries.communication)
    # then: each key is one the builder documents
    assert read
    assert {key for key in read if f"``{key}``" not in documented} == set()


def test_builders_record_given_keys_and_leave_out_absent_ones():
    entry = entries.field_change(summary="s", changes={}, alert=None)
    assert entry.kind == TimelineEntry.Kind.FIELD_CHANGE
    assert entry.data == {"changes": {}, "alert": None}
    confirmed = entries.severity_confirmed(
        summary="s", severity="SEV-2", previous=None, suggested="SEV-2", reason=""
    )
    assert confirmed.data["matches_suggestion"] is True
    status = entries.status(summary="s", previous="triage", status="investigating")
    assert status.data == {"from": "triage", "to": "investigating", "note": ""}
    reminder = entries.reminder(summary="s", status="queued", notification=1)
    assert reminder.kind == TimelineEntry.Kind.REMINDER
    with pytest.raises(ValueError):
        entries.communication(summary="s", status="queued", entry_kind="note")


def _raw_timeline_writes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
        if name not in ("timeline_record", "timeline_append"):
            continue
        raw = {kw.arg for kw in node.keywords} & {"kind", "summary", "data"}
        if raw:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_apps_write_the_timeline_only_through_the_builders():
    # timeline_record itself forwards the older keywords; tests may use them
    allowed = {ROOT / "incidents" / "services" / "timeline.py"}
    offenders = [
        where
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts and path not in allowed
        for where in _raw_timeline_writes(path)
    ]
    assert offenders == [], (
        "write timeline entries with entry=incidents.timeline_entries.<kind>(...), "
        f"not kind=/summary=/data=: {offenders}"
    )
