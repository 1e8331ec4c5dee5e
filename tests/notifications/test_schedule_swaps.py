"""Shift swaps: asked by a participant, accepted by the other, which makes a pair
of overrides; and their refusals."""

from datetime import UTC, date, datetime

import pytest

from incidentops import groups
from incidentops.exceptions import Conflict, DomainError, NotPermitted
from notifications.models import ShiftSwap
from notifications.oncall import schedule_services as services
from notifications.oncall.schedules import oncall_users
from tests.factories import UserFactory
from tests.notifications.schedule_factories import make_layer, make_schedule, utc

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 20, tzinfo=UTC)


def ask(schedule, requester, counterpart, start, end, **returned):
    """``requester`` asks ``counterpart`` to take ``start``..``end`` (at ``NOW``),
    with ``return_start``/``return_end`` for a period given back."""
    return services.swap_request(
        schedule=schedule,
        requester=requester,
        counterpart=counterpart,
        start=start,
        end=end,
        now=NOW,
        **returned,
    )


@pytest.fixture
def team(db):
    ann, ben, cat = (
        UserFactory(username=name, groups=[groups.RESPONDERS])
        for name in ("ann", "ben", "cat")
    )
    schedule = make_schedule(time_zone="Europe/London")
    # Weekly from Monday 23 March 09:00: ann, then ben from 30 March 08:00 UTC
    # (09:00 BST), then cat from 6 April 08:00 UTC.
    make_layer(schedule, [ann, ben, cat], start_date=date(2026, 3, 23))
    return schedule, ann, ben, cat


def test_accepted_swap_becomes_an_override_pair(team):
    schedule, ann, ben, _cat = team
    # given ann asks ben to take a day of her week, taking a day of his in return
    swap = ask(
        schedule,
        ann,
        ben,
        utc(2026, 3, 25, 9),
        utc(2026, 3, 26, 9),
        return_start=utc(2026, 4, 1, 8),
        return_end=utc(2026, 4, 2, 8),
    )
    assert oncall_users(schedule, utc(2026, 3, 25, 12)) == [ann]
    # when ben accepts
    services.swap_accept(swap=swap, actor=ben, now=NOW)
    # then
    swap.refresh_from_db()
    assert swap.status == ShiftSwap.Status.ACCEPTED
    assert sorted((o.user.username, o.start, o.end) for o in swap.overrides.all()) == [
        ("ann", utc(2026, 4, 1, 8), utc(2026, 4, 2, 8)),
        ("ben", utc(2026, 3, 25, 9), utc(2026, 3, 26, 9)),
    ]
    assert oncall_users(schedule, utc(2026, 3, 25, 12)) == [ben]
    assert oncall_users(schedule, utc(2026, 4, 1, 12)) == [ann]
    assert oncall_users(schedule, utc(2026, 4, 2, 12)) == [ben]


def test_a_one_way_swap_is_one_override(team):
    schedule, ann, ben, _cat = team
    swap = ask(
        schedule,
        ann,
        ben,
        utc(2026, 3, 25, 9),
        utc(2026, 3, 25, 17),
    )
    services.swap_accept(swap=swap, actor=ben, now=NOW)
    assert swap.overrides.count() == 1
    assert oncall_users(schedule, utc(2026, 3, 25, 16, 59)) == [ben]
    assert oncall_users(schedule, utc(2026, 3, 25, 17)) == [ann]


def test_only_the_person_asked_accepts_and_only_once(team):
    schedule, ann, ben, cat = team
    swap = ask(
        schedule,
        ann,
        ben,
        utc(2026, 3, 25, 9),
        utc(2026, 3, 25, 17),
    )
    with pytest.raises(NotPermitted):
        services.swap_accept(swap=swap, actor=cat, now=NOW)
    with pytest.raises(NotPermitted):
        services.swap_accept(swap=swap, actor=ann, now=NOW)
    services.swap_accept(swap=swap, actor=ben, now=NOW)
    with pytest.raises(Conflict):
        services.swap_accept(swap=swap, actor=ben, now=NOW)
    with pytest.raises(Conflict):
        services.swap_decline(swap=swap, actor=ben, now=NOW)
    assert swap.overrides.count() == 1


def test_a_declined_or_cancelled_swap_changes_nothing(team):
    schedule, ann, ben, _cat = team
    kwargs = dict(
        schedule=schedule,
        requester=ann,
        counterpart=ben,
        start=utc(2026, 3, 25, 9),
        end=utc(2026, 3, 25, 17),
        now=NOW,
    )
    declined = services.swap_request(**kwargs)
    services.swap_decline(swap=declined, actor=ben, now=NOW)
    cancelled = services.swap_request(**kwargs)
    services.swap_cancel(swap=cancelled, actor=ann, now=NOW)
    assert schedule.overrides.count() == 0
    assert oncall_users(schedule, utc(2026, 3, 25, 12)) == [ann]


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        # the period runs into ben's week (from 30 March 08:00 UTC)
        (utc(2026, 3, 29, 9), utc(2026, 3, 30, 9), "not the one on call"),
        (utc(2026, 3, 19, 9), utc(2026, 3, 19, 17), "already started"),
        (utc(2026, 3, 25, 17), utc(2026, 3, 25, 9), "after the start"),
    ],
)
def test_a_swap_of_a_shift_not_yours_is_refused(team, start, end, reason):
    schedule, ann, ben, _cat = team
    with pytest.raises(DomainError, match=reason):
        ask(
            schedule,
            ann,
            ben,
            start,
            end,
        )
    assert ShiftSwap.objects.count() == 0


def test_the_return_shift_must_be_the_counterparts(team):
    schedule, ann, ben, _cat = team
    with pytest.raises(DomainError, match="offered in return"):
        services.swap_request(
            schedule=schedule,
            requester=ann,
            counterpart=ben,
            start=utc(2026, 3, 25, 9),
            end=utc(2026, 3, 25, 17),
            return_start=utc(2026, 4, 7, 9),  # cat's week
            return_end=utc(2026, 4, 7, 17),
            now=NOW,
        )


def test_only_participants_ask_for_swaps(team):
    schedule, ann, _ben, _cat = team
    outsider = UserFactory(username="olly", groups=[groups.RESPONDERS])
    with pytest.raises(NotPermitted):
        ask(
            schedule,
            outsider,
            ann,
            utc(2026, 3, 25, 9),
            utc(2026, 3, 25, 17),
        )


def test_accepting_after_the_schedule_changed_is_refused(team):
    schedule, ann, ben, cat = team
    swap = ask(
        schedule,
        ann,
        ben,
        utc(2026, 3, 25, 9),
        utc(2026, 3, 25, 17),
    )
    services.override_create(
        schedule=schedule,
        user=cat,
        start=utc(2026, 3, 25, 10),
        end=utc(2026, 3, 25, 11),
        actor=None,
    )
    with pytest.raises(DomainError, match="no longer on call"):
        services.swap_accept(swap=swap, actor=ben, now=NOW)
    swap.refresh_from_db()
    assert swap.status == ShiftSwap.Status.REQUESTED
