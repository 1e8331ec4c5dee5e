"""Importing past incidents: the three formats, times and zones, people,
idempotency, refusals, and that an import sends and starts nothing."""

import json
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from guardian.shortcuts import get_users_with_perms

from incidentops import groups
from incidents.importing import FileError, import_incidents
from incidents.models import ActionItem, Incident, PlaybookApplication, TimelineEntry
from notifications.models import Delivery, Notification
from reviews.models import FollowUp, Review
from tests.factories import (
    IncidentTypeFactory,
    PlaybookFactory,
    PlaybookStepFactory,
    UserFactory,
    severity,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
User = get_user_model()

HEADER = (
    "external_id,title,type,severity,status,time_zone,impact_started_at,"
    "detected_at,acknowledged_at,resolved_at,commander,services,resolution,"
    "root_cause,follow_ups\n"
)


@pytest.fixture
def outage(db):
    outage = IncidentTypeFactory(slug="customer-facing-outage", name="Outage")
    playbook = PlaybookFactory(incident_type=outage, severity=severity("SEV-1"))
    PlaybookStepFactory(playbook=playbook)
    return outage


@pytest.fixture
def breach(db):
    return IncidentTypeFactory(
        slug="personal-data-breach", name="Data breach", restricted=True
    )


@pytest.fixture
def mia(db):
    return UserFactory(
        username="mia",
        email="mia@example.com",
        groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
    )


def _csv(*rows: str) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


GOOD = (
    "PM-1,Checkout down,customer-facing-outage,SEV-1,resolved,Europe/London,"
    "2020-07-02 14:05,2020-07-02 14:41,2020-07-02 14:44,2020-07-02 15:32,mia,"
    'checkout,Rolled back,Bad config,"Add alert [done] @mia; Canary [open]"'
)


def test_native_csv_keeps_original_times_and_zones(outage, mia):
    report = import_incidents(_csv(GOOD), format="native", actor=mia)

    assert report.summary() == "imported 1, updated 0, unchanged 0, refused 0"
    incident = Incident.objects.get(external_id="PM-1")
    # London in July is UTC+1
    assert incident.impact_started_at == datetime(2020, 7, 2, 13, 5, tzinfo=UTC)
    assert incident.detected_at == datetime(2020, 7, 2, 13, 41, tzinfo=UTC)
    assert incident.created_at == incident.detected_at
    assert incident.resolved_at == datetime(2020, 7, 2, 14, 32, tzinfo=UTC)
    assert incident.reference.startswith("INC-2020-")
    assert incident.status == "resolved"
    assert incident.severity.code == "SEV-1"
    assert incident.commander == mia
    assert incident.external_source == "native"
    assert incident.imported_at is not None
    assert incident.resolution_summary == "Rolled back"
    assert incident.response_times()["time_to_resolve"].total_seconds() == 87 * 60
    entries = TimelineEntry.objects.filter(incident=incident).order_by("sequence")
    assert entries.first().occurred_at == incident.created_at
    assert all(entry.data.get("imported") for entry in entries)


def test_import_sends_nothing_applies_no_playbook_opens_no_review(outage, mia):
    report = import_incidents(
        _csv(
            GOOD.replace("Bad config", "").replace(
                '"Add alert [done] @mia; Canary [open]"', ""
            )
        ),
        format="native",
        actor=mia,
    )
    assert report.count("imported") == 1
    incident = Incident.objects.get(external_id="PM-1")
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert PlaybookApplication.objects.filter(incident=incident).count() == 0
    assert ActionItem.objects.filter(incident=incident).count() == 0
    assert not Review.objects.filter(incident=incident).exists()


def test_a_review_in_the_file_is_stored_completed(outage, mia):
    import_incidents(_csv(GOOD), format="native", actor=mia)
    review = Review.objects.get(incident__external_id="PM-1")
    assert review.status == Review.Status.PUBLISHED
    assert review.root_cause == "Bad config"
    assert review.due_at == review.incident.resolved_at
    follow_ups = {f.title: f for f in FollowUp.objects.filter(review=review)}
    assert follow_ups["Add alert"].status == "done"
    assert follow_ups["Add alert"].owner == mia
    assert follow_ups["Canary"].status == "open"


def test_reimport_is_idempotent_and_a_changed_row_updates(outage, mia):
    import_incidents(_csv(GOOD), format="native", actor=mia)
    count = TimelineEntry.objects.count()

    again = import_incidents(_csv(GOOD), format="native", actor=mia)
    assert again.summary() == "imported 0, updated 0, unchanged 1, refused 0"
    assert Incident.objects.count() == 1
    assert TimelineEntry.objects.count() == count

    changed = import_incidents(
        _csv(GOOD.replace("Checkout down", "Checkout fully down")),
        format="native",
        actor=mia,
    )
    assert changed.summary() == "imported 0, updated 1, unchanged 0, refused 0"
    incident = Incident.objects.get()
    assert incident.title == "Checkout fully down"
    assert TimelineEntry.objects.count() == count + 1
    assert FollowUp.objects.count() == 2


def test_bad_rows_are_refused_with_line_and_reason_and_store_nothing(outage, mia):
    rows = [
        GOOD,
        "PM-2,Bad time,,,,,,yesterday,,,,,,,",
        "PM-3,Unknown type,no-such-type,,,,,2020-01-01 10:00,,,,,,,",
        "PM-4,Backwards,,,,UTC,,2020-01-02 10:00,,2020-01-01 10:00,,,,,",
        "PM-5,Unknown person,,,resolved,UTC,,2020-01-02 10:00,,2020-01-02 11:00,"
        "nobody@example.com,,,,",
        "PM-1,Duplicate in file,,,,,,2020-01-01 10:00,,,,,,,",
        "PM-6,In the future,,,,UTC,,2999-01-01 10:00,,,,,,,",
        "PM-7,Resolved without a time,,,resolved,UTC,,2020-01-01 10:00,,,,,,,",
    ]
    report = import_incidents(_csv(*rows), format="native", actor=mia)

    refused = {row.line: row.reason for row in report.refused}
    assert set(refused) == {3, 4, 5, 7, 8, 9}
    assert "not an ISO 8601 time" in refused[3]
    assert "unknown type" in refused[4]
    assert "cannot be after the resolved time" in refused[5]
    assert "repeats line 2" in refused[7]
    assert "future" in refused[8]
    assert "needs resolved_at" in refused[9]
    assert set(Incident.objects.values_list("external_id", flat=True)) == {
        "PM-1",
        "PM-5",
    }
    # the unknown person became an inactive placeholder
    placeholder = User.objects.get(email="nobody@example.com")
    assert placeholder.is_active is False
    assert Incident.objects.get(external_id="PM-5").commander == placeholder


def test_a_refused_row_leaves_no_placeholder(outage, mia):
    row = (
        "PM-9,Backwards,,,resolved,UTC,,2020-01-02 10:00,,2020-01-01 10:00,"
        "ghost@example.com,,,,"
    )
    report = import_incidents(_csv(row), format="native", actor=mia)
    assert report.count("refused") == 1
    assert not User.objects.filter(email="ghost@example.com").exists()


def test_dry_run_stores_nothing(outage, mia):
    users = User.objects.count()
    report = import_incidents(
        _csv(GOOD, GOOD.replace("PM-1", "PM-2").replace(",mia,", ",newbie,")),
        format="native",
        actor=mia,
        dry_run=True,
    )
    assert report.count("imported") == 2
    assert Incident.objects.count() == 0
    assert TimelineEntry.objects.count() == 0
    assert Review.objects.count() == 0
    assert User.objects.count() == users


def test_a_file_that_cannot_be_read_stores_nothing(outage, mia):
    with pytest.raises(FileError):
        import_incidents(b"title,nonsense\nx,y\n", format="native", actor=mia)
    with pytest.raises(FileError):
        import_incidents(b"{not json", format="pagerduty", actor=mia)
    assert Incident.objects.count() == 0


def test_restricted_types_stay_restricted(breach, mia):
    outsider = UserFactory(username="otto", groups=[groups.RESPONDERS])
    import_incidents(
        (EXAMPLES / "incidents.json").read_bytes(), format="native", actor=mia
    )

    incident = Incident.objects.get(external_id="PM-2022-007")
    assert incident.restricted is True
    assert not Incident.objects.visible_to(outsider).filter(pk=incident.pk).exists()
    granted = set(get_users_with_perms(incident, only_with_perms_in=["view_incident"]))
    assert mia in granted
    # naive times read in the row's zone (Berlin, UTC+2 in May)
    assert incident.impact_started_at == datetime(2022, 5, 10, 7, 0, tzinfo=UTC)
    assert incident.assignments.get(role__slug="communications").user.is_active is False


def test_pagerduty_export(outage, mia):
    report = import_incidents(
        (EXAMPLES / "pagerduty-incidents.json").read_bytes(),
        format="pagerduty",
        actor=mia,
        default_type=outage,
    )
    assert report.summary() == "imported 2, updated 0, unchanged 0, refused 0"
    first = Incident.objects.get(external_id="Q1ABCD2EFGH3IJ")
    assert first.external_source == "pagerduty"
    assert first.severity.code == "SEV-1"  # P1
    assert "priority P1" in first.severity_reason
    assert first.affected_services == ["checkout-api"]
    assert first.resolved_at == datetime(2024, 11, 4, 9, 3, tzinfo=UTC)
    assert first.external_url.endswith("/Q1ABCD2EFGH3IJ")
    second = Incident.objects.get(external_id="Q2KLMN4OPQR5ST")
    assert second.severity.code == "SEV-3"  # urgency low
    assert second.status == "investigating"
    assert second.acknowledged_at == datetime(2024, 11, 5, 22, 47, 10, tzinfo=UTC)
    assert second.commander.email == "omar@example.com"


def test_pagerduty_severity_table_is_editable(outage, mia):
    import_incidents(
        (EXAMPLES / "pagerduty-incidents.json").read_bytes(),
        format="pagerduty",
        actor=mia,
        severity_map={"P1": "SEV-2"},
    )
    assert Incident.objects.get(external_id="Q1ABCD2EFGH3IJ").severity.code == "SEV-2"


def test_oncall_alert_groups(mia):
    report = import_incidents(
        (EXAMPLES / "oncall-alert-groups.json").read_bytes(), format="oncall", actor=mia
    )
    assert report.summary() == "imported 2, updated 0, unchanged 0, refused 0"
    group = Incident.objects.get(external_id="I68T24C13IFW1")
    assert group.status == "resolved"
    assert group.severity.code == "SEV-3"
    assert group.affected_services == ["inventory-db"]
    assert group.commander.username == "oncall-U4DNY931HHJS5"
    assert group.acknowledged_at == datetime(2025, 5, 19, 12, 41, tzinfo=UTC)


def test_missing_fields_in_exports_are_refused_by_row(mia):
    body = {"results": [{"id": "X1", "state": "resolved"}, {"state": "new"}, "nope"]}
    report = import_incidents(json.dumps(body).encode(), format="oncall", actor=mia)
    reasons = [row.reason for row in report.refused]
    assert reasons == [
        "the alert group has no created_at",
        "the alert group has no id",
        "not a JSON object",
    ]


def test_command_prints_summary_and_refusals_and_exits_1(outage, mia, tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(_csv(GOOD, "PM-2,Bad,,,,,,never,,,,,,,"))
    out = StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("import_incidents", str(path), "--as", "mia", stdout=out)
    assert exited.value.code == 1
    assert out.getvalue().splitlines() == [
        "imported 1, updated 0, unchanged 0, refused 1",
        "line 3: detected_at: 'never' is not an ISO 8601 time",
    ]

    IncidentTypeFactory(slug="supplier-failure", name="Supplier failure")
    out = StringIO()
    call_command(
        "import_incidents", str(EXAMPLES / "incidents.csv"), "--dry-run", stdout=out
    )
    assert out.getvalue().startswith("dry run: imported")
    assert not Incident.objects.filter(external_id="PM-2020-014").exists()


def test_command_refuses_an_unreadable_file(tmp_path, db):
    with pytest.raises(CommandError):
        call_command("import_incidents", str(tmp_path / "missing.csv"))


def test_imported_incidents_feed_similar_search_and_training(outage, mia):
    from incidents.triage import similar_incidents
    from incidents.triage_model import labelled_incidents

    import_incidents(_csv(GOOD), format="native", actor=mia)
    similar = similar_incidents("checkout down", user=mia)
    assert [s.reference for s in similar] == [Incident.objects.get().reference]
    assert len(labelled_incidents()) == 1


def test_admin_preview_then_commit(client, outage, mia):
    mia.is_staff = True
    mia.save()
    client.force_login(mia)
    listing = client.get("/admin/incidents/incident/")
    assert b"Import incidents" in listing.content
    upload = SimpleUploadedFile("history.csv", _csv(GOOD, "PM-2,Bad,,,,,,never,,,,,,,"))

    preview = client.post(
        "/admin/incidents/incident/import/",
        {"file": upload, "format": "native", "time_zone": "Europe/London"},
    )

    assert preview.status_code == 200
    assert b"imported 1, updated 0, unchanged 0, refused 1" in preview.content
    assert b"is not an ISO 8601 time" in preview.content
    assert Incident.objects.count() == 0
    digest = preview.context["digest"]

    done = client.post(
        "/admin/incidents/incident/import/", {"commit": "1", "digest": digest}
    )
    assert done.status_code == 302
    assert list(Incident.objects.values_list("external_id", flat=True)) == ["PM-1"]


def test_admin_import_needs_the_right(client, db):
    clerk = UserFactory(username="clerk", groups=[groups.RESPONDERS])
    clerk.is_staff = True
    clerk.save()
    client.force_login(clerk)
    assert client.get("/admin/incidents/incident/import/").status_code == 403
    upload = SimpleUploadedFile("history.csv", _csv(GOOD))
    refused = client.post(
        "/admin/incidents/incident/import/", {"file": upload, "format": "native"}
    )
    assert refused.status_code == 403
    assert (
        client.post(
            "/admin/incidents/incident/import/", {"commit": "1", "digest": "x"}
        ).status_code
        == 403
    )
    assert Incident.objects.count() == 0


def test_admin_import_is_for_staff_only(client, outage, mia):
    # mia holds the right (Incident managers) but may not open the admin
    assert not mia.is_staff
    assert mia.has_perm("incidents.import_incidents")
    client.force_login(mia)
    page = client.get("/admin/incidents/incident/import/")
    assert page.status_code == 302
    assert "/admin/login/" in page["Location"]
    upload = SimpleUploadedFile("history.csv", _csv(GOOD))
    posted = client.post(
        "/admin/incidents/incident/import/", {"file": upload, "format": "native"}
    )
    assert posted.status_code == 302
    assert "/admin/login/" in posted["Location"]
    assert Incident.objects.count() == 0


def test_change_incident_alone_is_not_the_right_to_import(client, outage, db):
    # staff holding change_incident but not import_incidents: no link, 403
    from django.contrib.auth.models import Permission

    editor = UserFactory(username="ed")
    editor.is_staff = True
    editor.save()
    editor.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="incidents",
            codename__in=["change_incident", "view_incident"],
        )
    )
    client.force_login(editor)
    listing = client.get("/admin/incidents/incident/")
    assert listing.status_code == 200
    assert b"Import incidents" not in listing.content
    assert client.get("/admin/incidents/incident/import/").status_code == 403


