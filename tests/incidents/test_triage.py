import pytest

from incidents import services
from incidents.models import Incident, TimelineEntry
from incidents.triage import Suggestion, suggest_for
from tests.factories import (
    IncidentFactory,
    IncidentFamilyFactory,
    IncidentTypeFactory,
    UserFactory,
    severity,
)


@pytest.fixture
def taxonomy(db):
    outage = IncidentFamilyFactory(slug="service-outage")
    security = IncidentFamilyFactory(slug="security-data-breach")
    supply = IncidentFamilyFactory(slug="supply-chain-disruption")
    return {
        "outage": IncidentTypeFactory(
            family=outage,
            slug="web-outage",
            keywords="checkout, website, site down, api, 500 errors, outage",
            default_severity=severity("SEV-2"),
        ),
        "breach": IncidentTypeFactory(
            family=security,
            slug="personal-data-breach",
            keywords="personal data, data breach, exposed, leaked, s3 bucket",
            restricted_by_default=True,
        ),
        "supplier": IncidentTypeFactory(
            family=supply,
            slug="supplier-failure",
            keywords="supplier, shipment, delivery, packaging",
            default_severity=severity("SEV-3"),
        ),
        "docs": IncidentTypeFactory(
            family=outage,
            slug="status-page",
            keywords="status page, footer",
            default_severity=severity("SEV-4"),
        ),
    }


@pytest.mark.parametrize(
    ("report", "expected_type", "expected_severity"),
    [
        (
            {"title": "Checkout site down for all customers", "customer_facing": True},
            "web-outage",
            "SEV-1",
        ),
        (
            {
                "title": "Customer personal data exposed via public S3 bucket",
                "data_exposed": True,
            },
            "personal-data-breach",
            "SEV-1",
        ),
        (
            {"title": "Checkout API latency degraded, SLA at risk"},
            "web-outage",
            "SEV-2",
        ),
        (
            {"title": "Packaging supplier missed delivery; near miss on line 3"},
            "supplier-failure",
            "SEV-3",
        ),
        ({"title": "Typo in the status page footer"}, "status-page", "SEV-4"),
    ],
)
def test_baseline_suggests_type_and_severity(
    taxonomy, report, expected_type, expected_severity
):
    taxonomy_names = {t.slug: t.name for t in taxonomy.values()}
    suggestion = suggest_for(**report)
    assert suggestion.incident_type == expected_type
    assert suggestion.severity == expected_severity
    assert 0 <= suggestion.confidence <= 1
    # Plain language: the type's name, not its slug, and the level.
    assert taxonomy_names[expected_type].lower() in suggestion.rationale.lower()
    assert expected_severity in suggestion.rationale


def test_type_default_severity_is_the_prior_without_signals(taxonomy):
    suggestion = suggest_for(title="Question about a supplier contract")
    assert suggestion.incident_type == "supplier-failure"
    assert suggestion.severity == "SEV-3"
    assert "default" in suggestion.rationale


def test_nothing_matches_gives_a_cautious_low_confidence_default(taxonomy):
    suggestion = suggest_for(title="Something odd happened")
    assert suggestion.incident_type is None
    assert suggestion.severity == "SEV-3"
    assert suggestion.confidence < 0.5


def test_reporters_chosen_type_is_kept(taxonomy):
    suggestion = suggest_for(
        title="Checkout site down", incident_type="supplier-failure"
    )
    assert suggestion.incident_type == "supplier-failure"


def test_similar_incidents_past_ones_come_from_resolved_history(taxonomy):
    IncidentFactory(
        resolved=True,
        title="Checkout payments failing with 500 errors",
        description="Card processor timeouts",
        resolution_summary="Failed over to the secondary processor",
    )
    IncidentFactory(resolved=True, title="Warehouse roof leak")
    IncidentFactory(title="Checkout payments failing again")  # still open

    suggestion = suggest_for(title="Checkout payments failing", description="500s")

    # The open one comes first, as a possible duplicate (test_triage_duplicates);
    # the past ones are the resolved incidents.
    assert [s.title for s in suggestion.similar] == [
        "Checkout payments failing again",
        "Checkout payments failing with 500 errors",
    ]
    assert [s.open for s in suggestion.similar] == [True, False]
    past = suggestion.similar[1]
    assert past.resolution == "Failed over to the secondary processor"
    assert past.severity == "SEV-2"
    assert suggestion.as_dict()["similar"][1] == {
        "reference": past.reference,
        "title": "Checkout payments failing with 500 errors",
        "severity": "SEV-2",
        "resolution": "Failed over to the secondary processor",
        "open": False,
    }


