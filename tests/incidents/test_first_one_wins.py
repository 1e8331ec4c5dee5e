"""First one wins: of concurrent claims of command exactly one succeeds; the
others are refused (409 on the API) naming who took it. On PostgreSQL, with
threads released at once; the ordinary hand-over keeps working."""

import pytest

from incidentops import groups
from incidentops.exceptions import Conflict
from incidents import services
from incidents.models import Incident, RoleAssignment
from tests.api.conftest import client_for
from tests.factories import UserFactory, role
from tests.threads import race

THREADS = 8


def _race(work):
    """Run ``work(i)`` in THREADS threads released at once; collect outcomes."""
    return race(work, THREADS)


def _claim(incident_pk, user, **kwargs):
    incident = Incident.objects.get(pk=incident_pk)
    return services.incident_assign_role(
        incident=incident, actor=user, role=role("commander"), user=user, **kwargs
    ).user.username


def _one_winner(outcomes):
    winners = [o for o in outcomes if isinstance(o, str)]
    losers = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(winners) == 1, outcomes
    assert len(losers) == THREADS - 1, outcomes
    assert {loser.holder for loser in losers} == set(winners)
    return winners[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_of_command_one_wins():
    responders = [UserFactory(groups=[groups.RESPONDERS]) for _ in range(THREADS)]
    incident = services.incident_declare(actor=responders[0], title="Race")

    outcomes = _race(lambda i: _claim(incident.pk, responders[i]))

    winner = _one_winner(outcomes)
    current = RoleAssignment.objects.filter(incident=incident)
    assert [a.user.username for a in current] == [winner]  # nobody displaced


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_managers_claiming_with_expected_holder_one_wins():
    managers = [
        UserFactory(groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS])
        for _ in range(THREADS)
    ]
    incident = services.incident_declare(actor=managers[0], title="Race")

    outcomes = _race(lambda i: _claim(incident.pk, managers[i], expected_holder=None))

    _one_winner(outcomes)
    assert RoleAssignment.objects.filter(incident=incident).count() == 1


@pytest.mark.django_db
def test_a_lost_claim_is_a_409_naming_the_holder():
    rita = UserFactory(username="rita", groups=[groups.RESPONDERS])
    ola = UserFactory(username="ola", groups=[groups.RESPONDERS])
    incident = services.incident_declare(actor=rita, title="Race")
    stale = Incident.objects.get(pk=incident.pk)  # ola's view: nobody commands
    services.incident_assign_role(
        incident=incident, actor=rita, role=role("commander"), user=rita
    )

    with pytest.raises(Conflict) as refused:
        services.incident_assign_role(
            incident=stale, actor=ola, role=role("commander"), user=ola
        )
    assert refused.value.holder == "rita"

    response = client_for(ola).post(
        f"/api/v1/incidents/{incident.pk}/assign-role/",
        {"role": "commander", "user": "ola"},
        format="json",
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert body["holder"] == "rita"
    assert "already incident commander" in body["detail"]


@pytest.mark.django_db
def test_an_ordinary_hand_over_still_works_and_a_stale_expectation_is_409():
    mia = UserFactory(username="mia", groups=[groups.INCIDENT_MANAGERS])
    UserFactory(username="rita", groups=[groups.RESPONDERS])
    UserFactory(username="ola", groups=[groups.RESPONDERS])
    incident = services.incident_declare(actor=mia, title="Hand-over")
    client = client_for(mia)
    url = f"/api/v1/incidents/{incident.pk}/assign-role/"

    # hand-overs without any expectation, as before
    assert client.post(url, {"role": "commander", "user": "rita"}).status_code == 201
    assert client.post(url, {"role": "commander", "user": "ola"}).status_code == 201

    # with an expectation that is out of date
    stale = client.post(
        url,
        {"role": "commander", "user": "mia", "expected_holder": "rita"},
        format="json",
    )
    assert stale.status_code == 409
    assert stale.json()["holder"] == "ola"
    fresh = client.post(
        url,
        {"role": "commander", "user": "mia", "expected_holder": "ola"},
        format="json",
    )
    assert fresh.status_code == 201


@pytest.mark.django_db
def test_take_command_in_the_portal_after_someone_else_took_it(client):
    rita = UserFactory(username="rita", groups=[groups.RESPONDERS])
    ola = UserFactory(username="ola", first_name="Ola", groups=[groups.RESPONDERS])
    incident = services.incident_declare(actor=rita, title="Race")
    services.incident_assign_role(
        incident=incident, actor=ola, role=role("commander"), user=ola
    )
    client.force_login(rita)

    response = client.post(
        f"{incident.get_absolute_url()}roles/",
        {"role": "commander", "user": "rita", "expected_holder": ""},
    )

    assert response.status_code == 200
    assert "is already incident commander" in response.content.decode()
    assert incident.commander == ola
