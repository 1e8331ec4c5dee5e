"""Every access question about incidents, answered in one place.

Two layers (DESIGN.md, "Permissions"):

* Django groups give role-wide model permissions (a data migration sets them):
  Responders declare, see non-restricted incidents, add notes, manage actions and
  post updates; Incident managers also change incidents, confirm severity and
  assign roles anywhere; Reviewers and Executives view; Configurators edit the
  taxonomy.
* django-guardian gives per-incident rights. A restricted incident is visible only
  where the user, or one of their groups, holds ``view_incident`` on it: the
  reporter, role holders and the groups named on its type. Grants are made only by
  ``incidents.services``.

Portal, API and admin call these functions; none re-implements a rule. A user who
may not see an incident must not learn that it exists: use
``get_visible_incident_or_404``.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from incidents.models import COMMANDER, Incident, IncidentType, Integration

VIEW = "incidents.view_incident"
CHANGE = "incidents.change_incident"
ADD = "incidents.add_incident"
CONFIRM_SEVERITY = "incidents.confirm_severity"
ASSIGN_ROLE = "incidents.assign_role"
ADD_NOTE = "incidents.add_note"
MANAGE_ACTIONS = "incidents.change_actionitem"
POST_UPDATE = "incidents.add_stakeholderupdate"
ADD_INTEGRATION = "incidents.add_integration"


def _active(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def visible_incidents_q(user) -> Q:
    """The filter behind ``Incident.objects.visible_to(user)`` (not superusers)."""
    granted = get_objects_for_user(
        user,
        VIEW,
        klass=Incident,
        accept_global_perms=False,
        with_superuser=False,
    ).values("pk")
    q = Q(pk__in=granted)
    if user.has_perm(VIEW):
        q |= Q(restricted=False)
    if user.is_service_account:
        # An integration's account sees what its integration raised.
        q |= Q(integration__service_account=user)
    return q


def _granted(user, perm: str, incident: Incident) -> bool:
    # With an object, ModelBackend answers False and guardian answers for the
    # object grant alone.
    return user.has_perm(perm, incident)


def _raised_by_own_integration(user, incident: Incident) -> bool:
    return bool(
        user.is_service_account
        and incident.integration_id
        and Integration.objects.filter(
            pk=incident.integration_id, service_account=user
        ).exists()
    )


def is_commander(user, incident: Incident) -> bool:
    commander = incident.commander
    return commander is not None and commander.pk == user.pk


def can_view(user, incident: Incident) -> bool:
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    if not incident.restricted and user.has_perm(VIEW):
        return True
    return _granted(user, VIEW, incident) or _raised_by_own_integration(user, incident)


def get_visible_incident_or_404(user, **lookup) -> Incident:
    """The incident matching ``lookup`` if ``user`` may see it; Http404 otherwise,
    exactly as if it did not exist."""
    try:
        return Incident.objects.visible_to(user).get(**lookup)
    except Incident.DoesNotExist:
        raise Http404("No incident matches the given query.") from None


def can_declare(user, *, integration: Integration | None = None) -> bool:
    if not _active(user):
        return False
    if integration is not None and integration.service_account_id == user.pk:
        return integration.is_active
    return user.has_perm(ADD)


def can_edit(user, incident: Incident) -> bool:
    """Plain fields (title, description, impact, flags, tags, type)."""
    if not can_view(user, incident):
        return False
    return (
        user.has_perm(CHANGE)
        or _granted(user, CHANGE, incident)
        or incident.reporter_id == user.pk
        or _raised_by_own_integration(user, incident)
    )


def can_lift_restrictions(user) -> bool:
    """Whether ``user`` may expose restricted content at all: incident managers
    (the global ``change_incident`` right) and superusers. It decides lifting a
    restriction and declaring a restricted-by-default type unrestricted."""
    return _active(user) and (user.is_superuser or user.has_perm(CHANGE))


def can_change_restriction(user, incident: Incident) -> bool:
    """Lifting a restriction exposes the incident: incident managers only."""
    return can_view(user, incident) and can_lift_restrictions(user)


def restricted_type_access(user, incident_types) -> tuple[set[int], set[int]]:
    """Of ``incident_types``, the ids of those that keep their incidents
    restricted (restricted by default or naming restricted groups) split in
    two: those ``user`` may see restricted incidents of (a member of one of the
    type's restricted groups) and those they may not (a restricted type naming
    no group: nobody but superusers). Types that restrict nothing are in
    neither. Superusers are not special-cased here: callers decide. Reads
    ``restricted_groups`` from each type (prefetch it for many types)."""
    own = set(user.groups.values_list("pk", flat=True))
    allowed: set[int] = set()
    refused: set[int] = set()
    for incident_type in incident_types:
        wanted = {group.pk for group in incident_type.restricted_groups.all()}
        if not wanted and not incident_type.restricted_by_default:
            continue
        (allowed if wanted & own else refused).add(incident_type.pk)
    return allowed, refused


def may_see_restricted_of_types(user, incident_types=()) -> bool:
    """Whether ``user`` may see restricted incidents of every one of
    ``incident_types`` (none given: of every active type) — the right to route
    restricted content (a stakeholder list or channel that may receive it).

    A superuser may; otherwise, for each type in scope that is restricted by
    default or names restricted groups, ``user`` must belong to one of its
    restricted groups (a restricted type naming none: superusers only). When no
    type in scope names any group, only superusers may (fail-closed: restricted
    incidents of such types are seen only by those granted on each).
    """
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    types = list(incident_types)
    if not types:
        types = list(
            IncidentType.objects.filter(is_active=True).prefetch_related(
                "restricted_groups"
            )
        )
    allowed, refused = restricted_type_access(user, types)
    return bool(allowed) and not refused


def can_restrict(user, incident: Incident) -> bool:
    """Restricting hides the incident from most responders: anyone who may edit
    it may do that (the safe direction)."""
    return can_edit(user, incident)


def can_confirm_severity(user, incident: Incident) -> bool:
    """Humans only: incident managers, or the incident's commander."""
    if not can_view(user, incident) or not user.is_human:
        return False
    return user.has_perm(CONFIRM_SEVERITY) or is_commander(user, incident)


