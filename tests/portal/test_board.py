"""The status board: grouping, filters, the live partial, a flat query count."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents import services
from incidents.views import board_incidents
from tests.factories import (
    ActionItemFactory,
    IncidentFactory,
    IncidentTypeFactory,
    role,
    severity,
)

pytestmark = pytest.mark.django_db


def _group_order(html: str, *markers: str) -> list[int]:
    return [html.index(marker) for marker in markers]


def test_triage_comes_first_then_the_most_severe(client, manager):
    IncidentFactory(
        title="Minor glitch", severity=severity("SEV-4"), status="investigating"
    )
    IncidentFactory(
        title="Total outage", severity=severity("SEV-1"), status="investigating"
    )
    IncidentFactory(title="Just reported")
    client.force_login(manager)

    html = client.get("/").content.decode()

    first, second, third = _group_order(
        html, "Just reported", "Total outage", "Minor glitch"
    )
    assert first < second < third
    assert "Unconfirmed — in triage" in html
    assert "SEV-1 Critical" in html  # text, not colour alone


def test_resolved_and_closed_incidents_are_not_on_the_board(client, manager):
    IncidentFactory(title="Long gone", resolved=True)
    IncidentFactory(title="Still burning", confirmed=True, status="investigating")
    client.force_login(manager)

    html = client.get("/").content.decode()

    assert "Still burning" in html
    assert "Long gone" not in html


def test_an_empty_board_says_what_to_do(client, manager):
    client.force_login(manager)

    html = client.get("/").content.decode()

    assert "No active incidents." in html
    assert 'href="/incidents/new/"' in html


def test_the_board_polls_a_partial_every_five_seconds(client, manager, incident):
    client.force_login(manager)

    page = client.get("/").content.decode()
    live = client.get("/", headers={"X-Live-Poll": "1"}).content.decode()

    assert 'data-live-interval="5000"' in page
    assert 'data-testid="live-status"' in page
    assert "<html" not in live
    assert incident.title in live


@pytest.mark.parametrize(
    "params, shown, hidden",
    [
        ({"severity": "SEV-1"}, "Total outage", "Warehouse slow"),
        ({"severity": "unconfirmed"}, "Fresh report", "Total outage"),
        ({"status": "mitigated"}, "Warehouse slow", "Total outage"),
        ({"incident_type": "supply"}, "Warehouse slow", "Fresh report"),
        ({"q": "outage"}, "Total outage", "Warehouse slow"),
    ],
)
def test_the_board_filters(client, manager, params, shown, hidden):
    supply = IncidentTypeFactory(slug="supply", name="Supply chain")
    IncidentFactory(
        title="Total outage", severity=severity("SEV-1"), status="investigating"
    )
    IncidentFactory(
        title="Warehouse slow",
        severity=severity("SEV-3"),
        status="mitigated",
        incident_type=supply,
    )
    IncidentFactory(title="Fresh report")
    client.force_login(manager)

    html = client.get("/", params).content.decode()

    assert shown in html
    assert hidden not in html


def test_mine_means_a_role_an_action_or_the_report(client, responder, manager):
    services.incident_declare(actor=responder, title="I reported this")
    commanded = services.incident_declare(actor=manager, title="I command this")
    services.incident_assign_role(
        incident=commanded, actor=manager, role=role("commander"), user=responder
    )
    owned = IncidentFactory(title="I own an action here", reporter=manager)
    ActionItemFactory(incident=owned, owner=responder)
    IncidentFactory(title="Not mine at all", reporter=manager)
    client.force_login(responder)

    html = client.get("/", {"mine": "on"}).content.decode()

    for title in ("I reported this", "I command this", "I own an action here"):
        assert title in html
    assert "Not mine at all" not in html


def test_a_row_shows_open_actions_commander_and_an_overdue_update(
    client, manager, ready
):
    ActionItemFactory(incident=ready, title="a")
    ActionItemFactory(incident=ready, title="b", status="done")
    # The SEV-2 cadence has passed since confirmation and nobody posted.
    level = ready.severity
    level.update_cadence = timedelta(minutes=30)
    level.save()
    ready.severity_confirmed_at = timezone.now() - timedelta(hours=1)
    ready.save()
    client.force_login(manager)

    html = client.get("/").content.decode()

    row = html[html.index(f'data-reference="{ready.reference}"') :]
    row = row[: row.index("</tr>")]
    assert '<td data-label="Open actions" class="num">1</td>' in row
    assert manager.get_full_name() in row
    assert "Update overdue" in row


def test_the_regulatory_deadline_counts_down(client, manager, secret_incident):
    client.force_login(manager)

    html = client.get("/").content.decode()

    assert "data-countdown" in html
    assert "h" in html and "left" in html


def test_the_board_due_time_matches_the_incident_rule(manager, ready):
    level = ready.severity
    level.update_cadence = timedelta(minutes=30)
    level.save()
    services.stakeholder_update_post(incident=ready, actor=manager, body="First")

    row = board_incidents(manager).get(pk=ready.pk)

    # the row reads the annotated time; the incident on its own asks the database
    assert row.last_update_at is not None
    assert row.next_update_due_at() == ready.next_update_due_at()


def _make(count: int) -> None:
    for n in range(count):
        incident = IncidentFactory(
            title=f"Load {n}",
            severity=severity(f"SEV-{n % 4 + 1}"),
            status="investigating",
            incident_type=IncidentTypeFactory(slug=f"t{n % 3}", gdpr=True),
        )
        ActionItemFactory(incident=incident)


@pytest.mark.parametrize("count", [3, 30])
def test_the_board_query_count_stays_flat(
    client, manager, count, django_assert_max_num_queries
):
    _make(count)
    client.force_login(manager)
    client.get("/")  # warm the session and content types

    with django_assert_max_num_queries(8):
        response = client.get("/")

    assert response.content.decode().count("data-reference=") == count


def test_a_confirmed_incident_still_in_triage_is_grouped_by_its_severity(
    client, manager
):
    IncidentFactory(title="Confirmed but not started", severity=severity("SEV-1"))
    IncidentFactory(title="Just reported")
    client.force_login(manager)

    html = client.get("/").content.decode()

    sev1 = html.index('id="group-sev-1"')
    triage = html.index('id="group-triage"')
    assert triage < html.index("Just reported") < sev1
    assert sev1 < html.index("Confirmed but not started")
