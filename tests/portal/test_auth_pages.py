"""The login, logout and password change pages of django.contrib.auth.urls."""

import pytest

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_has_username_and_password_fields(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html


def test_logging_in_lands_on_the_board(client):
    UserFactory(username="lena")

    response = client.post(
        "/accounts/login/", {"username": "lena", "password": "pass-word-123"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_logout_is_a_post_form_and_logs_out(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_page_renders_for_a_logged_in_user(client):
    client.force_login(UserFactory())

    response = client.get("/accounts/password_change/")

    assert response.status_code == 200
    assert 'name="new_password1"' in response.content.decode()
