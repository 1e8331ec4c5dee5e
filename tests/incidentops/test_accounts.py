from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token

from incidentops.models import User
from tests.factories import UserFactory


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_people_are_human_and_service_accounts_are_not():
    person = UserFactory()
    bot = UserFactory(service_account=True)
    gone = UserFactory(is_active=False)

    assert person.is_human
    assert not bot.is_human
    assert not gone.is_human


@pytest.mark.django_db
def test_user_history_records_service_account_changes():
    user = UserFactory()
    user.is_service_account = True
    user.save()

    assert [h.is_service_account for h in user.history.order_by("history_id")] == [
        False,
        True,
    ]


@pytest.mark.django_db
def test_create_user_prints_a_working_token(client):
    line = run("create_user", "ci-bot", "--service-account", "--groups", "Responders")

    token = line.strip()
    assert "\n" not in token and len(token) == 40
    user = User.objects.get(username="ci-bot")
    assert user.is_service_account
    assert list(user.groups.values_list("name", flat=True)) == ["Responders"]
    assert Token.objects.get(user=user).key == token


@pytest.mark.django_db
def test_create_user_is_idempotent_and_updates():
    first = run("create_user", "nina", "--email", "nina@example.com").strip()
    second = run(
        "create_user",
        "nina",
        "--groups",
        "Responders,Reviewers",
        "--password",
        "s3cret-pw",
    ).strip()

    assert first == second
    nina = User.objects.get(username="nina")
    assert User.objects.filter(username="nina").count() == 1
    assert nina.email == "nina@example.com"
    assert nina.check_password("s3cret-pw")
    assert sorted(nina.groups.values_list("name", flat=True)) == [
        "Responders",
        "Reviewers",
    ]


@pytest.mark.django_db
def test_create_user_refuses_unknown_groups_and_stores_nothing():
    with pytest.raises(CommandError, match="Unknown group"):
        run("create_user", "zed", "--groups", "Responders,Wizards")

    assert not User.objects.filter(username="zed").exists()


@pytest.mark.django_db
def test_groups_exist_after_migrations():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "Responders",
        "Incident managers",
        "Reviewers",
        "Executives",
        "Configurators",
    }


@pytest.mark.django_db
def test_create_token_rotates_the_token():
    old = run("create_user", "ops").strip()

    new = run("create_token", "ops").strip()

    assert new != old and len(new) == 40
    assert list(
        Token.objects.filter(user__username="ops").values_list("key", flat=True)
    ) == [new]


@pytest.mark.django_db
def test_create_token_for_unknown_user_fails_clearly():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run("create_token", "ghost")


@pytest.mark.django_db
def test_admin_shows_and_edits_the_service_account_flag(admin_client):
    user = UserFactory(username="integration")

    page = admin_client.get(f"/admin/incidentops/user/{user.pk}/change/")

    assert page.status_code == 200
    assert 'name="is_service_account"' in page.content.decode()
    listing = admin_client.get("/admin/incidentops/user/?is_service_account__exact=0")
    assert listing.status_code == 200


@pytest.fixture
def sitting_commander(db):
    from incidentops import groups
    from incidents import services
    from tests.factories import role

    commander = UserFactory(
        username="cmdr", groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS]
    )
    incident = services.incident_declare(actor=commander, title="Checkout down")
    services.incident_assign_role(
        incident=incident, actor=commander, role=role("commander"), user=commander
    )
    return commander, incident


def test_create_user_refuses_to_make_a_sitting_commander_a_service_account(
    sitting_commander,
):
    commander, incident = sitting_commander

    with pytest.raises(
        CommandError, match=f"hand over command of {incident.reference}"
    ):
        run("create_user", "cmdr", "--service-account", "--email", "x@example.com")

    commander.refresh_from_db()
    assert commander.is_human
    assert commander.email != "x@example.com"


def test_admin_refuses_to_make_a_sitting_commander_non_human(
    admin_client, sitting_commander
):
    commander, incident = sitting_commander
    page = admin_client.get(f"/admin/incidentops/user/{commander.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in ("groups", "user_permissions", "password")
    }
    data.update(
        {
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "is_active": "",
            "is_service_account": "on",
            "groups": [g.pk for g in commander.groups.all()],
        }
    )
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data = {k: v for k, v in data.items() if v is not False}

    response = admin_client.post(
        f"/admin/incidentops/user/{commander.pk}/change/", data, follow=True
    )

    assert f"hand over command of {incident.reference}" in response.content.decode()
    commander.refresh_from_db()
    assert commander.is_human


def test_a_human_without_roles_can_become_a_service_account(db):
    UserFactory(username="plain")

    run("create_user", "plain", "--service-account")

    assert User.objects.get(username="plain").is_service_account
