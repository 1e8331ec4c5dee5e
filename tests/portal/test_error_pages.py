"""404 and 500 pages in the house style, each with a way back."""

import pytest
from django.views.defaults import server_error

pytestmark = pytest.mark.django_db


def test_a_missing_incident_shows_a_404_page_with_ways_back(client, manager):
    client.force_login(manager)

    response = client.get("/incidents/INC-1999-0001/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in page
    assert 'href="/"' in page and "Go to the status board" in page
    assert 'href="/my/"' in page
    assert 'class="site-header"' in page  # the portal's layout


def test_a_restricted_incident_is_the_same_404_page(client, outsider, secret_incident):
    client.force_login(outsider)

    page = client.get(secret_incident.get_absolute_url()).content.decode()

    assert "Page not found" in page
    assert secret_incident.title not in page


def test_the_500_page_renders_without_a_request_context(rf):
    response = server_error(rf.get("/incidents/INC-2026-0001/"))

    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert "Go to the status board" in page
    assert "app.css" in page
