"""The learned triage model: training, fallback, floors, caching, task, command,
admin. Incidents come from a deterministic factory with three clearly different
kinds of story."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from incidents import services, triage_model
from incidents.models import Incident, IncidentType, TriageModel
from incidents.tasks import retrain_triage_model_task
from incidents.triage import BaselineSuggester, Report, get_suggester, suggest_for
from incidents.triage_model import (
    KEEP_VERSIONS,
    MIN_TRAINING_SAMPLES,
    LearnedSuggester,
    served_label,
    signal_tokens,
    triage_model_train,
)
from tests.factories import (
    IncidentFactory,
    IncidentTypeFactory,
    UserFactory,
    severity,
)

# Three kinds of incident, told apart by their words, each with its own usual
# severity. The types have no keywords, so the rule baseline cannot name them.
STORIES = {
    "web-outage": (
        "SEV-2",
        "{s} API returns 500 errors for {n}% of requests",
        "Requests to {s} time out after the release; load balancer reports "
        "unhealthy backends.",
    ),
    "supplier-failure": (
        "SEV-3",
        "Supplier {s} missed the packaging shipment for line {n}",
        "The carrier confirmed the pallet was never collected from the supplier "
        "warehouse.",
    ),
    "phishing": (
        "SEV-4",
        "Phishing mail imitating {s} reached {n} mailboxes",
        "Staff reported a lookalike sender; the mail gateway quarantined the "
        "rest of the campaign.",
    ),
}
NAMES = ("checkout", "payroll", "billing", "search", "inventory", "catalogue")
KINDS = tuple(STORIES)
# A phishing report of the kind the history holds.
PHISHING = {
    "title": "Phishing mail imitating billing reached 12 mailboxes",
    "description": "Staff reported a lookalike sender; the mail gateway "
    "quarantined the rest of the campaign.",
}


def story_incidents(count: int, *, start: int = 0, **extra) -> list[Incident]:
    """``count`` resolved incidents with a confirmed type and severity, the
    kinds rotating, the specifics depending only on the position."""
    made = []
    for n in range(start, start + count):
        kind = KINDS[n % len(KINDS)]
        level, title, description = STORIES[kind]
        made.append(
            IncidentFactory(
                resolved=True,
                title=title.format(s=NAMES[n % len(NAMES)], n=10 + n),
                description=description,
                incident_type=IncidentTypeFactory(slug=kind),
                severity=severity(level),
                **extra,
            )
        )
    return made


@pytest.fixture(autouse=True)
def fresh_cache():
    triage_model.clear_cache()
    yield
    triage_model.clear_cache()


@pytest.fixture
def history(db):
    return story_incidents(60)


@pytest.fixture
def trained(history):
    model = triage_model_train()
    assert model is not None
    return model


def test_training_learns_to_tell_the_types_apart(trained):
    assert trained.version == 1
    assert trained.sample_count == 60
    assert trained.train_count + trained.test_count == 60
    assert trained.test_count >= 3
    # Held-out metrics of the model and of the rules on the same split.
    assert trained.type_accuracy == 1.0
    assert trained.baseline_type_accuracy == 0.0
    assert trained.severity_accuracy == 1.0
    assert trained.baseline_severity_accuracy < 1.0
    assert trained.type_usable and trained.severity_usable
    assert trained.type_labels == ["phishing", "supplier-failure", "web-outage"]
    assert trained.severity_labels == ["SEV-2", "SEV-3", "SEV-4"]
    assert set(trained.metrics["type"]) >= {"macro_f1", "log_loss", "calibrated"}
    assert len(bytes(trained.pipeline)) > 0

    # New reports it has never seen:
    outage = suggest_for(title="Search API returns 500 errors, requests time out")
    supplier = suggest_for(title="Supplier missed the shipment of packaging")
    # (the organisation's phishing reports read alike: the model answers for
    # reports like its history, see the tests of familiarity below)
    phishing = suggest_for(**PHISHING)
    assert (outage.incident_type, outage.severity) == ("web-outage", "SEV-2")
    assert (supplier.incident_type, supplier.severity) == (
        "supplier-failure",
        "SEV-3",
    )
    assert (phishing.incident_type, phishing.severity) == ("phishing", "SEV-4")
    assert phishing.confidence > 0.5


def test_training_is_deterministic(history):
    first = triage_model_train()
    second = triage_model_train(force=True)
    assert second.version == first.version + 1
    assert second.metrics == first.metrics
    assert (second.train_count, second.test_count) == (
        first.train_count,
        first.test_count,
    )


def test_rationale_is_plain_and_names_the_words(trained):
    # The rationale a responder reads names the report's words, never the
    # model's figures (those live in the admin); the rationale changed from
    # "learned triage model v1 (... held-out accuracy ...)" on purpose.
    suggestion = suggest_for(title="Supplier missed the packaging shipment")

    rationale = suggestion.rationale
    supplier = IncidentType.objects.get(slug="supplier-failure")
    assert suggestion.incident_type == "supplier-failure"
    assert f"looks like {supplier.name.lower()}, like past incidents with" in (
        rationale.lower()
    )
    pushed = rationale.split("like past incidents with ")[1].split(";")[0]
    assert any(w in pushed for w in ("“supplier”", "“packaging”", "“shipment”"))
    assert "SEV-3" in rationale
    for jargon in ("model", "held-out", "accuracy", "%", "probab"):
        assert jargon not in rationale
    assert isinstance(get_suggester(), LearnedSuggester)


def test_too_few_samples_stores_nothing_and_the_rules_say_so(db):
    story_incidents(MIN_TRAINING_SAMPLES - 1)

    assert triage_model_train() is None

    assert not TriageModel.objects.exists()
    suggester = get_suggester()
    assert isinstance(suggester, BaselineSuggester)
    # Why the rules suggest is for administrators, not in the rationale.
    assert suggester.note.startswith("no triage model trained yet")
    assert "rules suggest" in suggester.note
    suggestion = suggest_for(title="Supplier missed the packaging shipment")
    assert "model" not in suggestion.rationale


def test_a_version_weaker_than_the_rules_is_not_used(db):
    # As training stores it when held-out accuracy is below the baseline's:
    # the pipeline is then never even loaded.
    TriageModel.objects.create(
        version=1,
        pipeline=b"never loaded",
        library_version="1.9",
        data_fingerprint="x",
        sample_count=80,
        train_count=60,
        test_count=20,
        type_accuracy=0.4,
        baseline_type_accuracy=0.55,
        severity_accuracy=0.3,
        baseline_severity_accuracy=0.5,
        type_usable=False,
        severity_usable=False,
    )

    suggestion = suggest_for(title="Checkout site down")

    assert isinstance(get_suggester(), BaselineSuggester)
    assert get_suggester().note.startswith(
        "triage model v1 is weaker than the rules on held-out incidents "
        "(type 40% vs 55%, severity 30% vs 50%)"
    )
    assert "model" not in suggestion.rationale


def test_a_version_that_cannot_be_loaded_falls_back(db):
    TriageModel.objects.create(
        version=1,
        pipeline=b"not a pickle",
        library_version="0.1",
        data_fingerprint="x",
        sample_count=80,
        train_count=60,
        test_count=20,
        type_accuracy=0.9,
        baseline_type_accuracy=0.5,
        type_usable=True,
    )

    suggestion = suggest_for(title="Checkout site down")

    note = get_suggester().note
    assert "triage model v1 could not be loaded here" in note
    assert "scikit-learn 0.1" in note
    assert "model" not in suggestion.rationale


def test_data_exposed_is_sev1_whatever_the_model_says(trained):
    # given: the model alone calls a phishing report SEV-4
    assert suggest_for(**PHISHING).severity == "SEV-4"

    # when: the reporter says data was exposed
    suggestion = suggest_for(**PHISHING, data_exposed=True)

    # then: the framework's floor wins, and the rationale says both
    assert suggestion.severity == "SEV-1"
    assert suggestion.incident_type == "phishing"
    assert "SEV-1 by the framework: data exposed" in suggestion.rationale


def test_customer_facing_outage_and_regulatory_are_floors_too(trained):
    outage = suggest_for(
        title="Supplier missed the packaging shipment, shop down",
        customer_facing=True,
    )
    regulatory = suggest_for(title="Supplier missed the shipment", regulatory=True)
    assert outage.severity == "SEV-1"
    assert "customer-facing outage" in outage.rationale
    assert regulatory.severity == "SEV-1"
    assert "regulatory event" in regulatory.rationale


def test_reporters_chosen_type_is_kept_by_the_learned_suggester(trained):
    suggestion = suggest_for(
        title="Phishing mail reached 12 mailboxes", incident_type="web-outage"
    )
    assert suggestion.incident_type == "web-outage"
    assert "as the reporter chose" in suggestion.rationale


def test_suggest_for_stores_nothing(trained, django_assert_max_num_queries):
    suggest_for(title="warm the cache")
    counts = (
        Incident.objects.count(),
        TriageModel.objects.count(),
        Incident.history.count(),
    )
    # One more than before: the open look-alikes (possible duplicates).
    with django_assert_max_num_queries(6) as queries:
        suggest_for(title="Search API returns 500 errors", customer_facing=True)
    sql = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    assert not any(s.startswith(("INSERT", "UPDATE", "DELETE")) for s in sql)
    # One small query for the version; the pipeline comes from the cache.
    assert not any('"PIPELINE"' in s for s in sql)
    assert (
        Incident.objects.count(),
        TriageModel.objects.count(),
        Incident.history.count(),
    ) == counts


def test_similar_incidents_respect_visibility_with_a_model(trained):
    secret = IncidentFactory(
        resolved=True,
        secret=True,
        title="Phishing mail imitating the board reached 3 mailboxes",
    )
    insider = secret.reporter
    from guardian.shortcuts import assign_perm

    assign_perm("incidents.view_incident", insider, secret)
    query = "Phishing mail imitating the board"

    public = suggest_for(title=query).similar
    mine = suggest_for(title=query, user=insider).similar

    assert public and secret.reference not in [s.reference for s in public]
    assert secret.reference in [s.reference for s in mine]
    assert suggest_for(title=query, user=UserFactory()).similar == []


def test_the_process_cache_reloads_when_a_new_version_appears(
    trained, django_assert_max_num_queries
):
    suggest_for(title="Supplier missed a shipment")
    cached = triage_model.current_model()
    assert cached.loaded.version == 1
    assert triage_model.current_model() is cached  # same version: no reload

    # given: another process trains v2 (here: more history, then training)
    story_incidents(3, start=60)
    assert triage_model_train().version == 2

    # then: the next suggestion in this process uses v2
    suggest_for(title="Supplier missed a shipment")
    assert triage_model.current_model() is not cached
    assert triage_model.current_model().loaded.version == 2


def test_retraining_without_new_data_stores_nothing(trained):
    assert triage_model_train() is None
    assert list(TriageModel.objects.values_list("version", flat=True)) == [1]


def test_only_the_newest_versions_are_kept(trained):
    for _ in range(KEEP_VERSIONS):
        triage_model_train(force=True)
    versions = list(TriageModel.objects.values_list("version", flat=True))
    assert versions == list(range(KEEP_VERSIONS + 1, 1, -1))


def test_the_nightly_task_trains(history):
    retrain_triage_model_task.apply().get()
    assert TriageModel.objects.get().sample_count == 60


def test_the_beat_schedule_runs_the_task_nightly(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["incidents-retrain-triage-model"]
    assert entry["task"] == retrain_triage_model_task.name
    assert entry["schedule"].hour == {3}


def test_the_command_prints_the_metrics(history):
    out = StringIO()
    call_command("train_triage_model", stdout=out)
    text = out.getvalue()
    assert "Triage model v1 trained" in text
    assert "on 60 incidents" in text
    assert "type:     model 100.0%, keywords 0.0%" in text
    assert "-> used" in text

    again = StringIO()
    call_command("train_triage_model", stdout=again)
    assert "Nothing new since triage model v1" in again.getvalue()


def test_the_command_says_when_there_is_too_little_data(db):
    out = StringIO()
    call_command("train_triage_model", stdout=out)
    assert "Not enough labelled incidents" in out.getvalue()
    assert not TriageModel.objects.exists()


def test_admin_lists_versions_read_only(admin_client, trained):
    listing = admin_client.get(reverse("admin:incidents_triagemodel_changelist"))
    detail = admin_client.get(
        reverse("admin:incidents_triagemodel_change", args=[trained.pk])
    )
    add = admin_client.get(reverse("admin:incidents_triagemodel_add"))

    assert listing.status_code == 200
    assert "100% / 0%" in listing.text
    assert detail.status_code == 200
    assert "supplier-failure" in detail.text
    assert 'name="_save"' not in detail.text
    assert add.status_code == 403


def test_flags_and_affected_tags_are_features():
    report = Report(
        title="Checkout down",
        data_exposed=True,
        affected_services=("Checkout API",),
        affected_sites=("Leipzig DC",),
        affected_suppliers=("Acme",),
    )
    assert signal_tokens(report) == (
        "flag:data_exposed service:checkout_api site:leipzig_dc supplier:acme"
    )
    assert signal_tokens(Report(title="x")) == "flag:none"


def test_affected_tags_reach_the_learned_model(db):
    # given: outages on two services, told apart only by their tags
    for n in range(30):
        for service, kind, level in (
            ("checkout-api", "checkout-outage", "SEV-2"),
            ("payroll", "payroll-outage", "SEV-3"),
        ):
            IncidentFactory(
                resolved=True,
                title=f"Service returns errors ({n})",
                affected_services=[service],
                incident_type=IncidentTypeFactory(slug=kind),
                severity=severity(level),
            )
    assert triage_model_train().type_accuracy == 1.0

    # when
    suggestion = suggest_for(
        title="Service returns errors", affected_services=["payroll"]
    )

    # then
    assert suggestion.incident_type == "payroll-outage"
    assert "service payroll" in suggestion.rationale


def test_an_unsure_model_yields_the_type_to_a_keyword_match(trained):
    # given keywords on one type and a report the model has never seen the like of
    phishing = IncidentType.objects.get(slug="phishing")
    phishing.keywords = "badge"
    phishing.save()

    # (the model, trained on other words, leans to supplier-failure at under 50%)
    suggestion = suggest_for(title="Badge reader offline at reception")

    assert suggestion.incident_type == "phishing"
    assert "(“badge”)" in suggestion.rationale


def test_declaring_and_the_api_pass_the_affected_tags_to_triage(db, client):
    for n in range(30):
        for service, kind, level in (
            ("checkout-api", "checkout-outage", "SEV-2"),
            ("payroll", "payroll-outage", "SEV-3"),
        ):
            IncidentFactory(
                resolved=True,
                title=f"Service returns errors ({n})",
                affected_services=[service],
                incident_type=IncidentTypeFactory(slug=kind),
                severity=severity(level),
            )
    triage_model_train()
    reporter = UserFactory(groups=["Responders"])

    incident = services.incident_declare(
        actor=reporter, title="Service returns errors", affected_services=["payroll"]
    )
    client.force_login(reporter)
    suggested = client.post(
        "/api/v1/triage/suggest/",
        {"title": "Service returns errors", "affected_services": ["payroll"]},
        content_type="application/json",
    ).json()

    assert incident.suggested_type.slug == "payroll-outage"
    assert suggested["incident_type"] == "payroll-outage"


def test_the_model_answers_only_where_it_is_surer_than_the_rules():
    # its label when it is surer, or when the rules have none; else the rules'
    assert served_label("SEV-4", 0.9, "SEV-3", 0.6) == "SEV-4"
    assert served_label("SEV-4", 0.4, "SEV-3", 0.6) == "SEV-3"
    assert served_label("phishing", 0.3, None, 0.3) == "phishing"
    assert served_label("SEV-3", 0.2, "SEV-3", 0.9) == "SEV-3"


def test_an_unfamiliar_report_keeps_the_rules_severity(trained):
    # given a report unlike any incident of the history: the model was never
    # measured on such reports, however sure it says it is
    report = Report(title="Phishing mail reached 12 mailboxes")
    model = get_suggester().model
    assert not model.is_familiar(report)
    assert model.is_familiar(Report(**PHISHING))
    rules = BaselineSuggester().suggest(report)

    suggestion = get_suggester().suggest(report)

    # then the rules and the impact reading keep their severity; the model still
    # names the type the rules cannot
    assert suggestion.severity == rules.severity
    assert rules.incident_type is None
    assert suggestion.incident_type == "phishing"
    assert trained.metrics["familiarity"]["threshold"] > 0
