"""Lessons reach the next responder: a published review's lessons are
indexed; a later incident of the same type or sharing an affected service
shows them under "Last time" with the cause and what fixed it, never to
someone who may not see the earlier incident; reviewers mark a lesson adopted
into a playbook step."""

from datetime import timedelta

import pytest
from django.test import Client

from incidentops import groups
from incidentops.exceptions import DomainError, NotPermitted
from incidents import services as incident_services
from reviews import services
from reviews.models import Lesson
from tests.factories import (
    IncidentTypeFactory,
    PlaybookFactory,
    PlaybookStepFactory,
)
from tests.reviews.conftest import WEDNESDAY

pytestmark = pytest.mark.django_db

LESSONS = "- Cache keys must include the session.\n- Test cache rules in CI.\n"


@pytest.fixture
def cache_type(db):
    return IncidentTypeFactory(slug="cache-leak", name="Cache leak")


def _publish(resolve, manager, reviewer, **kwargs):
    incident = resolve("SEV-2", at=WEDNESDAY - timedelta(days=20), **kwargs)
    incident.affected_services = ["checkout-api"]
    incident.save(update_fields=["affected_services"])
    review = incident.review
    services.review_update(
        review=review,
        actor=manager,
        summary="Pages were served across sessions.",
        root_cause="The cache key ignored the session.",
        lessons=LESSONS,
    )
    services.review_submit(review=review, actor=manager)
    services.review_approve(review=review, actor=reviewer)
    return services.review_publish(review=review, actor=manager)


