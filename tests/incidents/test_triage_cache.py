"""The similar-incident corpus index is fitted once per process and watermark."""

from datetime import timedelta

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from incidents import triage
from incidents.models import Incident
from incidents.triage import similar_incidents, suggest_for
from tests.factories import IncidentFactory, UserFactory


@pytest.fixture
def fits(db, monkeypatch):
    """Counts the corpus fits of this process, starting from a cold cache."""
    triage.clear_corpus_cache()
    calls = []
    fit = triage._fit_corpus

    def counting_fit(watermark):
        calls.append(watermark)
        return fit(watermark)

    monkeypatch.setattr(triage, "_fit_corpus", counting_fit)
    yield calls
    triage.clear_corpus_cache()


def test_the_vectorizer_is_not_refitted_when_nothing_changed(fits):
    # given
    past = IncidentFactory(resolved=True, title="Checkout payments failing")
    IncidentFactory(resolved=True, title="Warehouse roof leak")
    first = similar_incidents("checkout payments")
    # when
    second = similar_incidents("checkout payments")
    third = suggest_for(title="Warehouse roof").similar
    # then
    assert len(fits) == 1
    assert [s.reference for s in first] == [s.reference for s in second]
    assert [s.reference for s in second] == [past.reference]
    assert [s.title for s in third] == ["Warehouse roof leak"]


def test_a_cached_call_costs_the_watermark_and_one_visibility_query(
    fits, django_assert_num_queries
):
    IncidentFactory(resolved=True, title="Checkout payments failing")
    similar_incidents("checkout payments")
    with django_assert_num_queries(2):
        similar_incidents("checkout payments")
    assert len(fits) == 1


def test_refits_when_a_new_incident_resolves(fits):
    # given: a fitted index that knows one checkout incident
    old = IncidentFactory(resolved=True, title="Checkout payments failing")
    assert [s.reference for s in similar_incidents("checkout card")] == [old.reference]
    # when: another incident resolves
    new = IncidentFactory(title="Checkout card declined for everyone")
    new.status = Incident.Status.RESOLVED
    new.resolved_at = timezone.now() + timedelta(seconds=1)
    new.save()
    # then
    found = similar_incidents("checkout card")
    assert len(fits) == 2
    assert new.reference in [s.reference for s in found]


def test_refits_when_a_resolved_incident_is_reopened(fits):
    reopened = IncidentFactory(resolved=True, title="Checkout payments failing")
    IncidentFactory(resolved=True, title="Warehouse roof leak")
    assert similar_incidents("checkout payments")
    Incident.objects.filter(pk=reopened.pk).update(
        status=Incident.Status.INVESTIGATING, resolved_at=None
    )
    assert similar_incidents("checkout payments") == []
    assert len(fits) == 2


def test_cached_index_still_respects_visibility(fits):
    # given: one restricted and one open incident, both in the fitted index
    secret = IncidentFactory(
        resolved=True, secret=True, title="Checkout payments failing (fraud)"
    )
    public = IncidentFactory(resolved=True, title="Checkout payments slow")
    insider = UserFactory(groups=["Responders"])
    assign_perm("incidents.view_incident", insider, secret)
    responder = UserFactory(groups=["Responders"])
    # when / then: the same cached index serves every viewer differently
    assert {
        s.reference for s in similar_incidents("checkout payments", user=insider)
    } == {
        secret.reference,
        public.reference,
    }
    assert [s.reference for s in similar_incidents("checkout payments")] == [
        public.reference
    ]
    assert [
        s.reference for s in similar_incidents("checkout payments", user=responder)
    ] == [public.reference]
    assert len(fits) == 1


def test_a_restriction_after_fitting_is_honoured_at_once(fits):
    incident = IncidentFactory(resolved=True, title="Checkout payments failing")
    assert similar_incidents("checkout payments")
    # Restricting does not move the watermark: visibility is read live.
    Incident.objects.filter(pk=incident.pk).update(restricted=True)
    assert similar_incidents("checkout payments") == []
    assert len(fits) == 1


def test_walks_past_candidates_the_user_may_not_see(fits, monkeypatch):
    monkeypatch.setattr(triage, "SIMILAR_CANDIDATE_CHUNK", 1)
    hidden = [
        IncidentFactory(resolved=True, secret=True, title=f"Checkout payments {n}")
        for n in range(3)
    ]
    visible = IncidentFactory(resolved=True, title="Checkout payments failing badly")
    found = similar_incidents("checkout payments")
    assert [s.reference for s in found] == [visible.reference]
    assert not {h.reference for h in hidden} & {s.reference for s in found}
