"""An imported past incident's review teaches the next responder: its lessons
and root cause join the lessons index, so "Last time" on a new incident of the
type or service shows them, only to people who may see the imported incident;
a re-import or a person's change of type or services re-files them."""

import json

import pytest
from django.test import Client

from incidentops import groups
from incidents import services as incident_services
from incidents.importing import import_incidents
from incidents.models import Incident
from reviews.models import Lesson
from tests.factories import IncidentTypeFactory

pytestmark = pytest.mark.django_db

LESSON = "Expire certificates from the inventory, not from memory."
CAUSE = "The load balancer certificate expired."


def _row(**overrides) -> dict:
    row = {
        "external_id": "PM-7",
        "title": "Checkout TLS errors",
        "type": "cert-expiry",
        "severity": "SEV-2",
        "detected_at": "2024-03-02T14:05:00Z",
        "acknowledged_at": "2024-03-02T14:09:00Z",
        "resolved_at": "2024-03-02T15:00:00Z",
        "commander": "mia",
        "services": ["checkout-api"],
        "resolution": "Renewed the certificate.",
        "root_cause": CAUSE,
        "lessons": f"- {LESSON}\n- Alert 30 days before expiry.",
    }
    return {**row, **overrides}


def _import(*rows: dict, actor) -> None:
    report = import_incidents(
        json.dumps(list(rows)).encode(), format="native", actor=actor
    )
    assert report.refused == [], report.refused


def _page(user, incident) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(incident.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def cert(db):
    return IncidentTypeFactory(slug="cert-expiry", name="Certificate expiry")


def test_an_imported_review_is_indexed_and_shown_under_last_time(
    cert, manager, responder
):
    _import(_row(), actor=manager)
    past = Incident.objects.get(external_id="PM-7")

    lessons = Lesson.objects.filter(incident=past).order_by("order")
    assert [(lesson.kind, lesson.text) for lesson in lessons] == [
        ("lesson", LESSON),
        ("lesson", "Alert 30 days before expiry."),
        ("cause", CAUSE),
    ]
    assert {lesson.incident_type for lesson in lessons} == {cert}
    assert all(lesson.services == ["checkout-api"] for lesson in lessons)
    # dated when the past review was completed, not today
    assert {lesson.published_at for lesson in lessons} == {past.resolved_at}

    new = incident_services.incident_declare(
        actor=responder, title="TLS handshake failures", incident_type=cert
    )
    page = _page(responder, new)
    assert 'data-testid="last-time"' in page
    assert past.reference in page
    assert LESSON in page
    assert CAUSE in page
    assert "Renewed the certificate." in page


def test_a_restricted_imported_review_is_shown_only_to_who_may_see_it(
    manager, responder
):
    IncidentTypeFactory(
        slug="insider-threat",
        name="Insider threat",
        restricted=True,
        restricted_groups=[groups.INCIDENT_MANAGERS],
    )
    _import(
        _row(type="insider-threat", commander="", services=["payroll"]),
        actor=manager,
    )
    past = Incident.objects.get(external_id="PM-7")
    assert past.restricted
    assert Lesson.objects.filter(incident=past).count() == 3

    new = incident_services.incident_declare(
        actor=responder, title="Payroll export odd", affected_services=["payroll"]
    )
    hidden = _page(responder, new)
    assert past.reference not in hidden
    assert LESSON not in hidden
    assert LESSON in _page(manager, new)


def test_a_reimport_refiles_lessons_under_the_new_type_and_services(cert, manager):
    _import(_row(), actor=manager)
    other = IncidentTypeFactory(slug="network-outage", name="Network outage")

    # a changed row without its review: the stored review's lessons follow
    _import(
        _row(
            type="network-outage",
            services=["edge"],
            root_cause="",
            lessons="",
        ),
        actor=manager,
    )

    lessons = Lesson.objects.filter(incident__external_id="PM-7")
    assert lessons.count() == 3
    assert {lesson.incident_type for lesson in lessons} == {other}
    assert all(lesson.services == ["edge"] for lesson in lessons)


def test_a_reimported_review_replaces_its_lessons(cert, manager):
    _import(_row(), actor=manager)

    _import(_row(lessons="Keep a renewal runbook."), actor=manager)

    texts = list(
        Lesson.objects.filter(incident__external_id="PM-7")
        .order_by("order")
        .values_list("text", flat=True)
    )
    assert texts == ["Keep a renewal runbook.", CAUSE]


def test_a_person_changing_type_or_services_refiles_the_lessons(cert, manager):
    _import(_row(), actor=manager)
    past = Incident.objects.get(external_id="PM-7")
    other = IncidentTypeFactory(slug="network-outage", name="Network outage")

    incident_services.incident_update(
        incident=past,
        actor=manager,
        incident_type=other,
        affected_services=["edge", "checkout-api"],
    )

    lessons = Lesson.objects.filter(incident=past)
    assert {lesson.incident_type for lesson in lessons} == {other}
    assert all(lesson.services == ["checkout-api", "edge"] for lesson in lessons)
