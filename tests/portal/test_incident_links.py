"""The incident page's links panel: mark a duplicate (also from the open
look-alikes triage offered), link and unlink, and what each viewer is shown."""

from incidents import services
from incidents.models import Incident, IncidentLink
from tests.factories import role

TITLE = "Checkout API returning 502 for all EU customers"


def test_a_look_alike_offered_at_declaration_can_be_closed_as_its_duplicate(
    client, responder, manager
):
    # given two declarations of the same outage, minutes apart
    first = services.incident_declare(actor=responder, title=TITLE)
    second = services.incident_declare(actor=responder, title=TITLE + " again")
    client.force_login(manager)

    # the second's page offers the first as a possible duplicate
    page = client.get(second.get_absolute_url())
    assert 'data-testid="duplicate-candidates"' in page.text
    assert f'name="of" value="{first.reference}"' in page.text

    # when the manager closes it as its duplicate
    response = client.post(
        f"/incidents/{second.reference}/duplicate/", {"of": first.reference}
    )

    # then
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.closure_reason == Incident.ClosureReason.DUPLICATE
    duplicate_page = client.get(second.get_absolute_url())
    assert 'data-testid="duplicate-of"' in duplicate_page.text
    assert first.reference in duplicate_page.text
    primary_page = client.get(first.get_absolute_url())
    assert "Duplicated by" in primary_page.text
    assert second.reference in primary_page.text


def test_a_refused_mark_shows_the_reason_on_the_page(client, responder, manager):
    incident = services.incident_declare(actor=responder, title=TITLE)
    client.force_login(manager)

    response = client.post(
        f"/incidents/{incident.reference}/duplicate/", {"of": "INC-1999-0001"}
    )

    assert response.status_code == 200
    assert "No incident with that id that you may see." in response.text
    incident.refresh_from_db()
    assert incident.is_open


def test_link_and_unlink_from_the_page(client, responder):
    one = services.incident_declare(actor=responder, title=TITLE)
    two = services.incident_declare(actor=responder, title="Payments provider slow")
    client.force_login(responder)

    client.post(
        f"/incidents/{one.reference}/links/",
        {"incident": two.reference.lower(), "kind": "caused-by"},
    )
    page = client.get(one.get_absolute_url())
    assert "Caused by" in page.text
    assert "Payments provider slow" in page.text

    link = IncidentLink.objects.get()
    client.post(f"/incidents/{two.reference}/links/{link.pk}/remove/")
    assert not IncidentLink.objects.exists()


def test_a_restricted_link_is_neither_shown_nor_offered(client, responder, manager):
    secret = services.incident_declare(
        actor=manager, title="Board papers sent to a journalist", restricted=True
    )
    public = services.incident_declare(actor=manager, title="Mail relay misused")
    services.incident_assign_role(
        incident=public, actor=manager, role=role("commander"), user=responder
    )
    services.incident_link(incident=public, other=secret, actor=manager)
    client.force_login(responder)

    page = client.get(public.get_absolute_url())
    refused = client.post(
        f"/incidents/{public.reference}/links/", {"incident": secret.reference}
    )
    link = IncidentLink.objects.get()
    remove = client.post(f"/incidents/{public.reference}/links/{link.pk}/remove/")

    assert secret.title not in page.text
    assert secret.reference not in page.text
    assert "No incident with that id that you may see." in refused.text
    assert remove.status_code == 404
    assert IncidentLink.objects.count() == 1


def test_a_duplicate_of_a_hidden_incident_says_only_that(client, responder, manager):
    secret = services.incident_declare(
        actor=manager, title="Board papers sent to a journalist", restricted=True
    )
    mine = services.incident_declare(actor=responder, title="Papers sent out")
    services.incident_mark_duplicate(incident=mine, primary=secret, actor=manager)
    client.force_login(responder)

    page = client.get(mine.get_absolute_url())

    assert "a duplicate of an incident you may not see" in page.text
    assert secret.reference not in page.text
    assert secret.title not in page.text
