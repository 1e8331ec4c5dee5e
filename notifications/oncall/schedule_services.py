"""Every write about on-call schedules, one function per verb.

Overrides, shift swaps and calendar feeds. Each function checks its
preconditions once and raises ``DomainError`` (or ``NotPermitted``) with a
reason a person can read; nothing is stored from a refused call. Schedules and
layers themselves are configuration, edited in the admin or imported
(``notifications.oncall.schedule_import``).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidentops.exceptions import Conflict, DomainError, NotPermitted
from notifications.oncall import schedule_permissions as permissions
from notifications.oncall.schedule_models import (
    CalendarFeed,
    Schedule,
    ScheduleOverride,
    ShiftSwap,
)
from notifications.oncall.schedules import shifts


def _check_period(start: datetime, end: datetime, *, field: str = "end") -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise DomainError("Times must carry a time zone.", field=field)
    if end <= start:
        raise DomainError("The end must be after the start.", field=field)


@transaction.atomic
def override_create(
    *,
    schedule: Schedule,
    user,
    start: datetime,
    end: datetime,
    actor,
    note: str = "",
) -> ScheduleOverride:
    """Put ``user`` on call for ``schedule`` from ``start`` to ``end`` (aware),
    above every layer. Refuses a service account (only people are paged from a
    schedule) and an empty period; raises ``NotPermitted`` unless ``actor`` may
    add overrides."""
    if actor is not None and not permissions.can_add_override(actor):
        raise NotPermitted("You may not add overrides to schedules.")
    _check_period(start, end)
    if not user.is_human:
        raise DomainError(
            f"{user.username} is not an active person; only people go on call.",
            field="user",
        )
    return ScheduleOverride.objects.create(
        schedule=schedule,
        user=user,
        start=start,
        end=end,
        note=note[:200],
        created_by=actor,
    )


@transaction.atomic
def override_delete(*, override: ScheduleOverride, actor) -> None:
    """Remove an override (the layers show through again)."""
    if not permissions.can_add_override(actor):
        raise NotPermitted("You may not remove overrides.")
    override.delete()


def _covers_alone(schedule: Schedule, user, start: datetime, end: datetime) -> bool:
    """Whether ``user`` alone is on call on ``schedule`` for all of
    ``[start, end)`` in its final timeline."""
    timeline = shifts(schedule, start, end)
    if not timeline or timeline[0].start != start or timeline[-1].end != end:
        return False
    previous_end = start
    for shift in timeline:
        if shift.user.pk != user.pk or shift.start != previous_end:
            return False
        previous_end = shift.end
    return True


@transaction.atomic
def swap_request(
    *,
    schedule: Schedule,
    requester,
    counterpart,
    start: datetime,
    end: datetime,
    return_start: datetime | None = None,
    return_end: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
) -> ShiftSwap:
    """``requester`` asks ``counterpart`` to take their shift ``start``–``end``
    on ``schedule`` (and, when given, offers to take the counterpart's shift
    ``return_start``–``return_end`` in return). Nothing changes on the
    schedule until the counterpart accepts.

    Raises ``NotPermitted`` unless the requester is a person taking part in the
    schedule; ``DomainError`` when the shift is not the requester's alone, the
    return shift not the counterpart's, a time is in the past, or the
    counterpart is the requester or not an active person.
    """
    now = now or timezone.now()
    if not permissions.can_request_swap(requester, schedule):
        raise NotPermitted("Only people on this schedule's rotations ask for swaps.")
    if counterpart.pk == requester.pk:
        raise DomainError("Ask someone else to take the shift.", field="counterpart")
    if not counterpart.is_human:
        raise DomainError(
            f"{counterpart.username} is not an active person.", field="counterpart"
        )
    _check_period(start, end)
    if start <= now:
        raise DomainError("That shift has already started.", field="start")
    if not _covers_alone(schedule, requester, start, end):
        raise DomainError(
            "You are not the one on call for all of that period.", field="start"
        )
    if (return_start is None) != (return_end is None):
        raise DomainError(
            "Give both the start and the end of the shift taken in return.",
            field="return_end",
        )
    if return_start is not None:
        _check_period(return_start, return_end, field="return_end")
        if return_start <= now:
            raise DomainError(
                "The shift offered in return has already started.",
                field="return_start",
            )
        if return_start < end and start < return_end:
            raise DomainError("The two shifts overlap.", field="return_start")
        if not _covers_alone(schedule, counterpart, return_start, return_end):
            raise DomainError(
                f"{counterpart.display_name} is not the one on call for all of "
                "the shift offered in return.",
                field="return_start",
            )
    return ShiftSwap.objects.create(
        schedule=schedule,
        requester=requester,
        counterpart=counterpart,
        start=start,
        end=end,
        return_start=return_start,
        return_end=return_end,
        note=note[:200],
    )


def _locked_pending(swap: ShiftSwap) -> ShiftSwap:
    swap = ShiftSwap.objects.select_for_update().get(pk=swap.pk)
    if swap.status != ShiftSwap.Status.REQUESTED:
        raise Conflict(f"This swap was already {swap.get_status_display().lower()}.")
    return swap


@transaction.atomic
def swap_accept(*, swap: ShiftSwap, actor, now: datetime | None = None) -> ShiftSwap:
    """The counterpart accepts: two overrides are written (the counterpart on
    the requester's shift; the requester on the shift taken in return, when
    there is one) and the swap is marked accepted.

    Raises ``NotPermitted`` for anyone but the counterpart, ``Conflict`` when
    the swap was already answered, and ``DomainError`` when the shift has
    started or the schedule changed so the shifts are no longer theirs.
    """
    now = now or timezone.now()
    if not permissions.can_answer_swap(actor, swap):
        raise NotPermitted("Only the person asked may accept this swap.")
    swap = _locked_pending(swap)
    if swap.start <= now:
        raise DomainError("The shift has already started; the swap lapsed.")
    schedule = swap.schedule
    if not _covers_alone(schedule, swap.requester, swap.start, swap.end):
        raise DomainError(
            f"{swap.requester.display_name} is no longer on call for that shift."
        )
    if swap.return_start and not _covers_alone(
        schedule, swap.counterpart, swap.return_start, swap.return_end
    ):
        raise DomainError("You are no longer on call for the shift offered in return.")
    ScheduleOverride.objects.create(
        schedule=schedule,
        user=swap.counterpart,
        start=swap.start,
        end=swap.end,
        note=f"Swap with {swap.requester.display_name}",
        swap=swap,
        created_by=actor,
    )
    if swap.return_start:
        ScheduleOverride.objects.create(
            schedule=schedule,
            user=swap.requester,
            start=swap.return_start,
            end=swap.return_end,
            note=f"Swap with {swap.counterpart.display_name}",
            swap=swap,
            created_by=actor,
        )
    swap.status = ShiftSwap.Status.ACCEPTED
    swap.decided_at = now
    swap.save(update_fields=["status", "decided_at"])
    return swap


@transaction.atomic
def swap_decline(*, swap: ShiftSwap, actor, now: datetime | None = None) -> ShiftSwap:
    """The counterpart declines; nothing changes on the schedule."""
    if not permissions.can_answer_swap(actor, swap):
        raise NotPermitted("Only the person asked may decline this swap.")
    swap = _locked_pending(swap)
    swap.status = ShiftSwap.Status.DECLINED
    swap.decided_at = now or timezone.now()
    swap.save(update_fields=["status", "decided_at"])
    return swap


@transaction.atomic
def swap_cancel(*, swap: ShiftSwap, actor, now: datetime | None = None) -> ShiftSwap:
    """The requester withdraws a swap not yet answered."""
    if not permissions.can_cancel_swap(actor, swap):
        raise NotPermitted("Only the person who asked may cancel this swap.")
    swap = _locked_pending(swap)
    swap.status = ShiftSwap.Status.CANCELLED
    swap.decided_at = now or timezone.now()
    swap.save(update_fields=["status", "decided_at"])
    return swap


@transaction.atomic
def calendar_feed_create(
    *, actor, schedule: Schedule | None = None, user=None
) -> CalendarFeed:
    """A new secret iCal feed for ``schedule`` or for ``user``'s own shifts
    (exactly one of them). A person may make their own; configurators any."""
    if (schedule is None) == (user is None):
        raise DomainError("A feed is of a schedule or of a person.")
    feed = CalendarFeed(schedule=schedule, user=user, created_by=actor)
    if not permissions.can_manage_feed(actor, feed):
        raise NotPermitted("You may not make this calendar feed.")
    feed.save()
    return feed


@transaction.atomic
def calendar_feed_revoke(
    *, feed: CalendarFeed, actor, now: datetime | None = None
) -> CalendarFeed:
    """Revoke a feed: its URL answers 404 from now on."""
    if not permissions.can_manage_feed(actor, feed):
        raise NotPermitted("You may not revoke this calendar feed.")
    if feed.revoked_at is None:
        feed.revoked_at = now or timezone.now()
        feed.save(update_fields=["revoked_at"])
    return feed
