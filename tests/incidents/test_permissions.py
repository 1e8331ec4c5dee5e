import pytest
from django.http import Http404

from incidentops import groups
from incidents import permissions, services
from incidents.models import Incident
from tests.factories import (
    IncidentTypeFactory,
    IntegrationFactory,
    UserFactory,
    role,
)

GROUPS = [
    None,
    groups.RESPONDERS,
    groups.INCIDENT_MANAGERS,
    groups.REVIEWERS,
    groups.EXECUTIVES,
    groups.CONFIGURATORS,
]
VIEWERS = {
    groups.RESPONDERS,
    groups.INCIDENT_MANAGERS,
    groups.REVIEWERS,
    groups.EXECUTIVES,
}
WORKERS = {groups.RESPONDERS, groups.INCIDENT_MANAGERS}


def _case(group, restricted, grant):
    """An incident and a user in ``group``, granted as ``grant`` says:
    "none", "role" (a role holder: view and change) or "type-group" (the
    incident type names the user's group: view)."""
    admin = UserFactory(username="root", is_superuser=True)
    reporter = UserFactory(username="reporter", groups=[groups.RESPONDERS])
    user = UserFactory(username="subject", groups=[group] if group else [])
    incident_type = IncidentTypeFactory(
        restricted_groups=[group] if grant == "type-group" else []
    )
    incident = services.incident_declare(
        actor=reporter,
        title="Payroll file sent to wrong supplier",
        incident_type=incident_type,
        restricted=restricted,
    )
    if grant == "role":
        services.incident_assign_role(
            incident=incident, actor=admin, role=role("scribe"), user=user
        )
    # Fresh objects: permission caches must not leak between steps.
    return Incident.objects.get(pk=incident.pk), type(user).objects.get(pk=user.pk)


CASES = [
    (group, restricted, grant)
    for group in GROUPS
    for restricted in (False, True)
    for grant in ("none", "role", "type-group")
    if not (grant == "type-group" and group is None)
]


@pytest.mark.parametrize(("group", "restricted", "grant"), CASES)
def test_permission_matrix(db, group, restricted, grant):
    incident, user = _case(group, restricted, grant)

    # Type groups are granted on restricted incidents only; on open ones their
    # members see what their group sees anyway.
    visible = (
        (not restricted and group in VIEWERS)
        or grant == "role"
        or (grant == "type-group" and restricted)
    )
    changer = group == groups.INCIDENT_MANAGERS or grant == "role"
    worker = group in WORKERS or grant == "role"
    expected = {
        permissions.can_view: visible,
        permissions.can_edit: visible and changer,
        permissions.can_transition: visible and changer,
        permissions.can_confirm_severity: visible and group == groups.INCIDENT_MANAGERS,
        permissions.can_assign_role: visible and group == groups.INCIDENT_MANAGERS,
        permissions.can_manage_actions: visible and worker,
        permissions.can_post_update: visible and worker,
        permissions.can_add_note: visible and worker,
    }
    actual = {check: check(user, incident) for check in expected}
    assert actual == expected
    listed = Incident.objects.visible_to(user).filter(pk=incident.pk).exists()
    assert listed is visible


def test_invisible_incident_is_indistinguishable_from_a_missing_one(db):
    incident, outsider = _case(groups.RESPONDERS, True, "none")
    with pytest.raises(Http404) as hidden:
        permissions.get_visible_incident_or_404(outsider, reference=incident.reference)
    with pytest.raises(Http404) as missing:
        permissions.get_visible_incident_or_404(outsider, reference="INC-1900-0001")
    assert str(hidden.value) == str(missing.value)
    assert incident.title not in str(hidden.value)


def test_visible_incident_is_returned(incident, responder):
    found = permissions.get_visible_incident_or_404(responder, pk=incident.pk)
    assert found == incident


def test_superuser_sees_restricted_incidents(db):
    incident, _ = _case(None, True, "none")
    admin = UserFactory(is_superuser=True)
    assert permissions.can_view(admin, incident)
    assert incident in Incident.objects.visible_to(admin)


def test_inactive_users_see_nothing(incident, responder):
    responder.is_active = False
    assert not permissions.can_view(responder, incident)
    assert not Incident.objects.visible_to(responder).exists()


def test_integration_account_sees_what_its_integration_raised(db):
    integration = IntegrationFactory()
    raised = services.incident_declare(
        actor=integration.service_account,
        title="Disk full",
        integration=integration,
        dedup_key="disk",
        restricted=True,
    )
    other = IntegrationFactory()
    assert permissions.can_view(integration.service_account, raised)
    assert not permissions.can_view(other.service_account, raised)
    assert list(Incident.objects.visible_to(integration.service_account)) == [raised]
    assert not Incident.objects.visible_to(other.service_account).exists()


def test_service_account_may_never_confirm_even_as_manager(incident, bot):
    assert not permissions.can_confirm_severity(bot, incident)


def test_visible_to_filters_lists(db):
    public, responder = _case(groups.RESPONDERS, False, "none")
    reporter = public.reporter
    secret = services.incident_declare(
        actor=reporter, title="Insider trading alert", restricted=True
    )
    assert set(Incident.objects.visible_to(responder)) == {public}
    assert set(Incident.objects.visible_to(reporter)) == {public, secret}