def _page(user, incident) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(incident.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def _declare(responder, **kwargs):
    return incident_services.incident_declare(
        actor=responder, title="Checkout shows wrong orders", **kwargs
    )


def test_publishing_indexes_each_lesson_and_the_cause_under_type_and_services(
    resolve, manager, reviewer, cache_type
):
    review = _publish(resolve, manager, reviewer, incident_type=cache_type)
    lessons = list(Lesson.objects.filter(review=review))
    assert [(lesson.kind, lesson.text) for lesson in lessons] == [
        ("lesson", "Cache keys must include the session."),
        ("lesson", "Test cache rules in CI."),
        ("cause", review.root_cause),  # the resolved cause is indexed too
    ]
    assert {lesson.incident_type for lesson in lessons} == {cache_type}
    assert all(lesson.services == ["checkout-api"] for lesson in lessons)


def test_a_new_incident_of_the_same_type_shows_last_time(
    resolve, manager, reviewer, responder, cache_type
):
    review = _publish(resolve, manager, reviewer, incident_type=cache_type)
    new = _declare(responder, incident_type=cache_type)

    page = _page(responder, new)

    assert 'id="panel-last-time"' in page and 'data-testid="last-time"' in page
    assert review.incident.reference in page
    assert "Cache keys must include the session." in page
    assert review.root_cause in page
    assert review.incident.resolution_summary in page  # what fixed it
    assert 'data-testid="playbook-last-time"' in page  # the guidance links it


def test_a_shared_affected_service_is_enough_and_unrelated_shows_nothing(
    resolve, manager, reviewer, responder, cache_type
):
    _publish(resolve, manager, reviewer, incident_type=cache_type)
    sharing = _declare(responder, affected_services=["checkout-api"])
    unrelated = _declare(responder, affected_services=["search"])

    assert "Test cache rules in CI." in _page(responder, sharing)
    page = _page(responder, unrelated)
    assert 'id="panel-last-time"' not in page
    assert 'data-testid="playbook-last-time"' not in page


def test_lessons_of_an_incident_the_viewer_may_not_see_are_not_shown(
    resolve, manager, reviewer, responder, outsider
):
    secret = IncidentTypeFactory(
        slug="insider-threat",
        restricted=True,
        restricted_groups=[groups.INCIDENT_MANAGERS, groups.REVIEWERS],
    )
    review = _publish(resolve, manager, reviewer, incident_type=secret)
    # a manager declares it open to all (a restricted type's default)
    new = _declare(manager, incident_type=secret, restricted=False)

    page = _page(outsider, new)
    assert review.incident.reference not in page
    assert "Cache keys must include the session." not in page
    assert "Cache keys must include the session." in _page(manager, new)


def test_a_reviewer_marks_a_lesson_adopted_into_a_playbook_step(
    resolve, manager, reviewer, responder, cache_type
):
    review = _publish(resolve, manager, reviewer, incident_type=cache_type)
    playbook = PlaybookFactory(incident_type=cache_type, name="Cache leak playbook")
    step = PlaybookStepFactory(playbook=playbook, order=3, title="Purge the cache")
    lesson = review.lesson_items.get(kind="lesson", order=1)

    client = Client()
    client.force_login(reviewer)
    page = client.get(review.get_absolute_url()).content.decode()
    assert 'data-testid="review-lessons"' in page and "Purge the cache" in page
    response = client.post(
        review.get_absolute_url(),
        {"section": "adopt", "lesson": lesson.pk, "step": step.pk},
    )
    assert response.status_code == 302

    lesson.refresh_from_db()
    assert lesson.playbook_step == step and lesson.adopted_by == reviewer
    new = _declare(responder, incident_type=cache_type)
    assert "In playbook: Cache leak playbook, step 3" in _page(responder, new)


def test_only_reviewers_adopt_and_only_into_the_types_playbooks(
    resolve, manager, reviewer, responder, cache_type
):
    review = _publish(resolve, manager, reviewer, incident_type=cache_type)
    lesson = review.lesson_items.get(kind="lesson", order=1)
    other = PlaybookStepFactory(
        playbook=PlaybookFactory(incident_type=IncidentTypeFactory(slug="other"))
    )
    mine = PlaybookStepFactory(playbook=PlaybookFactory(incident_type=cache_type))
    with pytest.raises(NotPermitted):
        services.lesson_adopt(lesson=lesson, actor=responder, step=mine)
    with pytest.raises(DomainError, match="playbook for this incident's type"):
        services.lesson_adopt(lesson=lesson, actor=reviewer, step=other)


def test_republishing_keeps_an_adoption_of_an_unchanged_lesson(
    resolve, manager, reviewer, cache_type
):
    review = _publish(resolve, manager, reviewer, incident_type=cache_type)
    step = PlaybookStepFactory(playbook=PlaybookFactory(incident_type=cache_type))
    first = review.lesson_items.get(kind="lesson", order=1)
    services.lesson_adopt(lesson=first, actor=reviewer, step=step)
    services.lessons_index(review=review)
    assert review.lesson_items.get(text=first.text).playbook_step == step


def test_a_lesson_several_reviews_drew_is_shown_once(
    resolve, manager, reviewer, responder, cache_type
):
    first = _publish(resolve, manager, reviewer, incident_type=cache_type)
    second = _publish(resolve, manager, reviewer, incident_type=cache_type)
    new = _declare(responder, incident_type=cache_type)

    page = _page(responder, new)

    assert first.incident.reference in page and second.incident.reference in page
    assert page.count("Cache keys must include the session.") == 1


def test_a_review_without_lessons_still_shows_its_cause_and_fix(
    resolve, manager, reviewer, responder, cache_type
):
    incident = resolve(
        "SEV-2", at=WEDNESDAY - timedelta(days=3), incident_type=cache_type
    )
    review = incident.review
    services.review_update(
        review=review, actor=manager, summary="Pages leaked.", root_cause="A bad key."
    )
    services.review_submit(review=review, actor=manager)
    services.review_approve(review=review, actor=reviewer)
    services.review_publish(review=review, actor=manager)
    assert list(review.lesson_items.values_list("kind", "text")) == [
        ("cause", "A bad key.")
    ]
    page = _page(responder, _declare(responder, incident_type=cache_type))
    assert incident.reference in page and "A bad key." in page
    assert incident.resolution_summary in page
