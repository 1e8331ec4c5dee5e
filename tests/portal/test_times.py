"""The portal's impact start on the declare form and its correct-times control."""

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from incidents.models import Incident, TimelineEntry

pytestmark = pytest.mark.django_db


def test_declaring_with_an_impact_start_in_the_organisations_zone(client, responder):
    client.force_login(responder)
    local = timezone.localtime(
        timezone.now() - timedelta(hours=2), ZoneInfo(settings.INCIDENTOPS_TIME_ZONE)
    ).replace(second=0, microsecond=0)

    response = client.post(
        "/incidents/new/",
        {
            "title": "Warehouse scanners offline",
            "impact_started_at": local.strftime("%Y-%m-%dT%H:%M"),
        },
    )

    assert response.status_code == 302
    incident = Incident.objects.get(title="Warehouse scanners offline")
    assert incident.impact_started_at == local.astimezone(UTC)
    assert incident.detected_at > incident.impact_started_at


def test_the_commander_corrects_times_from_the_page(client, manager, commanded):
    client.force_login(manager)
    page = client.get(commanded.get_absolute_url())
    assert b"Correct times" in page.content
    zone = ZoneInfo(settings.INCIDENTOPS_TIME_ZONE)
    earlier = timezone.localtime(commanded.detected_at, zone) - timedelta(minutes=30)

    response = client.post(
        f"/incidents/{commanded.reference}/times/",
        {
            "impact_started_at": earlier.strftime("%Y-%m-%dT%H:%M"),
            "detected_at": timezone.localtime(commanded.detected_at, zone).strftime(
                "%Y-%m-%dT%H:%M"
            ),
            "reason": "The first customer report was at that time",
        },
    )

    assert response.status_code == 302
    commanded.refresh_from_db()
    assert commanded.impact_started_at == earlier.replace(second=0, microsecond=0)
    # the unchanged detection time kept its seconds
    entry = TimelineEntry.objects.filter(incident=commanded).order_by("sequence").last()
    assert set(entry.data["changes"]) == {"impact_started_at"}


def test_a_refused_correction_shows_the_reason(client, manager, commanded):
    client.force_login(manager)
    later = timezone.now() + timedelta(days=1)

    response = client.post(
        f"/incidents/{commanded.reference}/times/",
        {"impact_started_at": later.strftime("%Y-%m-%dT%H:%M"), "reason": "typo"},
    )

    assert response.status_code == 200
    assert b"cannot be in the future" in response.content


def test_people_who_do_not_run_it_see_no_control(client, outsider, incident):
    client.force_login(outsider)
    page = client.get(incident.get_absolute_url())
    assert page.status_code == 200
    assert b"Correct times" not in page.content
    response = client.post(
        f"/incidents/{incident.reference}/times/",
        {"detected_at": "2020-01-01T00:00", "reason": "x"},
    )
    assert response.status_code == 200
    assert b"You may not correct" in response.content
