"""Every sender format's samples read as documented (parsers/<format>.py)."""

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.ingestion import parsers
from incidents.ingestion.batch import MalformedAlert, key_hash, parse_time
from incidents.ingestion.body import decode_json
from incidents.ingestion.parsers import alertmanager, events_v2, generic

SAMPLES = [
    pytest.param(kind, payload, expected, id=f"{kind}: {name}")
    for kind, module in parsers.PARSERS.items()
    for name, payload, expected in module.SAMPLES
]


@pytest.mark.parametrize(("kind", "payload", "expected"), SAMPLES)
def test_each_sample_reads_as_its_expected_batch(kind, payload, expected):
    # the sample survives a round trip through JSON, as it would on the wire
    batch = parsers.parse(kind, json.loads(json.dumps(payload)))

    assert batch == expected
    assert batch.dedup_key == key_hash(expected.group_key)


def test_every_integration_kind_has_a_parser_with_samples():
    from incidents.models import Integration

    assert set(parsers.PARSERS) == set(Integration.Kind.values)
    assert all(module.SAMPLES for module in parsers.PARSERS.values())


def test_group_keys_differing_only_at_the_end_hash_apart():
    stem = "x" * 1999
    assert key_hash(stem + "a") != key_hash(stem + "b")
    assert len(key_hash(stem + "a")) == 64


def test_alertmanager_start_times_keep_their_offset():
    batch = parsers.parse("alertmanager", alertmanager.SAMPLE_ALERTMANAGER)

    assert batch.alerts[0].starts_at == parse_time("2026-03-01T10:00:00.123456Z")
    assert batch.earliest_start() == batch.alerts[0].starts_at


def test_alertmanager_zero_end_time_is_unset():
    batch = parsers.parse("alertmanager", alertmanager.SAMPLE_ALERTMANAGER)

    assert batch.alerts[0].ends_at is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"version": "3"}, "version"),
        ({"groupKey": None}, "groupKey"),
        ({"alerts": []}, "alerts"),
        ({"status": "sleeping"}, "status"),
    ],
)
def test_alertmanager_refuses_what_lacks_identity(change, reason):
    payload = {**alertmanager.SAMPLE_ALERTMANAGER, **change}
    if change.get("groupKey", 1) is None:
        del payload["groupKey"]

    with pytest.raises(MalformedAlert, match=reason):
        parsers.parse("alertmanager", payload)


def test_generic_long_title_is_cut_and_kept_whole_in_the_description():
    title = "Checkout failing " * 30
    batch = parsers.parse("generic", {**generic.SAMPLE, "title": title})

    assert len(batch.title) == 200
    assert batch.title.endswith("…")
    assert batch.description.startswith(title.strip())


def test_generic_label_values_of_any_scalar_type_become_text():
    batch = parsers.parse(
        "generic",
        {**generic.SAMPLE, "labels": {"a": True, "b": 1.5, "c": None, "d": [1]}},
    )

    assert batch.alerts[0].labels == {"a": "true", "b": "1.5", "c": "", "d": "[1]"}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"event_action": "explode", "dedup_key": "k"}, "event_action"),
        ({"event_action": "trigger"}, "payload"),
        ({"event_action": "trigger", "payload": {"source": "x"}}, "summary"),
        ({"event_action": "resolve"}, "dedup_key"),
        ({"event_action": "acknowledge", "dedup_key": ""}, "dedup_key"),
    ],
)
def test_events_v2_refusals_name_the_problem(payload, reason):
    with pytest.raises(MalformedAlert, match=reason):
        parsers.parse("events-v2", payload)


def test_events_v2_trigger_without_dedup_key_gets_one():
    payload = {**events_v2.SAMPLE}
    del payload["dedup_key"]

    batch = parsers.parse("events-v2", payload)

    assert len(batch.group_key) == 32
    assert batch.alerts[0].fingerprint == batch.group_key


def test_json_nested_too_deep_is_refused():
    with pytest.raises(MalformedAlert, match="nests deeper"):
        decode_json(b"[" * 100 + b"]" * 100)
    with pytest.raises(MalformedAlert, match="nests deeper"):
        decode_json(b"[" * 100_000 + b"]" * 100_000)
    assert decode_json(b'{"a": [[1]]}') == {"a": [[1]]}


# --- the Alertmanager fast path agrees with the serializer -------------------------

_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
    st.text(max_size=8), st.sampled_from(["4", "1", "firing", "resolved", " x "]),
)  # fmt: skip
_value = st.one_of(_scalar, st.lists(_scalar, max_size=2), st.dictionaries(
    st.text(max_size=4), _scalar, max_size=2))  # fmt: skip
_text_maps = st.one_of(st.dictionaries(st.text(max_size=6), _value, max_size=3), _value)


@st.composite
def _alertmanager_bodies(draw):
    body = copy.deepcopy(alertmanager.SAMPLE_ALERTMANAGER)
    if draw(st.booleans()):
        body = copy.deepcopy(alertmanager.SAMPLE_GRAFANA)
    for _ in range(draw(st.integers(0, 4))):
        target = body
        alerts = body.get("alerts")
        if isinstance(alerts, list) and alerts and draw(st.booleans()):
            target = alerts[draw(st.integers(0, len(alerts) - 1))]
            if not isinstance(target, dict):
                continue
        key = draw(st.sampled_from(sorted(target) + ["extra"]))
        change = draw(st.sampled_from(["drop", "scalar", "map"]))
        if change == "drop":
            target.pop(key, None)
        elif change == "scalar":
            target[key] = draw(_value)
        else:
            target[key] = draw(_text_maps)
    return body


@given(_alertmanager_bodies())
@settings(max_examples=300, deadline=None)
def test_the_alertmanager_fast_path_reads_what_the_serializer_reads(body):
    fast = alertmanager._canonical(body)
    serializer = alertmanager.AlertmanagerPayloadSerializer(data=body)
    valid = serializer.is_valid()

    if fast is not None:
        assert valid, serializer.errors
        assert fast == serializer.validated_data


def test_the_samples_take_the_fast_path():
    for _, payload, _ in alertmanager.SAMPLES:
        assert alertmanager._canonical(json.loads(json.dumps(payload))) is not None
