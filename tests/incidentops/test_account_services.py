"""Accounts and tokens are written by incidentops.services only: user_create and
token_issue, used by the commands, the admin and the demo seed."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from incidentops import admin as account_admin
from incidentops import groups, services
from incidentops.exceptions import DomainError
from incidentops.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_user_create_makes_a_person_with_password_groups_and_history():
    admin = UserFactory(username="ada", is_superuser=True)
    responders = Group.objects.get(name=groups.RESPONDERS)

    user = services.user_create(
        actor=admin,
        username=" nina ",
        email="nina@example.com",
        password="a-long-pass-phrase",
        groups=[responders],
    )

    assert user.username == "nina" and user.is_human
    assert user.check_password("a-long-pass-phrase")
    assert list(user.groups.all()) == [responders]
    assert user.history.get().history_user == admin


def test_a_service_account_without_password_signs_in_with_a_token_only():
    bot = services.user_create(actor=None, username="ci-bot", is_service_account=True)
    assert bot.is_service_account and not bot.has_usable_password()


def test_user_create_refuses_a_blank_or_taken_name_and_stores_nothing():
    UserFactory(username="nina")
    for name in ("", "  ", "nina"):
        with pytest.raises(DomainError):
            services.user_create(actor=None, username=name)
    assert User.objects.count() == 1


def test_token_issue_replaces_the_token_unless_asked_to_keep_it():
    user = UserFactory(username="ops")
    first = services.token_issue(user=user, actor=None, keep_existing=True)
    assert services.token_issue(user=user, actor=None, keep_existing=True) == first

    fresh = services.token_issue(user=user, actor=None)

    assert fresh.key != first.key
    assert list(Token.objects.filter(user=user)) == [fresh]


def test_no_fresh_token_for_a_deactivated_user():
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(DomainError):
        services.token_issue(user=gone, actor=None)
    assert not Token.objects.filter(user=gone).exists()


def test_the_admin_adds_a_user_through_user_create(admin_client, monkeypatch):
    calls = []

    def spy(**kwargs):
        calls.append(kwargs)
        return services.user_create(**kwargs)

    monkeypatch.setattr(account_admin, "user_create", spy)

    response = admin_client.post(
        "/admin/incidentops/user/add/",
        {
            "username": "pat",
            "usable_password": "true",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
            "email": "pat@example.com",
            "is_service_account": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    pat = User.objects.get(username="pat")
    assert pat.check_password("a-long-pass-phrase")
    assert pat.email == "pat@example.com"
    assert [call["username"] for call in calls] == ["pat"]
    assert response["Location"].endswith(f"/admin/incidentops/user/{pat.pk}/change/")
