"""Teams, the service catalog, and the services an incident affects."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from incidentops.exceptions import DomainError
from incidents import permissions
from incidents import timeline_entries as entries
from incidents.models import (
    Incident,
    IncidentService,
    Service,
    Team,
    TeamMembership,
    alert_labels_problem,
)
from incidents.services.base import (
    _changed,
    _label,
    _lock,
    _require,
    _save,
    _tags,
)
from incidents.services.timeline import timeline_record

TEAM_FIELDS = ("name", "slug", "description", "manager", "members")
SERVICE_FIELDS = (
    "name",
    "slug",
    "description",
    "team",
    "tier",
    "runbook_url",
    "alert_labels",
    "depends_on",
)


def _slug_for(name: str, slug: str, limit: int) -> str:
    slug = (slug or "").strip() or slugify(name)
    if not slug:
        raise DomainError("A slug needs letters or digits.", field="slug")
    if slug != slugify(slug):
        raise DomainError(
            "A slug has only lower-case letters, digits and hyphens.", field="slug"
        )
    return slug[:limit]


def _unique(model, field: str, value, instance) -> None:
    others = model.objects.filter(**{field: value})
    if instance.pk:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise DomainError(
            f"Another {model._meta.verbose_name} already has the {field} {value!r}.",
            field=field,
            code="duplicate",
        )


def _check_people(manager, members) -> None:
    if manager is not None and not manager.is_human:
        raise DomainError(
            "A team's manager is an active person, not a service account.",
            field="manager",
        )
    for member in members or ():
        if not member.is_human:
            raise DomainError(
                f"{member.username} is a service account or inactive; a team's "
                "members are people.",
                field="members",
            )


def _set_members(team: Team, members, now: datetime) -> None:
    wanted = {member.pk: member for member in members}
    current = {m.user_id: m for m in team.memberships.all()}
    for user_id, membership in current.items():
        if user_id not in wanted:
            membership.delete()
    for user_id, member in wanted.items():
        if user_id not in current:
            TeamMembership.objects.create(team=team, user=member, joined_at=now)


def _set_fields(
    instance, fields: dict[str, Any], *, allowed, related: str, actor, slug_limit: int
):
    """Set ``fields`` on a team or service after the checks both share: no field
    outside ``allowed`` (``DomainError`` naming it), the actor may configure the
    catalog (``NotPermitted``), a name that is not blank once stripped and a
    valid slug (made from the name when none is given, at most ``slug_limit``
    characters). ``related`` (members, dependencies) is not set: its value is
    returned (None when not given) for the caller to check and set after the
    save."""
    what = instance._meta.verbose_name
    unknown = set(fields) - set(allowed)
    if unknown:
        name = sorted(unknown)[0]
        raise DomainError(f"{name} cannot be set on a {what}.", field=name)
    _require(
        permissions.can_configure_catalog(actor),
        f"You may not change {instance._meta.verbose_name_plural}.",
    )
    related_value = fields.pop(related, None)
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.name = (instance.name or "").strip()
    if not instance.name:
        raise DomainError(f"A {what} needs a name.", field="name")
    instance.slug = _slug_for(instance.name, instance.slug, slug_limit)
    return related_value


def _write_team(team: Team, fields: dict[str, Any], actor, now: datetime) -> Team:
    members = _set_fields(
        team, fields, allowed=TEAM_FIELDS, related="members", actor=actor, slug_limit=60
    )
    _unique(Team, "name", team.name, team)
    _unique(Team, "slug", team.slug, team)
    _check_people(team.manager, members)
    _save(team, actor)
    if members is not None:
        _set_members(team, list(members), now)
    return team


@transaction.atomic
def team_create(
    *,
    actor,
    name: str,
    slug: str = "",
    description: str = "",
    manager=None,
    members: Iterable | None = None,
    now: datetime | None = None,
) -> Team:
    """Create a team with its manager and members.

    ``slug`` defaults to the name's; ``members`` are users (people).
    Changes: a ``Team`` and a ``TeamMembership`` per member (history records
    ``actor``). Sends nothing.
    Raises: ``NotPermitted`` unless ``actor`` configures the catalog;
    ``DomainError`` for a blank name, a malformed or taken slug or name, or a
    service account as manager or member. Nothing is stored on error.
    """
    now = now or timezone.now()
    team = Team(name=name, slug=slug, description=description, created_at=now)
    return _write_team(
        team, {"manager": manager, "members": list(members or ())}, actor, now
    )


@transaction.atomic
def team_update(*, team: Team, actor, now: datetime | None = None, **fields) -> Team:
    """Change a team's ``name``, ``slug``, ``description``, ``manager`` or
    ``members`` (the whole list: who is missing leaves, who is new joins now).

    Changes: the team and its memberships (history records ``actor``).
    Raises: as ``team_create``; ``DomainError`` for any other field.
    """
    now = now or timezone.now()
    locked = Team.objects.select_for_update().get(pk=team.pk)
    return _write_team(locked, dict(fields), actor, now)


@transaction.atomic
def team_add_member(*, team: Team, actor, user, now: datetime | None = None):
    """Add ``user`` (a person) to ``team``; a member already is left as is.

    Returns the ``TeamMembership``. Raises: ``NotPermitted`` unless ``actor``
    configures the catalog; ``DomainError`` for a service account.
    """
    _require(permissions.can_configure_catalog(actor), "You may not change teams.")
    _check_people(None, [user])
    membership, _ = TeamMembership.objects.get_or_create(
        team=team, user=user, defaults={"joined_at": now or timezone.now()}
    )
    return membership


@transaction.atomic
def team_remove_member(*, team: Team, actor, user) -> bool:
    """Remove ``user`` from ``team``; returns whether they were a member.

    Raises: ``NotPermitted`` unless ``actor`` configures the catalog.
    """
    _require(permissions.can_configure_catalog(actor), "You may not change teams.")
    deleted, _ = TeamMembership.objects.filter(team=team, user=user).delete()
    return bool(deleted)


def _check_dependencies(service: Service, depends_on: list[Service]) -> None:
    """Refuse a service depending on itself, directly or through others."""
    if service.pk is None:
        return
    seen: set[int] = set()
    frontier = [s.pk for s in depends_on]
    while frontier:
        if service.pk in frontier:
            raise DomainError(
                f"{service.name} cannot depend on itself, directly or through "
                "the services it depends on.",
                field="depends_on",
            )
        seen.update(frontier)
        frontier = [
            pk
            for pk in Service.depends_on.through.objects.filter(
                from_service_id__in=frontier
            ).values_list("to_service_id", flat=True)
            if pk not in seen
        ]


def _write_service(service: Service, fields: dict[str, Any], actor) -> Service:
    depends_on = _set_fields(
        service,
        fields,
        allowed=SERVICE_FIELDS,
        related="depends_on",
        actor=actor,
        slug_limit=100,
    )
    if service.tier not in Service.Tier.values:
        raise DomainError("The tier is 1 (most critical) to 4.", field="tier")
    labels = service.alert_labels if service.alert_labels is not None else {}
    problem = alert_labels_problem(labels)
    if problem:
        raise DomainError(problem, field="alert_labels")
    service.alert_labels = {str(k).strip(): str(v) for k, v in labels.items()}
    _unique(Service, "name", service.name, service)
    _unique(Service, "slug", service.slug, service)
    if depends_on is not None:
        depends_on = list(depends_on)
        _check_dependencies(service, depends_on)
    _save(service, actor)
    if depends_on is not None:
        service.depends_on.set(depends_on)
    return service


@transaction.atomic
def service_create(
    *,
    actor,
    name: str,
    slug: str = "",
    description: str = "",
    team: Team | None = None,
    tier: int = Service.Tier.TIER_3,
    runbook_url: str = "",
    alert_labels: dict | None = None,
    depends_on: Iterable[Service] = (),
    now: datetime | None = None,
) -> Service:
    """Add a service to the catalog.

    ``tier`` 1 (most critical) to 4; ``alert_labels`` a JSON object of label
    names to text that identifies the service in alerts (an alert carrying all
    of them is about it); ``depends_on`` the services it needs.
    Changes: a ``Service`` (history records ``actor``) and its dependencies.
    Sends nothing.
    Raises: ``NotPermitted`` unless ``actor`` configures the catalog;
    ``DomainError`` for a blank name, a malformed or taken slug or name, a tier
    outside 1–4, labels that are not an object of text values. Nothing is
    stored on error.
    """
    service = Service(
        name=name,
        slug=slug,
        description=description,
        team=team,
        tier=tier,
        runbook_url=runbook_url,
        alert_labels=alert_labels or {},
        created_at=now or timezone.now(),
    )
    return _write_service(service, {"depends_on": list(depends_on)}, actor)


@transaction.atomic
def service_update(*, service: Service, actor, **fields) -> Service:
    """Change any of a service's ``name``, ``slug``, ``description``, ``team``,
    ``tier``, ``runbook_url``, ``alert_labels`` or ``depends_on`` (the whole
    list).

    Raises: as ``service_create``; ``DomainError`` when the dependencies would
    make it depend on itself, or for any other field.
    """
    locked = Service.objects.select_for_update().get(pk=service.pk)
    return _write_service(locked, dict(fields), actor)


def _describe(services: Iterable[Service]) -> list[dict]:
    return [
        {
            "slug": s.slug,
            "name": s.name,
            "tier": s.tier,
            "team": s.team.slug if s.team_id else None,
        }
        for s in services
    ]


def _summary_names(services: list[Service]) -> str:
    return ", ".join(
        f"{s.name} (tier {s.tier}" + (f", {s.team.name})" if s.team_id else ")")
        for s in services
    )


def _sync_tags(incident: Incident, services_now: list[Service], removed, actor):
    """Keep the linked services' slugs among ``affected_services``."""
    tags = [t for t in incident.affected_services or () if t not in removed]
    tags = _tags([*tags, *(s.slug for s in services_now)])
    if tags != list(incident.affected_services or ()):
        incident.affected_services = tags
        if incident.reference.startswith("~"):
            # An alert's incident before its reference is drawn: its history
            # is written once, by ``incident_number``.
            incident.skip_history_when_saving = True
            incident.save(update_fields=["affected_services"])
            del incident.skip_history_when_saving
        else:
            _save(incident, actor, update_fields=["affected_services"])


