"""Who should take a role: the suggestions ``incidents`` shows on an incident.

Registered in ``NotificationsConfig.ready()`` as the ``oncall`` role
suggestion provider (``incidents.providers``). It lives here because it reads
schedules. For the commander (while nobody commands) and each role the applied
playbooks require that nobody holds, in this order:

0. for the commander: whoever acknowledged the incident (answered its page),
   the person already on it;
1. whoever is on call now on a schedule of a team that owns one of the
   incident's services (services by tier, most critical first);
2. members of those teams who held that role before, most often first (counted
   over the incidents the person looking may see);
3. the other members of those teams, when fewer than ``PER_ROLE`` were found.

Each with a plain reason. Only active people who may see the incident are
suggested (a restricted incident: only those granted on it); service accounts
never (control 1). Nothing is written and nobody is assigned.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from django.db.models import Count, Max
from django.utils import timezone

from incidents import permissions
from incidents.models import COMMANDER, Incident, Role, RoleAssignment, TeamMembership
from incidents.providers import RoleSuggestion
from notifications.oncall.schedule_models import Schedule
from notifications.oncall.schedules import oncall_for

PER_ROLE = 3


@dataclass
class _Team:
    team: object
    services: list[str]

    @property
    def owns(self) -> str:
        return ", ".join(self.services)


def _roles(incident: Incident) -> list[Role]:
    roles = []
    if incident.commander is None:
        commander = Role.objects.filter(slug=COMMANDER).first()
        if commander is not None:
            roles.append(commander)
    roles += [r for r in incident.missing_roles() if r.slug != COMMANDER]
    return roles


def _teams(incident: Incident) -> OrderedDict[int, _Team]:
    teams: OrderedDict[int, _Team] = OrderedDict()
    links = incident.service_links.select_related("service__team").order_by(
        "service__tier", "service__name"
    )
    for link in links:
        team = link.service.team
        if team is None:
            continue
        teams.setdefault(team.pk, _Team(team=team, services=[]))
        teams[team.pk].services.append(link.service.name)
    return teams


def _on_call(teams: OrderedDict[int, _Team], now) -> list[tuple[object, str]]:
    """(person, reason) for everyone on call now for the teams, in team order."""
    schedules = list(
        Schedule.objects.filter(team_id__in=list(teams)).order_by("team_id", "name")
    )
    if not schedules:
        return []
    answers = oncall_for(schedules, now)
    found = []
    for team_id, entry in teams.items():
        for schedule in schedules:
            if schedule.team_id != team_id:
                continue
            for oncall in answers.get(schedule.pk, []):
                found.append(
                    (
                        oncall.user,
                        f"On call now for {entry.team.name} ({schedule.name}), "
                        f"which owns {entry.owns}",
                    )
                )
    return found


def _past_holders(role: Role, members: dict[int, tuple], viewer, incident) -> list:
    rows = (
        RoleAssignment.objects.filter(
            role=role,
            user_id__in=list(members),
            incident__in=Incident.objects.visible_to(viewer),
        )
        .exclude(incident=incident)
        .values("user_id")
        .annotate(times=Count("incident", distinct=True), last=Max("started_at"))
        .order_by("-times", "-last")
    )
    found = []
    for row in rows:
        person, entry = members[row["user_id"]]
        times = row["times"]
        found.append(
            (
                person,
                f"Member of {entry.team.name} (owns {entry.owns}); "
                f"{role.name.lower()} on {times} earlier incident"
                f"{'s' if times != 1 else ''}, last on {row['last']:%-d %b %Y}",
            )
        )
    return found


def _acknowledger(incident: Incident) -> list[tuple[object, str]]:
    person = incident.acknowledged_by if incident.acknowledged_at else None
    if person is None:
        return []
    return [
        (
            person,
            f"Acknowledged {incident.reference} at "
            f"{incident.acknowledged_at:%H:%M} UTC",
        )
    ]


class OnCallRoleSuggestions:
    """The ``oncall`` provider (see the module docstring)."""

    def suggest_roles(self, incident, user) -> list[RoleSuggestion]:
        if not incident.is_open:
            return []
        roles = _roles(incident)
        teams = _teams(incident)
        acknowledged = _acknowledger(incident)
        if not roles or not (teams or acknowledged):
            return []
        now = timezone.now()
        on_call = _on_call(teams, now)
        members: dict[int, tuple] = {}
        for membership in (
            TeamMembership.objects.filter(team_id__in=list(teams))
            .select_related("user")
            .order_by("user__first_name", "user__username")
        ):
            members.setdefault(
                membership.user_id, (membership.user, teams[membership.team_id])
            )
        allowed: dict[int, bool] = {}

        def fits(person) -> bool:
            if person.pk not in allowed:
                allowed[person.pk] = bool(
                    person.is_human and permissions.can_view(person, incident)
                )
            return allowed[person.pk]

        suggestions = []
        for role in roles:
            candidates = [
                *(acknowledged if role.slug == COMMANDER else ()),
                *on_call,
                *_past_holders(role, members, user, incident),
                *(
                    (
                        person,
                        f"Member of {entry.team.name}, which owns {entry.owns}",
                    )
                    for person, entry in members.values()
                ),
            ]
            chosen: OrderedDict[int, RoleSuggestion] = OrderedDict()
            for person, reason in candidates:
                if len(chosen) >= PER_ROLE:
                    break
                if person.pk in chosen or not fits(person):
                    continue
                chosen[person.pk] = RoleSuggestion(
                    role=role.slug, user=person, reason=reason
                )
            suggestions += chosen.values()
        return suggestions