def can_acknowledge(user, incident: Incident) -> bool:
    """A person (never a service account) who may see the incident."""
    return _active(user) and user.is_human and can_view(user, incident)


def can_claim_command(user, incident: Incident) -> bool:
    """A responder (a human who may declare) without the right to assign roles
    may take command of an incident they see while nobody commands it; whether
    somebody does is for the service to check under the incident's lock."""
    return bool(
        can_view(user, incident)
        and user.is_human
        and user.has_perm(ADD)
        and not user.has_perm(ASSIGN_ROLE)
        and not is_commander(user, incident)
    )


def can_assign_role(user, incident: Incident, *, role=None, assignee=None) -> bool:
    """Incident managers or the commander. A responder may also take command of
    an incident nobody commands yet (claiming it for themselves)."""
    if not can_view(user, incident):
        return False
    if user.has_perm(ASSIGN_ROLE) or is_commander(user, incident):
        return True
    return bool(
        role is not None
        and role.slug == COMMANDER
        and assignee is not None
        and assignee.pk == user.pk
        and user.is_human
        and user.has_perm(ADD)
        and incident.commander is None
    )


def can_transition(user, incident: Incident) -> bool:
    """Incident managers, the commander and other role holders (granted change)."""
    if not can_view(user, incident):
        return False
    return (
        user.has_perm(CHANGE)
        or _granted(user, CHANGE, incident)
        or is_commander(user, incident)
        or _raised_by_own_integration(user, incident)
    )


def can_link(user, incident: Incident) -> bool:
    """Linking it to another incident (related, caused by): whoever may add
    notes to it. The other incident must be visible to them too (the service
    asks ``can_view``)."""
    return can_add_note(user, incident)