def test_similar_respects_visibility(taxonomy):
    secret = IncidentFactory(
        resolved=True, secret=True, title="Checkout payments failing (fraud)"
    )
    insider = secret.reporter
    responder = UserFactory(groups=["Responders"])
    from guardian.shortcuts import assign_perm

    assign_perm("incidents.view_incident", insider, secret)

    assert suggest_for(title="Checkout payments failing").similar == []
    assert suggest_for(title="Checkout payments failing", user=responder).similar == []
    found = suggest_for(title="Checkout payments failing", user=insider).similar
    assert [s.reference for s in found] == [secret.reference]


def test_suggest_stores_nothing(taxonomy, django_assert_max_num_queries):
    IncidentFactory(resolved=True, title="Checkout down")
    # Warm this process's corpus index: the bound is for the usual case, where
    # the vectorizer is already fitted (a refit reads the corpus once more).
    suggest_for(title="Checkout")
    incidents, entries = Incident.objects.count(), TimelineEntry.objects.count()
    # One more than before: the open look-alikes (possible duplicates).
    with django_assert_max_num_queries(6) as queries:
        suggest_for(title="Checkout site down", customer_facing=True)
    assert not any(
        q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        for q in queries.captured_queries
    )
    assert (Incident.objects.count(), TimelineEntry.objects.count()) == (
        incidents,
        entries,
    )


def test_declare_stores_the_suggestion(taxonomy):
    reporter = UserFactory(groups=["Responders"])
    incident = services.incident_declare(
        actor=reporter, title="Website outage, checkout down", customer_facing=True
    )
    assert incident.suggested_type == taxonomy["outage"]
    assert incident.suggested_severity == severity("SEV-1")
    assert incident.incident_type is None  # a suggestion decides nothing


def test_a_custom_suggester_can_replace_the_baseline(taxonomy):
    class Fixed:
        def suggest(self, report, *, user=None):
            return Suggestion("SEV-4", None, 0.99, "fixed")

    assert suggest_for(title="anything", suggester=Fixed()).severity == "SEV-4"
    assert suggest_for(title="anything").severity != "SEV-4"


@pytest.mark.parametrize(
    "title",
    [
        "Checkout API returning 502 for all EU customers",
        "Customers cannot log in to the mobile app",
        "Card payments: every customer sees an error at checkout",
    ],
)
def test_customer_facing_loss_of_service_is_a_sev1_floor(db, title):
    suggestion = suggest_for(title=title, customer_facing=True)

    assert suggestion.severity == "SEV-1"
    assert "customer-facing outage" in suggestion.rationale


def test_customer_facing_slowness_is_not_an_outage(db):
    suggestion = suggest_for(title="Checkout slow in one region", customer_facing=True)

    assert suggestion.severity == "SEV-2"


def test_severity_codes_compare_by_the_levels_rank_not_their_text(db):
    from incidents.models import SeverityLevel, more_severe_code
    from incidents.triage import RuleContext

    # given: the seeded framework, and one where an admin ranked SEV-3 first
    ranks = SeverityLevel.objects.ranks()
    reranked = {"SEV-3": 1, "SEV-1": 2, "SEV-2": 3, "SEV-4": 4}
    # then: the more severe code is the one with the lower rank
    assert ranks == {"SEV-1": 1, "SEV-2": 2, "SEV-3": 3, "SEV-4": 4}
    assert more_severe_code("SEV-3", "SEV-1", ranks) == "SEV-1"
    assert more_severe_code("SEV-3", "SEV-1", reranked) == "SEV-3"
    assert more_severe_code(None, "SEV-4", ranks) == "SEV-4"
    # a code with no level loses to one that has a level
    assert more_severe_code("P0", "SEV-4", ranks) == "SEV-4"
    assert more_severe_code(None, None, ranks) is None
    assert RuleContext(types=[], ranks=reranked).more_severe("SEV-1", "SEV-3") == (
        "SEV-3"
    )


def test_the_signal_words_pick_the_level_ranked_most_severe(db, monkeypatch):
    from incidents.triage import BaselineSuggester, Report, RuleContext

    # given: no learned prior speaks (the signal words decide), a report with
    # words for SEV-2 ("degraded") and SEV-4 ("typo"), and a framework in which
    # an admin ranked SEV-4 above SEV-2
    monkeypatch.setattr(
        "incidents.triage_prior.prior_verdict", lambda *args, **kwargs: None
    )
    report = Report(title="Degraded search results and a typo in the footer")
    ranks = {"SEV-4": 1, "SEV-1": 2, "SEV-2": 3, "SEV-3": 4}
    rules = BaselineSuggester()
    # when: the rules suggest a severity under each ranking
    seeded = rules.classify(report, RuleContext.load())
    reranked = rules.classify(report, RuleContext(types=[], ranks=ranks))
    # then: the most severe signalled level by rank wins in each
    assert seeded.severity == "SEV-2"
    assert reranked.severity == "SEV-4"
