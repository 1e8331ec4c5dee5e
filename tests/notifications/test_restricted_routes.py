"""A list (or channel) that may receive restricted content is opened or
changed only by people who may see restricted incidents of its types; every
change is recorded and announced to the types' restricted groups."""

import pytest
from django.core import mail

from incidentops import groups
from incidents import permissions
from notifications import services
from notifications.models import (
    Channel,
    Notification,
    StakeholderList,
    StakeholderMember,
)
from tests.factories import IncidentTypeFactory, UserFactory
from tests.notifications.factories import ChannelFactory, StakeholderListFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/notifications/stakeholderlist/add/"


@pytest.fixture
def breach(db):
    return IncidentTypeFactory(
        slug="personal-data-breach",
        name="Personal-data breach",
        restricted_by_default=True,
        restricted_groups=[groups.EXECUTIVES],
    )


@pytest.fixture
def cora(db):
    """A configurator: may edit lists, may not see restricted incidents."""
    return UserFactory(
        username="cora",
        email="cora@example.com",
        is_staff=True,
        groups=[groups.CONFIGURATORS],
    )


@pytest.fixture
def eve(db):
    """A configurator who is also an executive (a breach's restricted group)."""
    return UserFactory(
        username="eve",
        email="eve@example.com",
        is_staff=True,
        groups=[groups.CONFIGURATORS, groups.EXECUTIVES],
    )


