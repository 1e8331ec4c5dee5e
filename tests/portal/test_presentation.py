"""Presentation details: names not slugs, one time-zone label, one breadcrumb
separator, aligned board columns, the favicon, the timeline's order."""

import re
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from incidents import services, views
from incidents.models import Incident, TimelineEntry
from tests.factories import IncidentTypeFactory

CSS = (Path(settings.BASE_DIR) / "static" / "css" / "app.css").read_text()


def css_rule(selector: str) -> str:
    match = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", CSS)
    assert match, selector
    return match.group(1)


def test_the_suggestion_says_the_types_name_not_its_slug(client, responder, manager):
    IncidentTypeFactory(
        slug="customer-facing-outage",
        name="Customer-facing service outage",
        keywords="checkout, 502",
    )
    incident = services.incident_declare(
        actor=responder, title="Checkout returns 502 for everyone"
    )
    client.force_login(manager)

    page = client.get(incident.get_absolute_url()).content.decode()
    live = client.post(
        "/incidents/suggest/", {"title": "Checkout returns 502 for everyone"}
    ).content.decode()

    for html in (page, live):
        assert "customer-facing-outage" not in html.replace(
            'value="customer-facing-outage"', ""
        )
        assert "Customer-facing service outage" in html


def test_the_update_template_names_the_organisations_zone(manager, ready):
    body = views._stakeholder_template(ready, now=timezone.now())

    zone = settings.INCIDENTOPS_TIME_ZONE
    assert f"({zone} time)" in body
    assert "GMT" not in body and "BST" not in body


def test_the_footer_names_the_same_zone(client, responder):
    client.force_login(responder)

    html = client.get("/").content.decode()

    assert f"times shown in {settings.INCIDENTOPS_TIME_ZONE} time" in html


def test_breadcrumbs_use_one_separator_everywhere():
    # The reviews pages write "›" between crumbs; the portal's list draws it.
    assert 'content: "›"' in css_rule(".breadcrumbs li + li::before")


def test_board_groups_share_fixed_column_widths(client, manager, ready):
    services.incident_transition(incident=ready, actor=manager, status="investigating")
    services.incident_declare(actor=manager, title="Second incident in triage")
    client.force_login(manager)

    html = client.get("/").content.decode()

    tables = re.findall(r'<table class="stack board-table">.*?</colgroup>', html, re.S)
    assert len(tables) == 2  # the triage group and the SEV-2 group
    assert tables[0] == tables[1]
    assert "table-layout: fixed" in css_rule(".board-table")
    widths = re.findall(r"\.board-table \.col-[a-z]+ \{\s*width: (\d+)%;", CSS)
    assert len(widths) == 8 and sum(int(w) for w in widths) == 100


def test_the_roles_form_stacks_its_selects(client, manager, ready):
    # Side by side in the narrow Roles panel, "Communications lead" was cut off.
    client.force_login(manager)

    html = client.get(ready.get_absolute_url()).content.decode()

    form = re.search(
        r'<form[^>]*incidents/[^"]+/roles/" class="mt">.*?</form>', html, re.S
    )
    assert form
    assert "inline-form" not in form.group(0)
    assert 'id="id_role_role"' in form.group(0)


def test_favicon_ico_redirects_to_the_static_svg(client, db):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith("favicon.svg")
    assert response["Location"].startswith(settings.STATIC_URL)


def test_the_portal_timeline_is_in_time_order_with_sequence_and_recorded_at(
    client, manager, incident
):
    # An alert's start is recorded after the entries of the declaration but
    # happened before them.
    started = incident.created_at - timedelta(minutes=30)
    services.timeline_record(
        incident=incident,
        kind=TimelineEntry.Kind.ALERT,
        summary="HighErrorRate firing",
        occurred_at=started,
    )
    same_time = services.incident_add_note(
        incident=incident, actor=manager, body="Tie one", now=started
    )
    client.force_login(manager)

    html = client.get(incident.get_absolute_url()).content.decode()

    sequences = [int(s) for s in re.findall(r'data-sequence="(\d+)"', html)]
    # newest first by occurred_at; the two at the alert's time by sequence
    assert sequences == [2, 1, same_time.sequence, same_time.sequence - 1]
    assert f"#{same_time.sequence}" in html
    assert "recorded" in html


def test_the_incident_page_names_only_similar_incidents_the_viewer_may_see(
    client, responder
):
    # given a rationale naming two similar incidents, one restricted since
    from tests.factories import IncidentFactory

    open_one = IncidentFactory(title="Checkout outage last spring")
    hidden = IncidentFactory(title="Hidden outage", restricted=True)
    incident = services.incident_declare(actor=responder, title="Checkout down")
    Incident.objects.filter(pk=incident.pk).update(
        suggestion={
            "rationale": "customer-facing outage; similar past incidents: "
            f"{open_one.reference}, {hidden.reference}."
        }
    )
    client.force_login(responder)

    # when
    page = client.get(incident.get_absolute_url()).content.decode()

    # then
    assert open_one.reference in page
    assert hidden.reference not in page
