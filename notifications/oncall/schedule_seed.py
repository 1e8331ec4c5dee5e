"""Demo on-call schedules: a primary and a secondary per demo team (idempotent;
touches only what it creates: a schedule whose name is taken is left alone)."""

from datetime import date, time

from django.contrib.auth import get_user_model

from incidents.models import Team
from notifications.oncall.schedule_models import (
    LayerParticipant,
    Schedule,
    ScheduleLayer,
)

# A Monday: the rotations run on from here.
ROTATION_START = date(2026, 1, 5)
NIGHTS = [
    {
        "type": "daily_restriction",
        "start_time_of_day": "18:00:00",
        "duration_seconds": 15 * 3600,
    }
]


def _schedule(name, *, team, description, layers) -> Schedule | None:
    if Schedule.objects.filter(name=name).exists():
        return None
    wanted = {username for _n, usernames, *_ in layers for username in usernames}
    users = get_user_model().objects.in_bulk(wanted, field_name="username")
    if len(users) != len(wanted):
        return None  # the demo accounts are missing
    schedule = Schedule.objects.create(
        name=name, time_zone="Europe/London", team=team, description=description
    )
    for priority, (layer_name, usernames, unit, restrictions) in enumerate(
        layers, start=1
    ):
        layer = ScheduleLayer.objects.create(
            schedule=schedule,
            name=layer_name,
            priority=priority,
            start_date=ROTATION_START,
            handoff_time=time(9, 0),
            length_unit=unit,
            length_count=1,
            restrictions=restrictions,
        )
        LayerParticipant.objects.bulk_create(
            LayerParticipant(layer=layer, user=users[username], position=position)
            for position, username in enumerate(usernames)
        )
    return schedule


def seed_schedules(*, stdout) -> None:
    """Per demo team: "<Team> primary" (a weekly rotation of its members, Monday
    09:00 London, with a nightly layer on top for the platform team) and
    "<Team> secondary" (the same people one week later)."""
    created = []
    for team in Team.objects.filter(slug__in=["checkout", "platform"]).order_by("slug"):
        members = list(
            team.memberships.filter(
                user__is_active=True, user__is_service_account=False
            )
            .order_by("user__username")
            .values_list("user__username", flat=True)
        )
        if len(members) < 2:
            continue
        primary_layers = [("Weekly", members, ScheduleLayer.Length.WEEKLY, [])]
        if team.slug == "platform":
            primary_layers.append(
                ("Nights", members[::-1], ScheduleLayer.Length.DAILY, NIGHTS)
            )
        for name, description, layers in (
            (
                f"{team.name} primary",
                f"First to be paged for {team.name}'s services.",
                primary_layers,
            ),
            (
                f"{team.name} secondary",
                f"Paged when {team.name}'s primary does not acknowledge.",
                [
                    (
                        "Weekly",
                        members[1:] + members[:1],
                        ScheduleLayer.Length.WEEKLY,
                        [],
                    )
                ],
            ),
        ):
            if _schedule(name, team=team, description=description, layers=layers):
                created.append(name)
    if created:
        stdout.write(f"On-call schedules: {', '.join(created)}")
