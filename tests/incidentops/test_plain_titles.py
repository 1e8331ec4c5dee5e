"""Titles are plain one-line text on every write path (``TitleField``), stored
rows written before are cleaned by a migration, and the recorded timeline
(hash-chained, never rewritten) is shown without bidirectional controls."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from incidentops.text import plain_title
from incidents.models import ActionItem, Incident, Playbook, PlaybookStep
from reviews.models import FollowUp, ReviewTemplate, ReviewTemplateSection
from tests.factories import IncidentFactory, IncidentTypeFactory, UserFactory, severity

pytestmark = pytest.mark.django_db

SPOOFED = "Rotate \u202egpj.exe\u202c keys\n\u2066now\u2069\x85"
PLAIN = "Rotate gpj.exe keys now"


def test_plain_title_removes_overrides_and_flattens_controls():
    assert plain_title(SPOOFED) == PLAIN
    # letters of any script are kept; only the controls go
    assert plain_title("Ausfall \u05e9\u05dc\u05d5\u05dd café") == (
        "Ausfall \u05e9\u05dc\u05d5\u05dd café"
    )


def test_every_write_path_stores_a_plain_title():
    incident = IncidentFactory(title=SPOOFED)  # save()
    assert incident.title == PLAIN  # the instance is cleaned as well
    Incident.objects.filter(pk=incident.pk).update(title="\u202eupdated")
    ActionItem.objects.bulk_create([ActionItem(incident=incident, title=SPOOFED)])
    playbook = Playbook.objects.create(
        incident_type=IncidentTypeFactory(), severity=severity("SEV-1"), name="Breach"
    )
    PlaybookStep.objects.create(playbook=playbook, title=SPOOFED)
    template = ReviewTemplate.objects.create(name="Breach review")
    ReviewTemplateSection.objects.create(template=template, key="data", title=SPOOFED)

    incident.refresh_from_db()
    assert incident.title == "updated"
    assert ActionItem.objects.get().title == PLAIN
    assert PlaybookStep.objects.get().title == PLAIN
    assert ReviewTemplateSection.objects.get().title == PLAIN


def test_the_admin_stores_playbook_steps_and_template_questions_plain(admin_client):
    incident_type = IncidentTypeFactory()
    response = admin_client.post(
        "/admin/incidents/playbook/add/",
        {
            "incident_type": incident_type.pk,
            "severity": severity("SEV-1").pk,
            "name": "Breach",
            "is_active": "on",
            "steps-TOTAL_FORMS": "1",
            "steps-INITIAL_FORMS": "0",
            "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "1000",
            "steps-0-order": "1",
            "steps-0-title": SPOOFED,
            "steps-0-priority": "high",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert PlaybookStep.objects.get().title == PLAIN


def _raw_title(table: str, pk: int, title: str) -> None:
    """Write a title the way an older release did, around the field."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET title = %s WHERE id = %s", [title, pk])


def test_the_migration_cleans_titles_stored_before():
    incident = IncidentFactory(title="placeholder")
    action = ActionItem.objects.create(incident=incident, title="placeholder")
    _raw_title(Incident._meta.db_table, incident.pk, SPOOFED)
    _raw_title(ActionItem._meta.db_table, action.pk, SPOOFED)
    stored = Incident.objects.values_list("title", flat=True).get(pk=incident.pk)
    assert stored == SPOOFED  # what an older release left behind

    importlib.import_module("incidents.migrations.0019_plain_titles").clean_titles(
        apps, None
    )

    assert Incident.objects.values_list("title", flat=True).get() == PLAIN
    assert ActionItem.objects.values_list("title", flat=True).get() == PLAIN


def test_the_reviews_migration_cleans_follow_ups_and_questions():
    from reviews.models import Review

    incident = IncidentFactory()
    review = Review.objects.create(incident=incident, due_at=timezone.now())
    follow_up = FollowUp.objects.create(review=review, title="placeholder")
    template = ReviewTemplate.objects.create(name="Breach review")
    question = ReviewTemplateSection.objects.create(
        template=template, key="data", title="placeholder"
    )
    _raw_title(FollowUp._meta.db_table, follow_up.pk, SPOOFED)
    _raw_title(ReviewTemplateSection._meta.db_table, question.pk, SPOOFED)

    importlib.import_module("reviews.migrations.0009_plain_titles").clean_titles(
        apps, None
    )

    assert FollowUp.objects.values_list("title", flat=True).get() == PLAIN
    assert ReviewTemplateSection.objects.values_list("title", flat=True).get() == PLAIN


def test_a_recorded_summary_is_shown_without_overrides(client):
    from incidentops import groups
    from incidents.services import timeline_record

    rita = UserFactory(groups=[groups.RESPONDERS])
    incident = IncidentFactory(title="Card payments fail")
    # an entry recorded by an older release, title and all (never rewritten)
    timeline_record(
        incident=incident, kind="note", summary="declared \u202egpj.exe\u202c"
    )
    client.force_login(rita)

    page = client.get(f"/incidents/{incident.reference}/").content.decode()

    assert "declared gpj.exe" in page
    assert "\u202e" not in page
