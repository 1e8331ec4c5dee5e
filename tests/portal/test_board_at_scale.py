"""The board with thousands of active incidents (an alert storm): lower
severities collapse, so the page stays small and quick to render."""

import time

import pytest
from django.utils import timezone

from incidents.models import Incident
from tests.factories import UserFactory, severity

pytestmark = pytest.mark.django_db

ACTIVE = 3_000


@pytest.fixture
def storm(db):
    reporter = UserFactory(username="rita", groups=["Responders"])
    now = timezone.now()
    levels = [severity(code) for code in ("SEV-2", "SEV-3", "SEV-4")]
    rows = []
    for n in range(ACTIVE):
        level = levels[n % 3] if n % 10 else None  # a tenth still in triage
        rows.append(
            Incident(
                reference=f"INC-2026-{n + 1:05d}",
                title=f"Disk almost full on host-{n:05d}",
                status=Incident.Status.INVESTIGATING
                if level
                else Incident.Status.TRIAGE,
                severity=level,
                severity_confirmed_at=now if level else None,
                reporter=reporter,
                created_at=now,
                detected_at=now,
            )
        )
    # A bulk insert: a storm's rows, not its behaviour, are what this measures.
    Incident.objects.bulk_create(rows, batch_size=500)
    return reporter


def test_the_board_collapses_lower_severities_at_3000_active(client, storm):
    client.force_login(storm)

    started = time.perf_counter()
    response = client.get("/")
    elapsed = time.perf_counter() - started

    assert response.status_code == 200
    page = response.content.decode()
    assert f"{ACTIVE} active incidents" in page
    rows = page.count("<tr data-reference=")
    # triage 100, SEV-2 100, SEV-3 and SEV-4 25 each
    assert rows == 250, rows
    assert "more not shown" in page
    assert 'href="/?severity=SEV-4"' in page
    assert len(response.content) < 400_000, len(response.content)
    print(f"board at {ACTIVE} active: {len(response.content)} bytes, {elapsed:.2f} s")


def test_a_severity_filter_shows_more_of_that_group(client, storm):
    client.force_login(storm)

    page = client.get("/", {"severity": "SEV-4"}).content.decode()

    assert page.count("<tr data-reference=") == 500
