"""Teams, the service catalog and the services an incident affects."""

import importlib

import pytest
from django.apps import apps as global_apps
from django.utils import timezone

from incidentops import groups
from incidentops.exceptions import DomainError, NotPermitted
from incidents import services
from incidents.ingestion.batch import Alert as ParsedAlert
from incidents.ingestion.batch import AlertBatch
from incidents.ingestion.service import alert_ingest
from incidents.models import (
    Incident,
    IncidentService,
    Service,
    Team,
    TeamMembership,
    TimelineEntry,
)
from incidents.timeline import verify_timeline
from tests.factories import (
    IncidentFactory,
    IntegrationFactory,
    ServiceFactory,
    TeamFactory,
    UserFactory,
)


@pytest.fixture
def configurator(db):
    return UserFactory(username="cora", groups=[groups.CONFIGURATORS])


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", groups=[groups.RESPONDERS])


@pytest.fixture
def checkout(db):
    team = TeamFactory(name="Checkout", slug="checkout")
    return ServiceFactory(
        name="Checkout API",
        slug="checkout-api",
        team=team,
        tier=1,
        alert_labels={"service": "checkout-api"},
    )


# --- teams ---------------------------------------------------------------------------


def test_configurator_creates_a_team_with_manager_and_members(configurator, sam):
    lead = UserFactory(username="lena")

    team = services.team_create(
        actor=configurator,
        name="Checkout",
        description="Owns the checkout flow.",
        manager=lead,
        members=[sam, lead],
    )

    assert team.slug == "checkout"
    assert team.manager == lead
    assert set(team.members.values_list("username", flat=True)) == {"sam", "lena"}
    assert team.history.first().history_user == configurator


def test_team_update_replaces_the_member_list(configurator, sam):
    old = UserFactory(username="olga")
    team = services.team_create(actor=configurator, name="Platform", members=[old])

    services.team_update(team=team, actor=configurator, members=[sam])

    assert list(team.members.values_list("username", flat=True)) == ["sam"]
    assert TeamMembership.history.filter(history_type="-").count() == 1


def test_a_responder_may_not_change_teams(sam):
    with pytest.raises(NotPermitted):
        services.team_create(actor=sam, name="Rogue")
    assert not Team.objects.exists()


@pytest.mark.parametrize("as_manager", [True, False])
def test_service_accounts_are_neither_managers_nor_members(configurator, as_manager):
    robot = UserFactory(username="robot", service_account=True)
    arguments = {"manager": robot} if as_manager else {"members": [robot]}

    with pytest.raises(DomainError) as refused:
        services.team_create(actor=configurator, name="Bots", **arguments)

    assert refused.value.field == ("manager" if as_manager else "members")
    assert not Team.objects.exists()


def test_team_names_and_slugs_are_unique(configurator):
    services.team_create(actor=configurator, name="Checkout")

    with pytest.raises(DomainError) as refused:
        services.team_create(actor=configurator, name="Other", slug="checkout")

    assert refused.value.field == "slug"


# --- services --------------------------------------------------------------------------


def test_configurator_creates_a_service_with_labels_and_dependencies(configurator):
    team = TeamFactory(slug="payments")
    database = services.service_create(actor=configurator, name="postgres-primary")

    service = services.service_create(
        actor=configurator,
        name="Payments gateway",
        team=team,
        tier=1,
        runbook_url="https://runbooks.example/payments",
        alert_labels={"service": "payments-gateway", "port": 8443},
        depends_on=[database],
    )

    assert service.slug == "payments-gateway"
    assert service.alert_labels == {"service": "payments-gateway", "port": "8443"}
    assert list(service.depends_on.all()) == [database]
    assert list(database.dependents.all()) == [service]


@pytest.mark.parametrize(
    "labels",
    [["service", "x"], {"service": {"nested": 1}}, {"": "x"}, {"service": None}],
)
def test_alert_labels_must_be_an_object_of_text(configurator, labels):
    with pytest.raises(DomainError) as refused:
        services.service_create(actor=configurator, name="api", alert_labels=labels)
    assert refused.value.field == "alert_labels"
    assert not Service.objects.exists()


def test_tier_is_one_to_four(configurator):
    with pytest.raises(DomainError) as refused:
        services.service_create(actor=configurator, name="api", tier=5)
    assert refused.value.field == "tier"


def test_a_service_cannot_depend_on_itself_through_others(configurator):
    a = services.service_create(actor=configurator, name="a")
    b = services.service_create(actor=configurator, name="b", depends_on=[a])
    c = services.service_create(actor=configurator, name="c", depends_on=[b])

    with pytest.raises(DomainError) as refused:
        services.service_update(service=a, actor=configurator, depends_on=[c])
    with pytest.raises(DomainError):
        services.service_update(service=a, actor=configurator, depends_on=[a])

    assert refused.value.field == "depends_on"
    assert list(a.depends_on.all()) == []


def test_matching_needs_every_label_of_the_service(db):
    service = ServiceFactory(alert_labels={"service": "checkout-api", "env": "prod"})

    assert service.matches({"service": "checkout-api", "env": "prod", "pod": "x"})
    assert not service.matches({"service": "checkout-api", "env": "staging"})
    assert not ServiceFactory(slug="unlabelled", alert_labels={}).matches({})


# --- incidents and their services -------------------------------------------------------


