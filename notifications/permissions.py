"""Who may do what with notifications: resend a failed delivery, manage
stakeholder lists, route restricted content. The services, the admin and the
API ask here; nothing else decides.

Restricted routes (a list or channel that *may receive restricted* content, see
``notifications.restricted_routes``) follow the incident core's rule
``incidents.permissions.may_see_restricted_of_types``.
"""

from __future__ import annotations

from incidents import permissions as incident_permissions

CHANGE_INCIDENT = "incidents.change_incident"


def can_resend_deliveries(user) -> bool:
    """The admin's resend action: incident managers (``change_incident``) and
    superusers; each delivery is still checked with ``can_resend``."""
    return bool(
        user is not None
        and user.is_active
        and (user.is_superuser or user.has_perm(CHANGE_INCIDENT))
    )


def can_resend(user, delivery) -> bool:
    """Whether ``user`` may give a failed ``delivery`` another round: people who
    may post the incident's stakeholder updates (which needs seeing it). None
    is IncidentOps itself (a sweep or task) and may."""
    if user is None:
        return True
    incident = delivery.notification.incident
    return incident_permissions.can_post_update(user, incident)


def can_route_restricted(user, incident_types) -> bool:
    """Whether ``user`` may open or change a route for restricted content about
    these types (none given: every type): opting a list or channel in, or
    changing the members, channels, types or activity of one that is."""
    return incident_permissions.may_see_restricted_of_types(
        user, list(incident_types or ())
    )
