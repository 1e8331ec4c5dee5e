"""Who sees a batch review is one rule (``BatchReview.objects.visible_to``),
the same in the permissions, the portal list and the admin; and the list counts
only the incidents the viewer may see."""

from datetime import timedelta

import pytest
from django.test import Client

from incidentops import groups
from incidents import services as incident_services
from reviews import permissions
from reviews.models import BatchReview
from reviews.views import visible_batches
from tests.factories import UserFactory
from tests.reviews.conftest import WEDNESDAY

pytestmark = pytest.mark.django_db


def login(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ownerless_restricted_batch(resolve, manager):
    """A SEV-3 batch without an owner group, holding only a restricted incident."""
    incident = resolve("SEV-3", title="Badge reader logged the wrong door")
    incident_services.incident_update(incident=incident, actor=manager, restricted=True)
    batch = incident.batch_review_item.batch
    batch.owner_group = None
    batch.save(update_fields=["owner_group"])
    return batch


def where_visible(user, batch) -> dict[str, bool]:
    staff_user = user
    staff_user.is_staff = True
    staff_user.save(update_fields=["is_staff"])
    admin_page = login(staff_user).get("/admin/reviews/batchreview/")
    return {
        "permissions": permissions.can_view_batch(user, batch),
        "portal": visible_batches(user).filter(pk=batch.pk).exists(),
        "admin": admin_page.status_code == 200
        and f"/admin/reviews/batchreview/{batch.pk}/change/"
        in admin_page.content.decode(),
    }


def test_without_an_owner_group_batch_reviewers_see_it_everywhere(
    ownerless_restricted_batch,
):
    # given: a reviewer holds change_batchreview but may not see the incident
    rob = UserFactory(username="rob", groups=[groups.REVIEWERS])
    # then
    assert (
        BatchReview.objects.visible_to(rob)
        .filter(pk=ownerless_restricted_batch.pk)
        .exists()
    )
    assert where_visible(rob, ownerless_restricted_batch) == {
        "permissions": True,
        "portal": True,
        "admin": True,
    }


def test_someone_without_the_permission_sees_it_nowhere(ownerless_restricted_batch):
    eve = UserFactory(username="eve", groups=[groups.EXECUTIVES])
    assert where_visible(eve, ownerless_restricted_batch) == {
        "permissions": False,
        "portal": False,
        "admin": False,
    }


def test_anonymous_and_inactive_users_see_no_batch(ownerless_restricted_batch):
    from django.contrib.auth.models import AnonymousUser

    gone = UserFactory(username="gone", groups=[groups.REVIEWERS], is_active=False)
    assert not BatchReview.objects.visible_to(AnonymousUser()).exists()
    assert not BatchReview.objects.visible_to(gone).exists()


def test_the_list_counts_only_the_incidents_the_viewer_may_see(resolve, manager):
    # given: a batch of two incidents, the second restricted
    resolve("SEV-3", title="Nightly export ran two hours late")
    second = resolve(
        "SEV-3", at=WEDNESDAY + timedelta(days=1), title="Badge reader wrong door"
    )
    incident_services.incident_update(incident=second, actor=manager, restricted=True)
    # an incident manager (the owner group) with no grant on the restricted one,
    # and a responder who sees the batch through its unrestricted incident
    ivan = UserFactory(username="ivan", groups=[groups.INCIDENT_MANAGERS])
    outsider = UserFactory(username="olly", groups=[groups.RESPONDERS])
    # when
    pages = {
        user.username: login(user).get("/reviews/batches/").content.decode()
        for user in (ivan, outsider, manager)
    }
    # then
    for name in ("ivan", "olly"):
        assert "(1 undecided)" in pages[name] and "2 undecided" not in pages[name]
    assert "(2 undecided)" in pages["mia"]
