"""Generated requests over the whole API (schemathesis, from the published
OpenAPI document), as a responder and as an administrator: no response is a
500 and every response matches the schema.

``EXAMPLES`` generated requests per operation and role (over 2,000 in all),
every other one aimed at an existing row; every failing case of an operation
is collected and reported together. Takes a few minutes."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from incidents import services
from incidents.models import ActionItem
from reviews import services as review_services
from reviews.models import FollowUp, Review
from tests.api.openapi import openapi
from tests.factories import (
    IncidentTypeFactory,
    IntegrationFactory,
    UserFactory,
    role,
    severity,
)

EXAMPLES = 32
CHECKS = [not_a_server_error, response_schema_conformance]

SCHEMA = schemathesis.openapi.from_dict(openapi())
SCHEMA.app = get_wsgi_application()
OPERATIONS = [
    result.ok() for result in SCHEMA.get_all_operations() if result.ok() is not None
]


@pytest.fixture
def keep_connection():
    """As Django's test client does: the WSGI handler must not close the test
    transaction's connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _resolved(manager, title):
    incident = services.incident_declare(actor=manager, title=title)
    services.incident_assign_role(
        incident=incident, actor=manager, role=role("commander"), user=manager
    )
    services.incident_confirm_severity(
        incident=incident, actor=manager, severity=severity("SEV-2")
    )
    for status in ("investigating", "mitigated", "resolved"):
        services.incident_transition(incident=incident, actor=manager, status=status)
    return incident


@pytest.fixture
def people(db, keep_connection):
    """A responder and an administrator, and one of each object the API
    addresses by id, so that generated ids also reach real rows."""
    responder = UserFactory(username="rita", groups=["Responders"])
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    manager = UserFactory(
        username="mia", groups=["Incident managers", "Responders", "Reviewers"]
    )
    IncidentTypeFactory(slug="web-outage")
    open_one = services.incident_declare(actor=responder, title="Checkout is slow")
    services.action_create(incident=open_one, actor=responder, title="Roll back")
    services.incident_declare(actor=admin, title="Payroll file leaked", restricted=True)
    resolved = _resolved(manager, "Warehouse scanners offline")
    review = Review.objects.get(incident=resolved)
    review_services.follow_up_add(review=review, actor=manager, title="Add alerts")
    integration = IntegrationFactory()
    REAL_IDS.update(
        {
            "/api/v1/incidents/": [open_one.pk, resolved.pk],
            "/api/v1/actions/": list(ActionItem.objects.values_list("pk", flat=True)),
            "/api/v1/reviews/": [review.pk],
            "/api/v1/review-follow-ups/": list(
                FollowUp.objects.values_list("pk", flat=True)
            ),
            "/api/v1/integrations/": [integration.pk],
        }
    )
    return {
        "responder": Token.objects.create(user=responder).key,
        "administrator": Token.objects.create(user=admin).key,
    }


REAL_IDS: dict[str, list[int]] = {}


def _aim_at_real_rows(case, n: int) -> None:
    """Every other case addresses an existing row instead of a random id."""
    if n % 2 or not case.path_parameters:
        return
    for prefix, ids in REAL_IDS.items():
        if case.operation.path.startswith(prefix) and ids:
            for name in ("id", "pk"):
                if name in case.path_parameters:
                    case.path_parameters[name] = ids[n // 2 % len(ids)]
            return


def _label(operation) -> str:
    return f"{operation.method.upper()} {operation.path}"


@pytest.mark.parametrize("role", ["responder", "administrator"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=_label)
def test_generated_requests_get_no_500_and_match_the_schema(people, role, operation):
    token = people[role]
    failures = []
    calls = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        _aim_at_real_rows(case, len(calls))
        calls.append(1)
        headers = {"Authorization": f"Token {token}"}
        if case.headers and "Authorization" in case.headers:
            headers = {}  # the bearer-secret intake: its own header
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except Exception as failure:  # noqa: BLE001 - collected, reported below
            failures.append(f"{failure}"[:1500])

    run()
    assert len(calls) >= min(EXAMPLES, 1)
    assert not failures, "\n\n".join(failures[:5])