def can_mark_duplicate(user, incident: Incident) -> bool:
    """Closing it as a duplicate of another: a person who may change its status."""
    return _active(user) and user.is_human and can_transition(user, incident)


def runs_incident(user, incident: Incident) -> bool:
    """People who run the incident: incident managers, the commander and role
    holders granted change, never a system."""
    if not can_view(user, incident) or not user.is_human:
        return False
    return (
        user.has_perm(CHANGE)
        or _granted(user, CHANGE, incident)
        or is_commander(user, incident)
    )


def can_correct_times(user, incident: Incident) -> bool:
    """Correcting the record's times: people who run the incident."""
    return runs_incident(user, incident)


def can_record_regulatory_notification(user, incident: Incident) -> bool:
    """Recording that an authority was told: people who run the incident.
    Everyone who may see the incident sees the records."""
    return runs_incident(user, incident)


def can_add_note(user, incident: Incident) -> bool:
    if not can_view(user, incident):
        return False
    return (
        user.has_perm(ADD_NOTE)
        or _granted(user, CHANGE, incident)
        or _raised_by_own_integration(user, incident)
    )


def can_manage_actions(user, incident: Incident) -> bool:
    if not can_view(user, incident):
        return False
    return user.has_perm(MANAGE_ACTIONS) or _granted(user, CHANGE, incident)


def can_post_update(user, incident: Incident) -> bool:
    if not can_view(user, incident):
        return False
    return user.has_perm(POST_UPDATE) or _granted(user, CHANGE, incident)


def can_apply_playbook(user, incident: Incident) -> bool:
    return can_manage_actions(user, incident)


def can_view_insights(user) -> bool:
    """The insights page: incident managers, executives and reviewers (their
    groups hold ``view_insights``) and superusers. What it counts is still
    limited to what ``user`` may see."""
    return _active(user) and user.has_perm("incidents.view_insights")


IMPORT = "incidents.import_incidents"


def can_import(user) -> bool:
    """Importing history through the admin's upload: staff people who hold
    ``import_incidents`` (the Incident managers group, by a migration) and
    superusers. An import back-dates incidents, names their people and sends
    nothing, so it is a right of its own, not ``change_incident``; service
    accounts never hold it."""
    return _active(user) and user.is_staff and user.is_human and user.has_perm(IMPORT)


def can_manage_integrations(user) -> bool:
    return _active(user) and user.has_perm(ADD_INTEGRATION)


# --- teams and the service catalog ----------------------------------------------

VIEW_SERVICE = "incidents.view_service"
VIEW_TEAM = "incidents.view_team"
CHANGE_SERVICE = "incidents.change_service"
CHANGE_TEAM = "incidents.change_team"


def can_view_catalog(user) -> bool:
    """Teams, their members and the service catalog: everyone who works
    incidents (every group reads them) and superusers. Nothing in them is
    restricted; an incident's link to a service is seen with the incident."""
    return _active(user) and (user.has_perm(VIEW_SERVICE) or user.has_perm(VIEW_TEAM))


def can_configure_catalog(user) -> bool:
    """Creating and changing teams and services: configurators and superusers,
    people only."""
    return (
        _active(user)
        and user.is_human
        and user.has_perm(CHANGE_SERVICE)
        and user.has_perm(CHANGE_TEAM)
    )


def can_link_services(user, incident: Incident) -> bool:
    """Naming the services an incident affects is editing it."""
    return can_edit(user, incident)


def can_request_role(user, incident: Incident) -> bool:
    """Asking a person to take a role ("Ask Sam to take command"): people who
    may declare or assign roles and see the incident. Asking assigns nothing;
    the one asked accepts (``incidents.services.role_request_accept``)."""
    if not can_view(user, incident) or not user.is_human:
        return False
    return user.has_perm(ADD) or can_assign_role(user, incident)