def _link(
    *,
    incident: Incident,
    services: Iterable[Service],
    actor,
    source: str,
    now: datetime,
    reason: str = "",
    record=None,
) -> list[Service]:
    """Link the services not linked yet, with one timeline entry; the caller
    holds the incident's lock and checked the permission. ``record(entry)``
    (a ``timeline_entries.services`` entry), when given, writes it (alert ingestion appends to a chain
    whose tail it tracks)."""
    linked = set(incident.service_links.values_list("service_id", flat=True))
    new = []
    for service in services:
        if service.pk in linked:
            continue
        linked.add(service.pk)
        new.append(service)
    if not new:
        return []
    IncidentService.objects.bulk_create(
        [
            IncidentService(
                incident=incident,
                service=service,
                source=source,
                linked_at=now,
                linked_by=actor,
            )
            for service in new
        ]
    )
    _sync_tags(incident, new, (), actor)
    summary = f"{_label(actor)} linked {_summary_names(new)}"
    summary += f": {reason}" if reason else ""
    entry = entries.services(
        summary=summary, linked=_describe(new), source=source, reason=reason
    )
    if record is not None:
        record(entry)
    else:
        timeline_record(incident=incident, actor=actor, occurred_at=now, entry=entry)
    return new


def alert_link_services(
    *,
    incident: Incident,
    actor,
    labels_list: Iterable[dict],
    now: datetime,
    record,
    candidates: list[Service] | None = None,
) -> list[Service]:
    """For alert ingestion, which holds the incident's row lock: link the
    catalog services these alerts' labels identify (source ``alert``) among
    ``candidates`` (as ``services_for_alert_labels``), the timeline entry
    written through ``record(entry)``. Returns the services newly linked.
    Sends nothing (ingestion's own follow-up tells)."""
    found = services_for_alert_labels(labels_list, candidates)
    if not found:
        return []
    reason = "; ".join(
        "alert labels " + ", ".join(f"{k}={v}" for k, v in s.alert_labels.items())
        for s in found
    )
    return _link(
        incident=incident,
        services=found,
        actor=actor,
        source=IncidentService.Source.ALERT,
        now=now,
        reason=f"matched {reason}",
        record=record,
    )


