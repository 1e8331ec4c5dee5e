import json

import pytest
from django.db import connection

from incidents import services
from incidents.models import AppendOnlyError, TimelineEntry
from incidents.timeline import export_timeline, verify_timeline


@pytest.fixture
def logged(ready, manager):
    for text in ("first", "second", "third"):
        services.incident_add_note(incident=ready, actor=manager, body=text)
    return ready


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_entries_are_numbered_and_chained(logged):
    entries = list(logged.timeline.order_by("sequence"))
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0].prev_hash == TimelineEntry.GENESIS_HASH
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    result = verify_timeline(logged)
    assert result.ok
    assert result.entries == len(entries)
    assert result.last_hash == entries[-1].hash


def test_tampered_content_is_detected(logged):
    target = logged.timeline.get(summary="second")
    _raw(
        "UPDATE incidents_timelineentry SET summary = %s WHERE id = %s",
        ["nothing happened", target.pk],
    )
    result = verify_timeline(logged)
    assert not result.ok
    assert result.first_broken == target.sequence
    assert "does not match its hash" in result.reason


def test_rehashed_tampering_breaks_the_next_link(logged):
    target = logged.timeline.get(summary="second")
    target.summary = "nothing happened"
    forged = target.compute_hash()
    _raw(
        "UPDATE incidents_timelineentry SET summary = %s, hash = %s WHERE id = %s",
        [target.summary, forged, target.pk],
    )
    result = verify_timeline(logged)
    assert result.first_broken == target.sequence + 1
    assert "does not link" in result.reason


def test_a_deleted_entry_is_detected(logged):
    target = logged.timeline.get(summary="second")
    _raw("DELETE FROM incidents_timelineentry WHERE id = %s", [target.pk])
    result = verify_timeline(logged)
    assert result.first_broken == target.sequence + 1
    assert "out of sequence" in result.reason


def test_export_is_json_evidence_that_recomputes(logged):
    import hashlib

    document = json.loads(json.dumps(export_timeline(logged)))
    assert document["incident"] == logged.reference
    assert document["verification"]["ok"] is True
    for item in document["entries"]:
        canonical = json.dumps(
            item["content"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        assert hashlib.sha256(canonical.encode()).hexdigest() == item["hash"]


def test_timeline_record_is_the_public_writer(logged):
    entry = services.timeline_record(
        incident=logged,
        kind="communication",
        summary="E-mail to executives: delivered",
        data={"channel": "email", "recipients": ["eve@example.com"], "ok": True},
    )
    assert entry.actor is None
    assert entry.actor_label == "IncidentOps"
    assert entry.sequence == logged.timeline.count()
    assert verify_timeline(logged).ok


def test_saving_an_existing_entry_is_refused(logged):
    entry = logged.timeline.last()
    entry.summary = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()


def test_deleting_an_entry_is_refused(logged):
    with pytest.raises(AppendOnlyError):
        logged.timeline.last().delete()


@pytest.mark.parametrize(
    "operation",
    [
        lambda qs: qs.update(summary="x"),
        lambda qs: qs.delete(),
        lambda qs: qs.bulk_update(list(qs), ["summary"]),
        lambda qs: qs.bulk_create([TimelineEntry(summary="x")]),
    ],
    ids=["update", "delete", "bulk_update", "bulk_create"],
)
def test_queryset_writes_are_refused(logged, operation):
    before = [(e.pk, e.summary) for e in TimelineEntry.objects.order_by("pk")]
    with pytest.raises(AppendOnlyError):
        operation(TimelineEntry.objects.filter(incident=logged))
    assert [(e.pk, e.summary) for e in TimelineEntry.objects.order_by("pk")] == before
