"""The helpers every app's services share: diff-set-record, save with the
acting person, an actor's name."""

import pytest

from incidentops.services import actor_label, model_update, save_as
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_model_update_sets_what_differs_and_says_what_changed():
    user = UserFactory(username="nina", first_name="Nina", last_name="Old")

    changes = model_update(
        user, {"first_name": "Nina", "last_name": "New"}, shown=str.upper
    )

    assert changes == {"last_name": {"from": "OLD", "to": "NEW"}}
    assert user.last_name == "New"
    user.refresh_from_db()
    assert user.last_name == "Old"  # nothing saved


def test_save_as_records_the_acting_person_and_actor_label_names_them():
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    user = UserFactory(username="nina")
    user.email = "nina@corp.example"

    save_as(user, admin)

    assert user.history.first().history_user == admin
    assert actor_label(admin) == "Ada Admin"
    assert actor_label(None) == "IncidentOps"