def test_declare_naming_a_service_links_it_on_the_timeline(sam, checkout):
    incident = services.incident_declare(
        actor=sam, title="Checkout failing", services=[checkout]
    )

    link = IncidentService.objects.get(incident=incident)
    assert (link.service, link.source, link.linked_by) == (checkout, "declare", sam)
    assert incident.affected_services == ["checkout-api"]
    entry = TimelineEntry.objects.get(incident=incident, kind="services")
    assert "Checkout API (tier 1, Checkout)" in entry.summary
    assert verify_timeline(incident).ok


def test_declare_with_service_tags_links_the_catalog_services_they_name(sam, checkout):
    incident = services.incident_declare(
        actor=sam,
        title="Checkout failing",
        affected_services=["checkout api", "some-unknown-thing"],
    )

    assert list(incident.services.all()) == [checkout]
    assert incident.affected_services == [
        "checkout api",
        "some-unknown-thing",
        "checkout-api",
    ]


def test_editing_the_tags_links_and_unlinks(sam, checkout):
    other = ServiceFactory(slug="payments-gateway")
    incident = services.incident_declare(
        actor=sam, title="Checkout failing", services=[checkout]
    )

    services.incident_update(
        incident=incident, actor=sam, affected_services=["payments-gateway"]
    )

    assert list(incident.services.all()) == [other]
    summaries = list(
        TimelineEntry.objects.filter(incident=incident, kind="services")
        .order_by("sequence")
        .values_list("summary", flat=True)
    )
    assert "removed Checkout API" in summaries[1]
    assert "linked payments-gateway" in summaries[2]
    assert verify_timeline(incident).ok


def test_set_services_is_exact_and_needs_the_right_to_edit(sam, checkout):
    other = ServiceFactory(slug="postgres-primary")
    incident = services.incident_declare(
        actor=sam, title="Checkout failing", services=[checkout]
    )

    services.incident_set_services(incident=incident, actor=sam, services=[other])

    incident.refresh_from_db()
    assert list(incident.services.all()) == [other]
    assert incident.affected_services == ["postgres-primary"]
    stranger = UserFactory(username="stranger", groups=[groups.RESPONDERS])
    with pytest.raises(NotPermitted):
        services.incident_set_services(
            incident=incident, actor=stranger, services=[checkout]
        )


def test_linking_twice_changes_nothing(sam, checkout):
    incident = services.incident_declare(
        actor=sam, title="Checkout failing", services=[checkout]
    )
    before = TimelineEntry.objects.filter(incident=incident).count()

    assert (
        services.incident_link_services(
            incident=incident, actor=sam, services=[checkout]
        )
        == []
    )
    assert TimelineEntry.objects.filter(incident=incident).count() == before


def _batch(labels, key="checkout-5xx", fingerprint="fp-1"):
    now = timezone.now()
    return AlertBatch(
        group_key=key,
        status="firing",
        title="Checkout error rate high",
        description="5xx above 5%",
        alerts=(
            ParsedAlert(
                fingerprint=fingerprint,
                status="firing",
                name="HighErrorRate",
                labels=labels,
                starts_at=now,
            ),
        ),
    )


def test_an_alert_whose_labels_match_links_the_service(checkout):
    integration = IntegrationFactory(name="prometheus", alertmanager=True)

    result = alert_ingest(
        integration=integration,
        batch=_batch({"service": "checkout-api", "alertname": "HighErrorRate"}),
    )

    incident = Incident.objects.get(pk=result.incident.pk)
    assert list(incident.services.all()) == [checkout]
    assert incident.service_links.get().source == "alert"
    assert incident.affected_services == ["checkout-api"]
    entry = TimelineEntry.objects.get(incident=incident, kind="services")
    assert "service=checkout-api" in entry.summary
    assert verify_timeline(incident).ok
    # the history of the alert's incident starts once, with its real reference
    assert [h.reference for h in incident.history.all()] == [incident.reference]


def test_a_later_alert_links_another_service_of_the_group(checkout):
    database = ServiceFactory(slug="postgres-primary")
    integration = IntegrationFactory(name="prometheus", alertmanager=True)
    alert_ingest(integration=integration, batch=_batch({"service": "checkout-api"}))

    result = alert_ingest(
        integration=integration,
        batch=_batch({"service": "postgres-primary"}, fingerprint="fp-2"),
    )

    assert set(result.incident.services.all()) == {checkout, database}
    assert verify_timeline(result.incident).ok


def test_an_alert_matching_no_service_links_nothing(checkout):
    integration = IntegrationFactory(name="prometheus", alertmanager=True)

    result = alert_ingest(
        integration=integration, batch=_batch({"service": "search-api"})
    )

    assert not result.incident.service_links.exists()


def test_the_data_migration_turns_tags_into_records(db):
    migration = importlib.import_module(
        "incidents.migrations.0015_affected_services_records"
    )
    known = ServiceFactory(slug="checkout-api", name="Checkout API")
    first = IncidentFactory(affected_services=["checkout-api", "Legacy Billing"])
    second = IncidentFactory(affected_services=["legacy billing"])
    untouched = IncidentFactory(affected_services=[])

    migration.tags_to_records(global_apps, None)
    migration.tags_to_records(global_apps, None)  # idempotent

    legacy = Service.objects.get(slug="legacy-billing")
    assert legacy.team is None
    assert set(first.services.all()) == {known, legacy}
    assert list(second.services.all()) == [legacy]
    assert not untouched.services.exists()
    assert {link.source for link in IncidentService.objects.all()} == {"migrated"}
    assert first.service_links.first().linked_at == first.created_at
