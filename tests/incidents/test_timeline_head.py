"""The chain's signed head: deleting any entry, the newest included, is
detected by verify_timeline, the evidence endpoint and the command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from incidents import services
from incidents.models import TimelineHead, sign_head
from incidents.timeline import export_timeline, verify_timeline
from tests.api.conftest import client_for
from tests.api.openapi import assert_conforms

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged(ready, manager):
    for text in ("first", "second", "third"):
        services.incident_add_note(incident=ready, actor=manager, body=text)
    return ready


def _delete(entry):
    with connection.cursor() as cursor:  # tampering bypasses the model on purpose
        cursor.execute("DELETE FROM incidents_timelineentry WHERE id = %s", [entry.pk])


def test_every_entry_moves_the_signed_head(logged):
    newest = logged.timeline.order_by("-sequence").first()
    head = TimelineHead.objects.get(incident=logged)
    assert (head.count, head.last_hash) == (newest.sequence, newest.hash)
    assert head.signature == sign_head(logged.pk, head.count, head.last_hash)
    assert verify_timeline(logged).ok


def test_deleting_the_newest_entry_is_detected(logged, manager):
    newest = logged.timeline.order_by("-sequence").first()
    _delete(newest)

    result = verify_timeline(logged)

    assert not result.ok
    assert result.first_broken == newest.sequence
    assert f"entry #{newest.sequence} and later were deleted" in result.reason
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_timeline", logged.reference, stdout=out)
    assert "BROKEN" in out.getvalue()
    body = client_for(manager).get(f"/api/v1/incidents/{logged.pk}/evidence/")
    assert_conforms(body, "/api/v1/incidents/{id}/evidence/", "get")
    assert body.json()["verification"]["ok"] is False
    assert body.json()["head"]["count"] == newest.sequence


def test_deleting_a_middle_entry_is_detected(logged):
    middle = logged.timeline.get(summary__contains="second")
    _delete(middle)

    result = verify_timeline(logged)

    assert not result.ok
    assert result.first_broken == middle.sequence + 1


def test_a_forged_head_is_detected(logged):
    newest = logged.timeline.order_by("-sequence").first()
    before = logged.timeline.get(sequence=newest.sequence - 1)
    _delete(newest)
    with connection.cursor() as cursor:  # re-point the head without the key
        cursor.execute(
            "UPDATE incidents_timelinehead SET count = %s, last_hash = %s "
            "WHERE incident_id = %s",
            [before.sequence, before.hash, logged.pk],
        )

    result = verify_timeline(logged)

    assert not result.ok
    assert "does not match its signature" in result.reason


def test_a_chain_without_head_is_not_ok(logged):
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM incidents_timelinehead WHERE incident_id = %s", [logged.pk]
        )
    assert not verify_timeline(logged).ok


def test_the_evidence_carries_the_signed_head(logged):
    document = export_timeline(logged)
    head = document["head"]
    assert head["count"] == logged.timeline.count()
    assert head["signature"] == sign_head(logged.pk, head["count"], head["last_hash"])
    assert "HMAC-SHA256" in document["head_algorithm"]


# --- several entries in one transaction: the head and revision once ----------------


def test_a_batch_signs_the_head_and_bumps_the_revision_once(
    logged, manager, django_assert_num_queries
):
    from django.db import transaction

    from incidents import timeline_entries as entries
    from incidents.models import Incident, IncidentRevision

    revision = IncidentRevision.objects.get(incident=logged).revision
    head = TimelineHead.objects.get(incident=logged)
    with transaction.atomic(), services.timeline_batch():
        list(Incident.objects.select_for_update().filter(pk=logged.pk))
        services.timeline_hold_lock(logged.pk)
        # the first entry reads its link from the signed head, the others from
        # the batch; no re-lock and no head or revision write until the end
        with django_assert_num_queries(1 + 3):
            for text in ("a", "b", "c"):
                services.timeline_record(
                    incident=logged,
                    actor=manager,
                    entry=entries.alert(summary=f"alert {text}"),
                )
            services.incident_touch(incident_id=logged.pk)
        unchanged = TimelineHead.objects.get(incident=logged)
        assert (unchanged.count, unchanged.last_hash) == (head.count, head.last_hash)

    newest = logged.timeline.order_by("-sequence").first()
    head.refresh_from_db()
    assert newest.sequence == unchanged.count + 3
    assert (head.count, head.last_hash) == (newest.sequence, newest.hash)
    assert head.signature == sign_head(logged.pk, head.count, head.last_hash)
    assert IncidentRevision.objects.get(incident=logged).revision == revision + 1
    assert verify_timeline(logged).ok


def test_a_batch_that_fails_writes_no_head(logged, manager):
    from django.db import transaction

    from incidents import timeline_entries as entries

    head = TimelineHead.objects.get(incident=logged)
    with pytest.raises(RuntimeError), transaction.atomic(), services.timeline_batch():
        services.timeline_record(
            incident=logged, actor=manager, entry=entries.alert(summary="lost")
        )
        raise RuntimeError("rolled back")
    assert TimelineHead.objects.get(incident=logged).last_hash == head.last_hash
    assert verify_timeline(logged).ok
    # outside a batch each entry signs at once, linked from the head
    services.timeline_record(
        incident=logged, actor=manager, entry=entries.alert(summary="kept")
    )
    newest = logged.timeline.order_by("-sequence").first()
    assert TimelineHead.objects.get(incident=logged).last_hash == newest.hash
    assert verify_timeline(logged).ok