def test_a_service_account_never_imports(client, db):
    bot = UserFactory(
        username="import-bot",
        service_account=True,
        groups=[groups.INCIDENT_MANAGERS],
    )
    bot.is_staff = True
    bot.save()
    client.force_login(bot)
    assert client.get("/admin/incidents/incident/import/").status_code == 403


def test_admin_pagerduty_import_takes_an_edited_severity_table(client, outage, mia):
    for code in ("SEV-3", "SEV-4"):
        severity(code)
    mia.is_staff = True
    mia.save()
    client.force_login(mia)
    page = client.get("/admin/incidents/incident/import/")
    assert b"PagerDuty severity table" in page.content
    data = (EXAMPLES / "pagerduty-incidents.json").read_bytes()

    bad = client.post(
        "/admin/incidents/incident/import/",
        {
            "file": SimpleUploadedFile("pd.json", data),
            "format": "pagerduty",
            "severity_map": '{"P1": "SEV-9"}',
        },
    )
    assert b"Unknown severity: SEV-9" in bad.content
    assert "digest" not in bad.context

    preview = client.post(
        "/admin/incidents/incident/import/",
        {
            "file": SimpleUploadedFile("pd.json", data),
            "format": "pagerduty",
            "severity_map": json.dumps(
                {"P1": "SEV-4", "P2": "SEV-4", "urgency:high": "SEV-4"}
            ),
        },
    )
    client.post(
        "/admin/incidents/incident/import/",
        {"commit": "1", "digest": preview.context["digest"]},
    )
    first = Incident.objects.get(external_id="Q1ABCD2EFGH3IJ")
    assert first.severity.code == "SEV-4"  # P1, as the edited table says
    second = Incident.objects.get(external_id="Q2KLMN4OPQR5ST")
    assert second.severity.code == "SEV-3"  # urgency low: the default entry


