"""The demo seed: idempotent, complete and realistic.

Seeding takes a while, so the module seeds once (twice, to check idempotency) in a
transaction that is rolled back when the module is done; each test then looks at
one property of the result inside its own nested transaction.
"""

import statistics
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, IncidentType, Playbook, TimelineEntry
from incidents.seed import ACTIVE, HISTORY_SIZE, plan_history
from incidents.timeline import verify_timeline

FAMILIES = {
    "service-outage",
    "security-data-breach",
    "supply-chain-disruption",
    "compliance-event",
}
ACTIVE_TITLES = {spec["title"] for spec in ACTIVE}

# Every test here is a database test, so pytest-django runs them all before the
# transactional tests (which empty the database) and the module seeds only once.
pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.label not in ("sessions.Session", "admin.LogEntry")
    }


def timeline_hashes() -> list[str]:
    return list(TimelineEntry.objects.order_by("pk").values_list("hash", flat=True))


class Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed twice; record counts and hashes after each run and the second run's
    duration."""
    result = {}
    with django_db_blocker.unblock():
        try:
            with transaction.atomic():
                call_command("seed_demo", stdout=StringIO())
                result["counts"] = row_counts()
                result["hashes"] = timeline_hashes()
                started = time.monotonic()
                call_command("seed_demo", stdout=StringIO())
                result["second_run"] = time.monotonic() - started
                result["counts_again"] = row_counts()
                result["hashes_again"] = timeline_hashes()
                yield result
                raise Rollback
        except Rollback:
            pass


@pytest.fixture
def history(seeded, db):
    return Incident.objects.exclude(title__in=ACTIVE_TITLES)


def test_second_run_changes_no_row_of_any_model(seeded):
    assert seeded["counts"]["incidents.Incident"] >= HISTORY_SIZE
    assert seeded["counts_again"] == seeded["counts"]


def test_second_run_adds_no_timeline_entry_and_keeps_every_hash(seeded):
    assert seeded["hashes"]
    assert seeded["hashes_again"] == seeded["hashes"]


def test_second_run_detects_the_loaded_demo_quickly(seeded):
    assert seeded["second_run"] < 2.0


def test_at_least_twelve_types_over_the_four_families(seeded, db):
    types = IncidentType.objects.select_related("family")
    assert types.count() >= 12
    assert {t.family.slug for t in types} >= FAMILIES
    for family in FAMILIES:
        assert types.filter(family__slug=family).count() >= 2


def test_regulatory_deadlines_and_restrictions_are_the_real_ones(seeded, db):
    breach = IncidentType.objects.get(slug="personal-data-breach")
    assert breach.notification_deadline_hours == 72
    assert "GDPR Art. 33" in breach.notification_authority
    assert breach.restricted_by_default
    assert set(breach.restricted_groups.values_list("name", flat=True)) == {
        "Incident managers",
        "Executives",
    }
    assert (
        IncidentType.objects.get(slug="ransomware-malware").notification_deadline_hours
        == 24
    )
    assert IncidentType.objects.get(slug="hr-compliance").restricted_by_default


def test_every_type_has_a_playbook_of_four_to_eight_ordered_steps(seeded, db):
    for incident_type in IncidentType.objects.all():
        playbooks = Playbook.objects.filter(incident_type=incident_type)
        assert playbooks.exists(), incident_type.slug
        for playbook in playbooks:
            orders = list(playbook.steps.values_list("order", flat=True))
            assert 4 <= len(orders) <= 8, playbook.name
            assert orders == sorted(orders)
            assert playbook.required_roles.exists()
    assert Playbook.objects.filter(severity__code="SEV-1").count() >= 3


def test_at_least_300_historical_incidents_spanning_17_months(history):
    assert history.count() >= HISTORY_SIZE
    first = history.order_by("created_at").first().created_at
    last = history.order_by("-created_at").first().created_at
    assert last - first >= timedelta(days=17 * 30)
    assert last < timezone.now()


def test_every_historical_incident_is_resolved_with_confirmed_severity_and_human_commander(
    history,
):
    for incident in history.with_commander().select_related("severity_confirmed_by"):
        assert incident.status in ("resolved", "closed"), incident.reference
        assert incident.severity_id is not None
        assert incident.severity_confirmed_by.is_human
        assert incident.commander is not None and incident.commander.is_human
        assert incident.resolution_summary


def test_sampled_timelines_have_valid_hash_chains(history):
    sample = list(history.order_by("pk")[::15])
    assert len(sample) >= 20
    for incident in sample:
        verification = verify_timeline(incident)
        assert verification.ok, (incident.reference, verification.reason)
        assert verification.entries >= 6


def test_distributions_are_realistic(history):
    tta = [(i.acknowledged_at - i.created_at).total_seconds() for i in history]
    ttr = [(i.resolved_at - i.created_at).total_seconds() for i in history]
    assert statistics.median(tta) < statistics.median(ttr)
    assert statistics.median(tta) < 3600
    assert (
        history.filter(severity__code="SEV-1").count()
        < history.filter(severity__code="SEV-4").count()
    )
    assert history.filter(status="closed").exists()
    assert history.filter(actions__status="done").exists()


def test_titles_are_distinct(history):
    assert history.values("title").distinct().count() >= 250


def test_history_plan_is_deterministic():
    first = [(p.title, p.days_ago, len(p.steps)) for p in plan_history()]
    again = [(p.title, p.days_ago, len(p.steps)) for p in plan_history()]
    assert first == again


def test_active_incidents_show_off_the_status_board(seeded, db):
    active = Incident.objects.filter(title__in=ACTIVE_TITLES).with_commander()
    assert active.count() == len(ACTIVE)
    assert all(incident.is_open for incident in active)
    statuses = {incident.status for incident in active}
    assert {"triage", "investigating", "mitigated"} <= statuses
    now = timezone.now()

    untriaged = active.get(status="triage", assignments__isnull=True)
    assert untriaged.suggestion["severity"]

    sev1 = active.get(severity__code="SEV-1", restricted=False, status="investigating")
    assert sev1.current_assignments().filter(role__slug="communications").exists()
    assert sev1.next_update_due_at() < now  # the stakeholder update is overdue

    breach = active.get(incident_type__slug="personal-data-breach")
    assert breach.restricted
    assert timedelta(0) < breach.notification_time_left(now) < timedelta(hours=72)

    mitigated = active.get(status="mitigated")
    assert mitigated.incident_type.family.slug == "supply-chain-disruption"
