"""Races that only a real database can show: run against PostgreSQL."""

import pytest
from django.contrib.auth.models import Permission

from incidents import services
from incidents.models import Incident
from incidents.services import OpenIncidentExists
from incidents.timeline import verify_timeline
from tests.factories import IntegrationFactory, UserFactory
from tests.threads import race

THREADS = 8

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _reporter():
    # Transactional tests flush the database between tests, which removes what
    # the data migrations made (the groups' permissions); post_migrate brings
    # back the permissions themselves, so grant the ones needed directly.
    user = UserFactory()
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="incidents",
            codename__in=["view_incident", "add_incident", "add_note"],
        )
    )
    return user


def _race(work):
    """Run ``work(i)`` in THREADS threads released at once; collect outcomes."""
    return race(work, THREADS)


def test_concurrent_declares_get_unique_consecutive_references():
    reporter = _reporter()

    outcomes = _race(
        lambda i: services.incident_declare(actor=reporter, title=f"Race {i}").reference
    )

    assert all(isinstance(o, str) for o in outcomes), outcomes
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in outcomes)
    assert numbers == list(range(1, THREADS + 1))


def test_concurrent_alerts_with_one_key_make_one_incident():
    integration = IntegrationFactory()

    outcomes = _race(
        lambda i: (
            services.incident_declare(
                actor=integration.service_account,
                title="Disk full",
                integration=integration,
                dedup_key="disk-full",
            ).reference
        )
    )

    created = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if isinstance(o, OpenIncidentExists)]
    assert len(created) == 1
    assert len(refused) == THREADS - 1
    assert {e.incident.reference for e in refused} == set(created)
    assert Incident.objects.count() == 1


def test_concurrent_timeline_writes_never_fork_the_chain():
    reporter = _reporter()
    incident = services.incident_declare(actor=reporter, title="Busy incident")

    outcomes = _race(
        lambda i: (
            services.incident_add_note(
                incident=incident, actor=reporter, body=f"note {i}"
            ).sequence
        )
    )

    assert sorted(outcomes) == list(range(3, THREADS + 3))
    assert verify_timeline(incident).ok
