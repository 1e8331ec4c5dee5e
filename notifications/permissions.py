"""Who may do what with notifications: resend a failed delivery, manage
stakeholder lists, route restricted content. The services, the admin and the
API ask here; nothing else decides.

Restricted routes (a list or channel that *may receive restricted* content, see
``notifications.restricted_routes``) follow the incident core's rule
``incidents.permissions.may_see_restricted_of_types``.
"""

from __future__ import annotations

from django.db.models import Q

from incidents import permissions as incident_permissions
from incidents.models import Incident, IncidentType

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
    notification = delivery.notification
    if notification.incident_id is None:
        types = list(notification.about_types.all())
        return user.is_superuser or bool(types) and can_route_restricted(user, types)
    return incident_permissions.can_post_update(user, notification.incident)


def can_route_restricted(user, incident_types) -> bool:
    """Whether ``user`` may open or change a route for restricted content about
    these types (none given: every type): opting a list or channel in, or
    changing the members, channels, types or activity of one that is."""
    return incident_permissions.may_see_restricted_of_types(
        user, list(incident_types or ())
    )


def hears_of_route_changes(user, incident_types) -> bool:
    """Whether ``user`` is told of a change to a restricted route about these
    types (and may still be, when the message is sent): an active member of
    one of their restricted groups."""
    if user is None or not user.is_active:
        return False
    wanted = {
        group.pk
        for incident_type in incident_types
        for group in incident_type.restricted_groups.all()
    }
    return user.groups.filter(pk__in=wanted).exists()


def visible_notifications_q(user) -> Q:
    """The filter behind ``Notification.objects.visible_to(user)`` (not
    superusers): messages about incidents ``user`` may see; a message about no
    incident (a restricted route's change) when ``user`` may route restricted
    content of every one of its ``about_types`` (``can_route_restricted``), or
    was one of its recipients. A fixed number of queries, whatever the number
    of messages."""
    from notifications.models import Delivery, Notification

    allowed, refused = incident_permissions.restricted_type_access(
        user, IncidentType.objects.prefetch_related("restricted_groups")
    )
    about = Notification.objects.filter(incident__isnull=True)
    route = Q(
        incident__isnull=True,
        pk__in=about.filter(about_types__in=allowed).values("pk"),
    ) & ~Q(pk__in=about.filter(about_types__in=refused).values("pk"))
    addressed = Q(
        incident__isnull=True,
        pk__in=Delivery.objects.filter(user=user).values("notification_id"),
    )
    return Q(incident__in=Incident.objects.visible_to(user)) | route | addressed
