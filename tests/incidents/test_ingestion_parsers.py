"""Every sender format's samples read as documented (parsers/<format>.py)."""

import copy
import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incidentops.parsers import check_json
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

# Text a database cannot store (a NUL character, a lone surrogate) is drawn
# often, in keys and values, beside ordinary text.
_unstorable = st.sampled_from(["\x00", "a\x00b", "\ud800", "x\udfff"])
_texts = st.one_of(st.text(max_size=8), _unstorable)
_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False),
    _texts, st.sampled_from(["4", "1", "firing", "resolved", " x "]),
)  # fmt: skip
_keys = st.one_of(st.text(max_size=4), _unstorable)
_value = st.one_of(_scalar, st.lists(_scalar, max_size=2), st.dictionaries(
    _keys, _scalar, max_size=2))  # fmt: skip
_text_maps = st.one_of(st.dictionaries(_keys, _value, max_size=3), _value)


def _mutated(draw, body: dict) -> dict:
    """``body`` with up to four fields, of the body or of one of its alerts or
    its payload, dropped or replaced by generated values."""
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


@st.composite
def _alertmanager_bodies(draw):
    body = copy.deepcopy(alertmanager.SAMPLE_ALERTMANAGER)
    if draw(st.booleans()):
        body = copy.deepcopy(alertmanager.SAMPLE_GRAFANA)
    return _mutated(draw, body)


@st.composite
def _bodies_of_every_sender(draw):
    kind = draw(st.sampled_from(sorted(parsers.PARSERS)))
    _, sample, _ = draw(st.sampled_from(parsers.PARSERS[kind].SAMPLES))
    body = copy.deepcopy(sample)
    if isinstance(body.get("payload"), dict) and draw(st.booleans()):
        # reach into the event's payload too
        return kind, {**body, "payload": _mutated(draw, dict(body["payload"]))}
    return kind, _mutated(draw, body)


@given(_alertmanager_bodies())
@settings(max_examples=300, deadline=None)
def test_the_alertmanager_fast_path_reads_what_the_serializer_reads(body):
    fast = alertmanager._canonical(body)
    serializer = alertmanager.AlertmanagerPayloadSerializer(data=body)
    valid = serializer.is_valid()

    if fast is not None:
        assert valid, serializer.errors
        assert fast == serializer.validated_data


@given(_bodies_of_every_sender())
@settings(max_examples=400, deadline=None)
def test_no_sender_lets_unstorable_text_through(kind_and_body):
    # Whatever field carries it (group key, label key or value, annotation,
    # URL, time, Grafana values, Events v2 custom details...), a NUL character
    # or a lone surrogate is refused by the parser, never handed on to storage.
    kind, body = kind_and_body
    try:
        batch = parsers.parse(kind, body)
    except MalformedAlert:
        return
    assert check_json(dataclasses.asdict(batch), max_depth=10_000) == ""


@pytest.mark.parametrize(
    ("kind", "where"),
    [
        ("alertmanager", lambda b: b.update(receiver="a\x00b")),
        ("alertmanager", lambda b: b.update(groupKey="k\x00")),
        ("alertmanager", lambda b: b["alerts"][0].update(generatorURL="\ud800")),
        ("alertmanager", lambda b: b["alerts"][0]["labels"].update({"a\x00": "x"})),
        ("alertmanager", lambda b: b["alerts"][0]["annotations"].update(x="\x00")),
        ("alertmanager", lambda b: b["commonLabels"].update(job="\udc00")),
        ("alertmanager", lambda b: b["alerts"][0].update(values={"A": "\x00"})),
        ("alertmanager", lambda b: b.update(message="\x00")),
        ("generic", lambda b: b.update(title="down\x00")),
        ("generic", lambda b: b["labels"].update({"\ud800": 1})),
        ("generic", lambda b: b.update(severity_hint="\x00")),
        ("events-v2", lambda b: b["payload"].update(custom_details={"k": "\x00"})),
        ("events-v2", lambda b: b["payload"].update(component="\ud800")),
    ],
)
def test_unstorable_text_is_refused_in_every_field_kind(kind, where):
    module = parsers.PARSERS[kind]
    body = copy.deepcopy(module.SAMPLES[0][1])
    if kind == "alertmanager":
        body = copy.deepcopy(alertmanager.SAMPLE_GRAFANA)
    where(body)

    with pytest.raises(MalformedAlert):
        parsers.parse(kind, body)


def test_bodies_the_quick_scan_cannot_read_are_walked():
    # UTF-16 JSON and surrogates written as UTF-8 bytes both decode in
    # Python's reader; neither may slip past the check for unstorable text.
    with pytest.raises(MalformedAlert, match="NUL"):
        decode_json(json.dumps({"title": "a\x00"}).encode("utf-16"))
    with pytest.raises(MalformedAlert, match="surrogate"):
        decode_json(b'{"title": "\xed\xa0\x80"}')


def test_the_samples_take_the_fast_path():
    for _, payload, _ in alertmanager.SAMPLES:
        assert alertmanager._canonical(json.loads(json.dumps(payload))) is not None
