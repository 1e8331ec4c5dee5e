"""Triage on realistic reports: the hard cases of docs/triage.md one by one,
plain rationales, and the time a suggestion takes."""

import re
import time

import pytest

from incidents.seed import seed_incident_types, seed_severity_framework
from incidents.triage import suggest_for
from incidents.triage_eval import load_labelled
from incidents.triage_prior import DATA, prior_model
from incidents.triage_reader import read_impact

JARGON = ("model", "held-out", "accuracy", "%", "probab", "classifier", "trained")


@pytest.fixture
def taxonomy(db):
    seed_incident_types(seed_severity_framework())


def _family(suggestion):
    from incidents.models import IncidentType

    return IncidentType.objects.get(slug=suggestion.incident_type).family.slug


def test_all_customers_unable_to_pay_is_sev1_without_the_flag(taxonomy):
    suggestion = suggest_for(
        title="Checkout API returning 502 for all EU customers, payments failing"
    )
    assert suggestion.severity == "SEV-1"
    assert suggestion.incident_type == "customer-facing-outage"
    assert "SEV-1 by the framework: customer-facing outage" in suggestion.rationale


def test_host_names_do_not_read_as_internal():
    impact = read_impact("Errors from api.payments.internal for all customers")
    assert not impact.has("internal")
    assert impact.has("scope_all", "customers")
    assert read_impact("Internal wiki is down for staff").has("internal")


@pytest.mark.parametrize(
    ("title", "not_type"),
    [
        # single words that used to drive the type
        (
            "Nightly invoice export failed, finance reruns it tomorrow",
            "account-compromise",
        ),
        ("Docker container keeps restarting on the staging cluster", "logistics-delay"),
        (
            "High CPU on the search cluster, pages slow for some users",
            "inventory-shortage",
        ),
        ("Payments page slow for some customers this morning", "policy-violation"),
    ],
)
def test_single_misleading_words_do_not_decide_the_type(taxonomy, title, not_type):
    assert suggest_for(title=title).incident_type != not_type


def test_scope_words_move_the_severity(taxonomy):
    everyone = suggest_for(title="Login fails for all customers on web and app")
    one = suggest_for(title="Login fails for one customer after they changed SSO")
    assert everyone.severity == "SEV-1"
    assert one.severity in ("SEV-3", "SEV-4")


def test_non_native_english(taxonomy):
    suggestion = suggest_for(
        title="customers can not login since morning, all of them",
        description="nobody can enter in the app, we get many calls",
    )
    assert suggestion.severity == "SEV-1"
    assert _family(suggestion) == "service-outage"


def test_alert_style_terse_title(taxonomy):
    suggestion = suggest_for(title="[FIRING:1] KubeNodeNotReady prod-eu-2 node pool b")
    assert _family(suggestion) == "service-outage"


def test_a_long_narrative(taxonomy):
    suggestion = suggest_for(
        title="Supplier of our packaging film has stopped deliveries",
        description=(
            "This morning the account manager of our film supplier called to say "
            "that their extrusion line is down after a fire in the plant. They "
            "expect to restart in three weeks. We hold about ten days of film for "
            "lines 1 and 2; line 3 uses a different film. Purchasing is looking for "
            "a second source but qualification usually takes a month. Sales has "
            "not been told yet."
        ),
    )
    assert _family(suggestion) == "supply-chain-disruption"
    assert suggestion.severity in ("SEV-2", "SEV-1")


def test_a_ticked_flag_without_an_outage_is_not_a_floor(taxonomy):
    suggestion = suggest_for(
        title="Typo on the checkout button, checkout works", customer_facing=True
    )
    assert suggestion.severity == "SEV-4"


def test_business_functions(taxonomy):
    payroll = suggest_for(title="Payroll run failed, salaries will be paid late")
    assert payroll.severity in ("SEV-1", "SEV-2")


def test_the_floors_stay(taxonomy):
    assert suggest_for(title="Typo in footer", data_exposed=True).severity == "SEV-1"
    assert suggest_for(title="Typo in footer", regulatory=True).severity == "SEV-1"


def test_rationales_are_plain_sentences_without_model_jargon(taxonomy):
    rows = load_labelled(DATA / "dev.jsonl")[::4]
    for row in rows:
        report = row.report
        suggestion = suggest_for(
            title=report.title,
            description=report.description,
            customer_facing=report.customer_facing,
            data_exposed=report.data_exposed,
            regulatory=report.regulatory,
        )
        rationale = suggestion.rationale
        assert rationale[0].isupper() and rationale.endswith(".")
        # The report's own words are quoted; outside them, no model jargon.
        outside = re.sub(r"“[^”]*”", "", rationale).lower()
        assert not any(word in outside for word in JARGON), rationale
        assert suggestion.type_confidence is None or 0 < suggestion.type_confidence <= 1


def test_a_suggestion_takes_under_50_ms_at_p95(taxonomy):
    assert prior_model() is not None  # loaded, as after start-up
    titles = [row.report.title for row in load_labelled(DATA / "dev.jsonl")[:60]]
    suggest_for(title="warm up")
    timings = []
    for title in titles:
        # CPU time of this process: the machine may be busy with other work.
        started = time.process_time()
        suggest_for(title=title)
        timings.append(time.process_time() - started)
    timings.sort()
    assert timings[int(0.95 * (len(timings) - 1))] <= 0.050


def test_the_prior_trains_deterministically():
    from incidents.triage_prior import PriorModel, load_corpus

    examples = load_corpus()[:80]
    first, second = PriorModel(examples), PriorModel(examples)
    assert (first.type_head.coef_ == second.type_head.coef_).all()