def list_form(stakeholder_list=None, *, members=(), **fields):
    """The admin change form's POST data for a list and its member rows."""
    data = {
        "slug": "csirt",
        "name": "CSIRT",
        "description": "",
        "is_active": "on",
        "members-TOTAL_FORMS": str(len(members) + 1),
        "members-INITIAL_FORMS": "0",
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    existing = list(stakeholder_list.members.all()) if stakeholder_list else []
    if stakeholder_list is not None:
        data.update(slug=stakeholder_list.slug, name=stakeholder_list.name)
        if stakeholder_list.may_receive_restricted:
            data["may_receive_restricted"] = "on"
        data["incident_types"] = [t.pk for t in stakeholder_list.incident_types.all()]
        data["members-INITIAL_FORMS"] = str(len(existing))
        data["members-TOTAL_FORMS"] = str(len(existing) + len(members) + 1)
    for index, member in enumerate(existing):
        data[f"members-{index}-id"] = member.pk
        data[f"members-{index}-stakeholder_list"] = stakeholder_list.pk
        data[f"members-{index}-email"] = member.email
        data[f"members-{index}-name"] = member.name
    for index, email in enumerate(members, start=len(existing)):
        data[f"members-{index}-email"] = email
    data.update(fields)
    return data


def test_the_right_to_route_follows_the_types_restricted_groups(breach, cora, eve):
    assert not permissions.may_see_restricted_of_types(cora, [breach])
    assert permissions.may_see_restricted_of_types(eve, [breach])
    # a type that names no group and is not restricted gives nobody the right
    plain = IncidentTypeFactory()
    assert not permissions.may_see_restricted_of_types(eve, [plain])
    superuser = UserFactory(is_superuser=True)
    assert permissions.may_see_restricted_of_types(superuser, [plain])


def test_a_configurator_cannot_opt_a_list_in(client, breach, cora):
    client.force_login(cora)

    response = client.post(
        ADD,
        list_form(
            may_receive_restricted="on",
            incident_types=[breach.pk],
            members=["cora.private@example.com"],
        ),
    )

    assert response.status_code == 200  # the form again, with the refusal
    assert "Only people who may see restricted incidents" in response.content.decode()
    assert not StakeholderList.objects.exists()


def test_a_configurator_cannot_add_herself_to_an_opted_in_list(client, breach, cora):
    csirt = StakeholderListFactory(
        slug="csirt",
        name="CSIRT",
        may_receive_restricted=True,
        incident_types=[breach],
        emails=["csirt@example.com"],
    )
    client.force_login(cora)

    response = client.post(
        f"/admin/notifications/stakeholderlist/{csirt.pk}/change/",
        list_form(csirt, members=["cora.private@example.com"]),
    )

    assert response.status_code == 200
    assert "Only people who may see restricted incidents" in response.content.decode()
    assert list(csirt.members.values_list("email", flat=True)) == ["csirt@example.com"]


def test_a_configurator_may_still_edit_ordinary_lists(client, breach, cora):
    client.force_login(cora)

    response = client.post(ADD, list_form(members=["ops@example.com"]))

    assert response.status_code == 302
    assert StakeholderMember.objects.get().email == "ops@example.com"


def test_an_entitled_person_opts_in_recorded_and_announced(
    client, breach, eve, memory_broker, django_capture_on_commit_callbacks
):
    rhea = UserFactory(email="rhea@example.com", groups=[groups.EXECUTIVES])
    client.force_login(eve)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            ADD,
            list_form(
                may_receive_restricted="on",
                incident_types=[breach.pk],
                members=["dpo@example.com"],
            ),
        )

    assert response.status_code == 302
    csirt = StakeholderList.objects.get()
    assert csirt.may_receive_restricted
    assert csirt.history.first().history_user == eve
    assert StakeholderMember.history.first().history_user == eve
    # the announcement is an outbox message about no incident, one delivery per
    # person of the type's restricted groups, handed to the workers after commit
    announcement = Notification.objects.get(kind="restricted_route_changed")
    assert announcement.incident is None
    assert list(announcement.about_types.all()) == [breach]
    assert announcement.actor == eve
    deliveries = announcement.deliveries.order_by("recipient")
    assert [(d.recipient, d.status) for d in deliveries] == [
        (eve.email, "pending"),
        (rhea.email, "pending"),
    ]
    assert sorted(args[0] for _, args in memory_broker()) == sorted(
        d.pk for d in deliveries
    )
    assert mail.outbox == []  # nothing left the process with the request

    outcomes = [services.delivery_send(delivery_id=d.pk) for d in deliveries]

    assert outcomes == ["sent", "sent"]
    assert sorted(m.to[0] for m in mail.outbox) == [eve.email, rhea.email]
    message = mail.outbox[0]
    assert "Restricted route changed: stakeholder list CSIRT" in message.subject
    assert "may now receive restricted incidents" in message.body
    assert "added dpo@example.com" in message.body
    assert f"/admin/notifications/stakeholderlist/{csirt.pk}/change/" in message.body


def test_a_channel_cannot_be_opted_in_by_a_configurator(client, breach, cora):
    client.force_login(cora)

    response = client.post(
        "/admin/notifications/channel/add/",
        {
            "name": "my-hook",
            "kind": Channel.Kind.WEBHOOK,
            "is_enabled": "on",
            "target": "https://example.com/hook",
            "events": ["incident_changed"],  # ticked
            "may_receive_restricted": "on",
        },
    )

    assert response.status_code == 200
    assert "Only people who may see restricted incidents" in response.content.decode()
    assert not Channel.objects.filter(name="my-hook").exists()


def test_re_pointing_a_channel_of_an_opted_in_list_needs_the_right(
    client, breach, cora
):
    hook = ChannelFactory(
        name="csirt-hook", webhook=True, target="https://csirt.example.com/hook"
    )
    StakeholderListFactory(
        may_receive_restricted=True, incident_types=[breach], channels=[hook]
    )
    client.force_login(cora)

    response = client.post(
        f"/admin/notifications/channel/{hook.pk}/change/",
        {
            "name": "csirt-hook",
            "kind": Channel.Kind.WEBHOOK,
            "is_enabled": "on",
            "target": "https://cora.example.net/steal",
        },
    )

    assert response.status_code == 200
    hook.refresh_from_db()
    assert hook.target == "https://csirt.example.com/hook"
