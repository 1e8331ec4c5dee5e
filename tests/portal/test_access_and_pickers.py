"""Who is offered "Declare", who appears in person pickers, and what an empty
board says to someone who may see no incidents."""

import re

import pytest

from incidentops import groups
from incidents import services
from tests.factories import UserFactory, role

NON_DECLARERS = [
    ("rob", groups.REVIEWERS),
    ("eve", groups.EXECUTIVES),
    ("cora", groups.CONFIGURATORS),
]


@pytest.mark.parametrize(("username", "group"), NON_DECLARERS)
def test_who_may_not_declare_is_not_offered_the_button(client, db, username, group):
    client.force_login(UserFactory(username=username, groups=[group]))

    html = client.get("/").content.decode()

    assert 'href="/incidents/new/"' not in html
    assert "Declare incident" not in html


@pytest.mark.parametrize(("username", "group"), NON_DECLARERS)
def test_who_may_not_declare_gets_a_clear_403_page(client, db, username, group):
    client.force_login(UserFactory(username=username, groups=[group]))

    response = client.get("/incidents/new/")

    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not declare incidents" in html
    assert 'name="title"' not in html


def test_a_responder_is_offered_the_button_and_the_form(client, responder):
    client.force_login(responder)

    assert 'href="/incidents/new/"' in client.get("/").content.decode()
    response = client.get("/incidents/new/")
    assert response.status_code == 200
    assert 'name="title"' in response.content.decode()


# --- person pickers ------------------------------------------------------------


@pytest.fixture
def people(db):
    return {
        "carl": UserFactory(
            username="carl",
            first_name="Carl",
            last_name="Comms",
            groups=[groups.RESPONDERS],
        ),
        "bot": UserFactory(username="alertmanager-bot", service_account=True),
        "gone": UserFactory(username="gone", is_active=False),
    }


def options(html: str, select_pattern: str) -> list[str]:
    select = re.search(rf"<select[^>]*{select_pattern}.*?</select>", html, re.S)
    assert select, select_pattern
    return re.findall(r"<option[^>]*>([^<]*)</option>", select.group(0))


def test_pickers_leave_out_service_accounts_and_inactive_users(
    client, manager, ready, people
):
    services.action_create(incident=ready, actor=manager, title="Call the bank")
    client.force_login(manager)

    html = client.get(ready.get_absolute_url()).content.decode()

    for pattern in (
        'id="id_role_user"',
        'id="id_action_owner"',
        'id="owner-\\d+"',
    ):
        labels = " ".join(options(html, pattern))
        assert "alertmanager-bot" not in labels, pattern
        assert "gone" not in labels, pattern
        assert "Carl Comms (carl)" in labels, pattern


def test_inline_and_new_action_lists_show_the_same_full_names(
    client, manager, ready, people
):
    services.action_create(incident=ready, actor=manager, title="Call the bank")
    client.force_login(manager)

    html = client.get(ready.get_absolute_url()).content.decode()

    new_list = [o for o in options(html, 'id="id_action_owner"') if o != "Unassigned"]
    inline = [o for o in options(html, 'id="owner-\\d+"') if o != "Unassigned"]
    assert inline == new_list
    assert "Carl Comms (carl)" in inline


def test_the_service_still_refuses_a_service_account_as_commander(
    manager, incident, people
):
    from incidentops.exceptions import DomainError

    with pytest.raises(DomainError, match="must be a person"):
        services.incident_assign_role(
            incident=incident,
            actor=manager,
            role=role("commander"),
            user=people["bot"],
        )


# --- the empty board -------------------------------------------------------------


def test_an_empty_board_for_someone_who_may_see_nothing_says_why(client, incident):
    cora = UserFactory(username="cora", groups=[groups.CONFIGURATORS])
    client.force_login(cora)

    html = client.get("/").content.decode()

    assert "You have no incidents to see." in html
    assert "visible to responders, incident managers" in html
    assert "No active incidents." not in html
    assert incident.title not in html
    assert "0 active incidents you may see" in html


def test_an_empty_board_for_a_responder_is_the_normal_empty_state(client, responder):
    client.force_login(responder)

    html = client.get("/").content.decode()

    assert "No active incidents." in html
    assert "You have no incidents to see." not in html