@transaction.atomic
def incident_link_services(
    *,
    incident: Incident,
    actor,
    services: Iterable[Service],
    source: str = IncidentService.Source.EDIT,
    reason: str = "",
    now: datetime | None = None,
    check_permission: bool = True,
) -> list[Service]:
    """Record that ``incident`` affects ``services`` (those not linked yet).

    ``source`` says how (declare, alert, edit); ``reason`` why, for the
    timeline (e.g. the alert labels that matched).
    Changes: one ``IncidentService`` per new service, the services' slugs
    added to ``affected_services``, one ``services`` timeline entry naming
    them with their tier and team. Returns the services newly linked (none:
    nothing written).
    Sends: ``incident_changed("services")`` when something was linked.
    Raises: ``NotPermitted`` if ``actor`` may not edit the incident (not
    checked for the system's own links: ``check_permission=False``).
    """
    if check_permission:
        _require(
            permissions.can_link_services(actor, incident),
            "You may not change this incident's services.",
        )
    locked = _lock(incident)
    new = _link(
        incident=locked,
        services=list(services),
        actor=actor,
        source=source,
        now=now or timezone.now(),
        reason=reason,
    )
    if new:
        incident.affected_services = locked.affected_services
        _changed(incident, "services", actor, {"linked": [s.slug for s in new]})
    return new


