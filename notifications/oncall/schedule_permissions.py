"""Every access question about on-call schedules, answered in one place.

Schedules are configuration. Configurators edit them (layers, participants,
overrides) in the admin and the API; everyone in a role group (Responders,
Incident managers, Configurators) reads them, from the data migration's
``notifications.view_schedule``. Overrides may also be added by incident
managers (``notifications.add_scheduleoverride``). A shift swap is asked by a
participant of the schedule and answered by the person asked.
"""

from __future__ import annotations

from django.http import Http404

from notifications.oncall.schedule_models import (
    CalendarFeed,
    LayerParticipant,
    Schedule,
    ShiftSwap,
)

VIEW = "notifications.view_schedule"
CHANGE = "notifications.change_schedule"
ADD_OVERRIDE = "notifications.add_scheduleoverride"


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def can_view_schedules(user) -> bool:
    return _signed_in(user) and user.has_perm(VIEW)


def visible_schedules(user):
    """The schedules ``user`` may read (all of them, or none)."""
    if can_view_schedules(user):
        return Schedule.objects.all()
    return Schedule.objects.none()


def get_visible_schedule_or_404(user, **lookup) -> Schedule:
    try:
        return visible_schedules(user).get(**lookup)
    except Schedule.DoesNotExist:
        raise Http404("No schedule matches the given query.") from None


def can_edit_schedule(user) -> bool:
    return _signed_in(user) and user.has_perm(CHANGE)


def can_add_override(user) -> bool:
    return _signed_in(user) and (user.has_perm(ADD_OVERRIDE) or user.has_perm(CHANGE))


def is_participant(user, schedule: Schedule) -> bool:
    return (
        _signed_in(user)
        and LayerParticipant.objects.filter(
            layer__schedule=schedule, user_id=user.pk
        ).exists()
    )


def can_request_swap(user, schedule: Schedule) -> bool:
    """A human participant of the schedule who may read it."""
    return (
        can_view_schedules(user)
        and not user.is_service_account
        and is_participant(user, schedule)
    )


def can_answer_swap(user, swap: ShiftSwap) -> bool:
    """Only the person asked accepts or declines."""
    return _signed_in(user) and swap.counterpart_id == user.pk


def can_cancel_swap(user, swap: ShiftSwap) -> bool:
    return _signed_in(user) and (
        swap.requester_id == user.pk or can_edit_schedule(user)
    )


def can_manage_feed(user, feed: CalendarFeed) -> bool:
    """A person manages their own feed; configurators manage schedule feeds."""
    if not _signed_in(user):
        return False
    if feed.user_id is not None:
        return feed.user_id == user.pk or can_edit_schedule(user)
    return can_edit_schedule(user)