def test_a_real_import_retrains_the_triage_model_after_commit(
    outage, mia, django_capture_on_commit_callbacks, monkeypatch
):
    from incidents import tasks

    calls = []
    monkeypatch.setattr(
        tasks.retrain_triage_model_task, "delay", lambda: calls.append(1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        import_incidents(_csv(GOOD), format="native", actor=mia, dry_run=True)
    assert calls == []
    with django_capture_on_commit_callbacks(execute=True):
        import_incidents(_csv(GOOD), format="native", actor=mia)
    assert calls == [1]
    with django_capture_on_commit_callbacks(execute=True):
        import_incidents(_csv(GOOD), format="native", actor=mia)  # unchanged
    assert calls == [1]


def test_new_rows_are_written_in_batches_as_one_at_a_time(
    breach, outage, mia, monkeypatch
):
    from incidents.importing import runner
    from incidents.timeline import verify_timeline

    monkeypatch.setattr(runner._NewBatch, "BATCH", 2)
    severity("SEV-2")
    rows = [
        GOOD.replace("PM-1", f"PM-{n}").replace(",mia,", ",former@example.com,")
        for n in range(1, 5)
    ]
    rows.append(
        "PM-9,Leak,personal-data-breach,SEV-2,resolved,,"
        "2021-01-04 09:00,2021-01-04 09:10,2021-01-04 09:20,2021-01-04 11:00,"
        "former@example.com,,Revoked,Open bucket,"
    )
    # refused after naming someone new: resolved without a resolution time
    rows.append("PM-10,Bad,,,resolved,,,2021-02-01 10:00,,,new@example.com,,,,")

    report = import_incidents(_csv(*rows), format="native", actor=mia)

    assert report.summary() == "imported 5, updated 0, unchanged 0, refused 1"
    incidents = Incident.objects.filter(external_source="native").order_by("pk")
    assert [i.reference for i in incidents] == [
        "INC-2020-0001",
        "INC-2020-0002",
        "INC-2020-0003",
        "INC-2020-0004",
        "INC-2021-0001",
    ]
    assert [row.reference for row in report.rows[:5]] == [
        i.reference for i in incidents
    ]
    # one placeholder for the person the rows share; none for the refused row
    placeholder = User.objects.get(email="former@example.com")
    assert not placeholder.is_active
    assert not User.objects.filter(email="new@example.com").exists()
    for incident in incidents:
        assert incident.commander == placeholder
        assert verify_timeline(incident).ok
        assert incident.history.count() == 1
        assert incident.history.first().history_user == mia
        assert incident.review.status == Review.Status.PUBLISHED
        assert incident.review.owner == placeholder
    leak = incidents.get(external_id="PM-9")
    assert leak.restricted
    assert placeholder in get_users_with_perms(leak)
    assert Notification.objects.count() == 0
    # a second run finds every good row unchanged
    again = import_incidents(_csv(*rows), format="native", actor=mia)
    assert again.summary() == "imported 0, updated 0, unchanged 5, refused 1"


def test_a_chain_is_inserted_whole_or_not_at_all(outage, mia):
    from incidents.models import TimelineEntry
    from incidents.models.timeline import AppendOnlyError

    import_incidents(_csv(GOOD), format="native", actor=mia)
    incident = Incident.objects.get()
    entry = TimelineEntry.objects.filter(incident=incident).first()
    forged = TimelineEntry(
        incident=incident,
        sequence=1,
        kind=entry.kind,
        actor_label="x",
        summary="forged",
        occurred_at=entry.occurred_at,
        recorded_at=entry.recorded_at,
        prev_hash=TimelineEntry.GENESIS_HASH,
    )
    forged.hash = forged.compute_hash()
    with pytest.raises(AppendOnlyError):
        TimelineEntry.objects.create_chains([forged])  # it has a chain already
    forged.prev_hash = "0" * 64
    with pytest.raises(AppendOnlyError):
        TimelineEntry.objects.create_chains([forged])  # not linked from genesis
    assert not TimelineEntry.objects.filter(summary="forged").exists()
