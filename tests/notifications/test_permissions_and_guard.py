"""notifications.permissions answers who may resend a delivery and route
restricted content; a delivery is never sent inside an atomic block."""

import pytest
from django.core import mail
from django.db import transaction

from incidentops import groups
from incidentops.exceptions import NotPermitted
from notifications import permissions, services
from notifications.channels import SendInsideTransaction
from notifications.models import Delivery
from tests.factories import UserFactory
from tests.notifications.conftest import declare
from tests.notifications.factories import StakeholderListFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def failed_delivery(responder):
    StakeholderListFactory(triage=True, emails=["desk@example.com"])
    incident = declare(responder)
    delivery = incident.notifications.get().deliveries.get()
    Delivery.objects.filter(pk=delivery.pk).update(
        status="failed", attempts=5, last_error="SMTP 550 no"
    )
    delivery.refresh_from_db()
    return delivery


def test_someone_who_may_not_post_updates_may_not_resend(failed_delivery):
    # given an executive, who may see the incident but not post its updates
    eve = UserFactory(username="eve", groups=[groups.EXECUTIVES])
    assert not permissions.can_resend(eve, failed_delivery)

    # when / then
    with pytest.raises(NotPermitted):
        services.delivery_resend(delivery=failed_delivery, actor=eve)
    failed_delivery.refresh_from_db()
    assert (failed_delivery.status, failed_delivery.attempts) == ("failed", 5)


def test_a_responder_and_incidentops_itself_may_resend(failed_delivery, responder):
    assert permissions.can_resend(responder, failed_delivery)
    assert permissions.can_resend(None, failed_delivery)


def test_the_admins_resend_action_is_for_incident_managers(responder, manager):
    assert permissions.can_resend_deliveries(manager)
    assert not permissions.can_resend_deliveries(responder)
    manager.is_active = False
    assert not permissions.can_resend_deliveries(manager)


def test_routing_restricted_content_needs_the_right_to_see_it(responder, manager):
    # nobody in Responders may see restricted incidents of every type
    assert not permissions.can_route_restricted(responder, [])
    assert permissions.can_route_restricted(UserFactory(is_superuser=True), [])


def test_a_delivery_is_not_sent_inside_an_atomic_block(responder):
    # given a pending delivery
    StakeholderListFactory(triage=True, emails=["desk@example.com"])
    delivery = declare(responder).notifications.get().deliveries.get()

    # when the send is called with a transaction open
    with pytest.raises(SendInsideTransaction), transaction.atomic():
        services.delivery_send(delivery_id=delivery.pk)

    # then nothing was claimed or sent
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert mail.outbox == []
    # and outside one (the test's own wrapping block does not count) it goes
    assert services.delivery_send(delivery_id=delivery.pk) == "sent"
    assert [m.to for m in mail.outbox] == [["desk@example.com"]]
