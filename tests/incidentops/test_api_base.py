"""The API base every list shares: pagination and the one error body."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client):
    client.force_login(UserFactory(groups=["Responders"]))
    return client


@pytest.mark.parametrize(
    "path", ["/api/v1/severity-levels/", "/api/v1/reviews/", "/api/v1/incidents/"]
)
@pytest.mark.parametrize("size", ["0", "-3", "ten"])
def test_a_bad_page_size_is_a_400_on_every_list(api, path, size):
    response = api.get(path, {"page_size": size})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "page_size" in body["errors"]


def test_page_size_is_capped_at_1000_and_pages_are_counted(api):
    response = api.get("/api/v1/severity-levels/", {"page_size": "5000"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == len(body["results"]) == 4


def test_anonymous_requests_get_the_error_body(client):
    response = client.get("/api/v1/incidents/")

    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}