def _links_follow_tags(*, incident: Incident, actor, now: datetime) -> None:
    """After a person edited ``affected_services`` (the caller holds the lock):
    link the catalog services the tags name, unlink those they no longer name."""
    wanted = services_named(incident.affected_services)
    _set_links(incident=incident, actor=actor, wanted=wanted, now=now)


def _set_links(
    *, incident: Incident, actor, wanted: list[Service], now: datetime
) -> tuple[list[Service], list[Service]]:
    wanted_by_pk = {s.pk: s for s in wanted}
    gone = list(
        incident.service_links.exclude(service_id__in=wanted_by_pk)
        .select_related("service__team")
        .order_by("service__tier", "service__name")
    )
    removed = [link.service for link in gone]
    if gone:
        IncidentService.objects.filter(pk__in=[link.pk for link in gone]).delete()
        _sync_tags(incident, [], {s.slug for s in removed}, actor)
        timeline_record(
            incident=incident,
            actor=actor,
            occurred_at=now,
            entry=entries.services(
                summary=f"{_label(actor)} removed {_summary_names(removed)}",
                unlinked=_describe(removed),
            ),
        )
    new = _link(
        incident=incident,
        services=wanted_by_pk.values(),
        actor=actor,
        source=IncidentService.Source.EDIT,
        now=now,
    )
    return new, removed


@transaction.atomic
def incident_set_services(
    *,
    incident: Incident,
    actor,
    services: Iterable[Service],
    now: datetime | None = None,
) -> Incident:
    """Make ``services`` exactly the services ``incident`` affects.

    Changes: links the new ones (as ``incident_link_services``), removes the
    links of the others and their slugs from ``affected_services``, and one
    timeline entry per direction. Sends ``incident_changed("services")`` when
    something changed.
    Raises: ``NotPermitted`` if ``actor`` may not edit the incident.
    """
    _require(
        permissions.can_link_services(actor, incident),
        "You may not change this incident's services.",
    )
    now = now or timezone.now()
    locked = _lock(incident)
    new, removed = _set_links(
        incident=locked, actor=actor, wanted=list(services), now=now
    )
    incident.affected_services = locked.affected_services
    if new or removed:
        _changed(
            incident,
            "services",
            actor,
            {
                "linked": [s.slug for s in new],
                "unlinked": [s.slug for s in removed],
            },
        )
    return incident


def services_named(names: Iterable[str]) -> list[Service]:
    """The catalog services among ``names`` (tags typed by a person or an
    import): matched by slug, or by name ignoring case. Unknown names are
    left out (they stay tags)."""
    names = [str(n).strip() for n in names or () if str(n).strip()]
    if not names:
        return []
    query = Q(slug__in={slugify(n) for n in names})
    for name in names:
        query |= Q(name__iexact=name)
    return list(Service.objects.filter(query).select_related("team"))


def services_by_slug(slugs: Iterable[str]) -> list[Service]:
    """The services with these slugs, in the order given.

    Raises: ``DomainError`` (field ``services``) naming any unknown slug.
    """
    slugs = list(dict.fromkeys(str(s).strip() for s in slugs or ()))
    found = {s.slug: s for s in Service.objects.filter(slug__in=slugs)}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise DomainError(
            "Unknown service(s): " + ", ".join(unknown) + ".",
            field="services",
            code="unknown_service",
        )
    return [found[s] for s in slugs]


def services_with_alert_labels() -> list[Service]:
    """Every catalog service that names alert labels, with its team."""
    return list(Service.objects.exclude(alert_labels={}).select_related("team"))


def services_for_alert_labels(
    labels_list: Iterable[dict], candidates: list[Service] | None = None
) -> list[Service]:
    """The catalog services any of these alerts' labels identify, among
    ``candidates`` (default: ``services_with_alert_labels()``, read now)."""
    if candidates is None:
        candidates = services_with_alert_labels()
    if not candidates:
        return []
    found: dict[int, Service] = {}
    for labels in labels_list:
        text = {str(k): str(v) for k, v in (labels or {}).items()}
        for service in candidates:
            if service.pk not in found and service.matches(text):
                found[service.pk] = service
    return sorted(found.values(), key=lambda s: (s.tier, s.name))
