"""Open look-alikes: a report resembling an incident still open is offered as a
possible duplicate, first, only among incidents the person may see."""

from guardian.shortcuts import assign_perm

from incidents import services
from incidents.models import Incident
from incidents.triage import suggest_for
from tests.factories import IncidentFactory, UserFactory

TITLE = "Checkout API returning 502 for all EU customers"


def test_a_near_identical_open_incident_is_offered_first(db):
    resolved = IncidentFactory(resolved=True, title=TITLE + " last spring")
    still_open = IncidentFactory(title=TITLE)

    similar = suggest_for(title=TITLE + ", payments failing").similar

    assert similar[0].reference == still_open.reference
    assert similar[0].open is True
    assert resolved.reference in [s.reference for s in similar if not s.open]
    assert "similar open incidents: " + still_open.reference in (
        suggest_for(title=TITLE).rationale
    )
    assert suggest_for(title=TITLE).as_dict()["similar"][0]["open"] is True


def test_restricted_open_incidents_are_offered_only_to_who_may_see_them(db):
    secret = IncidentFactory(secret=True, title=TITLE)
    insider = UserFactory()
    assign_perm("incidents.view_incident", insider, secret)

    assert suggest_for(title=TITLE).similar == []
    assert suggest_for(title=TITLE, user=UserFactory()).similar == []
    assert [s.reference for s in suggest_for(title=TITLE, user=insider).similar] == [
        secret.reference
    ]


def test_a_declared_incident_is_not_its_own_duplicate_but_sees_the_first(db):
    reporter = UserFactory(groups=["Responders"])
    first = services.incident_declare(actor=reporter, title=TITLE)
    second = services.incident_declare(actor=reporter, title=TITLE + " again")

    assert [s["reference"] for s in first.suggestion["similar"]] == []
    offered = second.suggestion["similar"]
    assert offered[0] == {
        "reference": first.reference,
        "title": first.title,
        "severity": None,
        "resolution": "",
        "open": True,
    }
    assert first.reference in second.suggestion["rationale"]


def test_the_declare_form_shows_open_look_alikes(db, client):
    user = UserFactory(groups=["Responders"])
    open_one = IncidentFactory(title=TITLE)
    client.force_login(user)

    response = client.post("/incidents/suggest/", {"title": TITLE})

    assert "possible duplicates" in response.text
    assert f'href="/incidents/{open_one.reference}/"' in response.text


def test_the_declare_form_links_similar_past_incidents_and_the_rationale(db, client):
    user = UserFactory(groups=["Responders"])
    past = IncidentFactory(resolved=True, title=TITLE + " last spring")
    client.force_login(user)

    html = client.post("/incidents/suggest/", {"title": TITLE}).text

    link = f'<a class="ref" href="/incidents/{past.reference}/">{past.reference}</a>'
    assert "Similar past incidents" in html
    # once in the list, once in the rationale's "similar past incidents: ..."
    assert html.count(link) == 2


def test_the_incident_page_links_similar_incidents_the_viewer_may_see(db, client):
    reporter = UserFactory(groups=["Responders"])
    insider = UserFactory(groups=["Responders"])
    past = IncidentFactory(resolved=True, title=TITLE + " last spring")
    secret = IncidentFactory(title=TITLE + " (payroll)")
    incident = services.incident_declare(actor=reporter, title=TITLE + " again")
    stored = [s["reference"] for s in incident.suggestion["similar"]]
    assert set(stored) == {past.reference, secret.reference}
    # One of them is restricted after the declaration; one colleague may see it.
    Incident.objects.filter(pk=secret.pk).update(restricted=True)
    assign_perm("incidents.view_incident", insider, secret)

    # The reporter's colleague may see the secret one: both are links.
    client.force_login(insider)
    html = client.get(incident.get_absolute_url()).text
    for other in (past, secret):
        assert f'<a class="ref" href="{other.get_absolute_url()}">' in html
    assert secret.title in html

    # Another responder sees the past one only, by link, and nothing of the secret.
    client.force_login(UserFactory(groups=["Responders"]))
    html = client.get(incident.get_absolute_url()).text
    assert f'<a class="ref" href="{past.get_absolute_url()}">' in html
    assert 'data-testid="similar-incidents"' in html
    assert secret.reference not in html
    assert secret.title not in html
