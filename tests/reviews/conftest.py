"""People in each group and incidents resolved through the services, so that
reviews come into being the way they do in production (the resolve event)."""

from datetime import UTC, datetime, timedelta

import pytest

from incidentops import groups
from incidents import services as incident_services
from reviews import services
from tests.factories import IncidentTypeFactory, UserFactory, role, severity

# A Wednesday, 10:00 UTC (11:00 in London, summer time).
WEDNESDAY = datetime(2026, 6, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def responder(db):
    return UserFactory(username="rita", first_name="Rita", groups=[groups.RESPONDERS])


@pytest.fixture
def manager(db):
    return UserFactory(
        username="mia",
        first_name="Mia",
        groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS],
    )


@pytest.fixture
def reviewer(db):
    return UserFactory(username="rob", first_name="Rob", groups=[groups.REVIEWERS])


@pytest.fixture
def reviewer2(db):
    return UserFactory(username="rae", first_name="Rae", groups=[groups.REVIEWERS])


@pytest.fixture
def executive(db):
    return UserFactory(username="eve", first_name="Eve", groups=[groups.EXECUTIVES])


@pytest.fixture
def outsider(db):
    """A responder with no grant on restricted incidents."""
    return UserFactory(username="olly", first_name="Olly", groups=[groups.RESPONDERS])


@pytest.fixture
def reviewer_bot(db):
    return UserFactory(
        username="review-bot", service_account=True, groups=[groups.REVIEWERS]
    )


@pytest.fixture
def resolve(responder, manager):
    """Declare, command, confirm and resolve an incident at ``at``."""

    def _resolve(
        code="SEV-2",
        *,
        at=WEDNESDAY,
        incident_type=None,
        restricted=None,
        title="Checkout API returns 500 errors",
    ):
        start = at - timedelta(hours=3)
        incident = incident_services.incident_declare(
            actor=responder,
            title=title,
            incident_type=incident_type,
            restricted=restricted,
            now=start,
        )
        incident_services.incident_assign_role(
            incident=incident,
            actor=manager,
            role=role("commander"),
            user=manager,
            now=start + timedelta(minutes=5),
        )
        incident_services.incident_confirm_severity(
            incident=incident,
            actor=manager,
            severity=severity(code),
            reason="impact",
            now=start + timedelta(minutes=10),
        )
        incident_services.incident_transition(
            incident=incident,
            actor=manager,
            status="investigating",
            now=start + timedelta(minutes=15),
        )
        incident_services.incident_transition(
            incident=incident,
            actor=manager,
            status="mitigated",
            now=start + timedelta(hours=1),
        )
        incident_services.incident_transition(
            incident=incident,
            actor=manager,
            status="resolved",
            note="Rolled back the release.",
            now=at,
        )
        incident.refresh_from_db()
        return incident

    return _resolve


@pytest.fixture
def review(resolve):
    """A SEV-2 review in draft, owned by the commander (mia)."""
    return resolve("SEV-2").review


@pytest.fixture
def sev1_review(resolve):
    return resolve("SEV-1").review


def write(review, actor):
    """Give the review the content submission asks for."""
    return services.review_update(
        review=review,
        actor=actor,
        summary="Checkout failed for 20 minutes after a release.",
        root_cause="A configuration flag was removed without a migration.",
    )


@pytest.fixture
def submitted(review, manager):
    write(review, manager)
    return services.review_submit(review=review, actor=manager)


@pytest.fixture
def incident_type(db):
    return IncidentTypeFactory(slug="payment-outage", name="Payment outage")
