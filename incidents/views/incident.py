"""The incident page: what it shows and who may do what on it."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.mixins import LoginRequiredMixin
from django.utils import timezone
from django.views.generic import TemplateView

from incidentops.timezones import org_localtime, org_zone_name
from incidents import permissions, providers
from incidents.forms import (
    UPDATE_PLACEHOLDERS,
    ActionCreateForm,
    AssignRoleForm,
    ConfirmSeverityForm,
    CorrectTimesForm,
    IncidentTypeForm,
    LinkForm,
    MarkDuplicateForm,
    NoteForm,
    RegulatoryNotificationForm,
    RestrictionForm,
    StakeholderUpdateForm,
    TransitionForm,
)
from incidents.live import LivePageMixin, incident_revision
from incidents.models import (
    COMMANDER,
    Incident,
    IncidentLink,
    Role,
    RoleRequest,
    TimelineEntry,
)
from incidents.triage import visible_rationale, visible_similar


def _stakeholder_template(incident: Incident, *, now: datetime) -> str:
    """A stakeholder update pre-filled from the incident, for a person to edit."""
    severity = (
        f"{incident.severity.code} {incident.severity.name}"
        if incident.severity
        else "not yet confirmed"
    )
    commander = incident.commander
    flags = [
        label
        for flag, label in (
            (incident.customer_facing, "customer-facing"),
            (incident.data_exposed, "data exposed"),
            (incident.regulatory, "regulatory"),
        )
        if flag
    ]
    impact = incident.impact or (", ".join(flags).capitalize() if flags else "")
    cadence = incident.severity.update_cadence if incident.severity else None
    if cadence:
        # Labelled with the zone's name, as the footer names it, not an
        # abbreviation (GMT/BST) that changes with the season.
        zone = org_zone_name()
        local = org_localtime(now + cadence)
        next_update = f"by {local:%H:%M on %d %b} ({zone} time)"
    else:
        next_update = "when there is news"
    return (
        f"What happened: {incident.title}."
        + (f" {incident.description}" if incident.description else "")
        + f"\nImpact: {impact or UPDATE_PLACEHOLDERS[0]}"
        + f"\nCurrent status: {incident.get_status_display()}, severity {severity}"
        + (f", commander {commander.get_full_name() or commander}" if commander else "")
        + "."
        + f"\nNext steps: {UPDATE_PLACEHOLDERS[1]}"
        + f"\nNext update: {next_update}."
    )


def _resolve_warning(incident: Incident, actions, missing_roles) -> str:
    """What the resolve button will ask about ("3 open actions, 1 required role
    unfilled"), or "" when resolving will not ask."""
    if Incident.Status.RESOLVED not in incident.allowed_transitions:
        return ""
    open_count = sum(1 for action in actions if not action.is_finished)
    parts = []
    if open_count:
        parts.append(f"{open_count} open action{'s' if open_count > 1 else ''}")
    if missing_roles:
        count = len(missing_roles)
        parts.append(f"{count} required role{'s' if count > 1 else ''} unfilled")
    return ", ".join(parts)


def timeline_entries(incident: Incident, kind: str | None):
    """Newest first by when it happened, ties by sequence. An alert's entry can
    have happened (the alert's start) before earlier-numbered entries were
    recorded; the page shows each entry's number and, when it differs, when it
    was recorded."""
    entries = incident.timeline.select_related("actor").order_by(
        "-occurred_at", "-sequence"
    )
    if kind:
        entries = entries.filter(kind=kind)
    return fold_communications(list(entries))


OUTCOME_STATUSES = ("delivered", "failed", "partial", "resent")


def fold_communications(entries: list) -> list:
    """One line per communication: the entries that later record a message's
    delivery outcome (or a resend) are shown inside the entry that queued it
    (``entry.outcomes``, oldest first), not as lines of their own. The
    timeline itself stays append-only; this is only how it is shown."""
    queued = {
        entry.data.get("notification"): entry
        for entry in entries
        if entry.kind == TimelineEntry.Kind.COMMUNICATION
        and entry.data.get("notification")
        and entry.data.get("status") not in OUTCOME_STATUSES
    }
    shown = []
    for entry in entries:
        entry.outcomes = getattr(entry, "outcomes", [])
        first = queued.get(entry.data.get("notification"))
        if (
            first is not None
            and first is not entry
            and entry.data.get("status") in OUTCOME_STATUSES
        ):
            first.outcomes = [entry, *getattr(first, "outcomes", [])]
            continue
        shown.append(entry)
    return shown


def _role_suggestions(request, incident: Incident) -> tuple[list[dict], list]:
    """The open roles' suggestions (``providers.role_suggestions``), each with
    whether that person was asked already, and the requests waiting for the
    viewer's answer."""
    if not incident.is_open:
        return [], []
    waiting = list(
        incident.role_requests.filter(status=RoleRequest.Status.PENDING).select_related(
            "role", "user", "asked_by"
        )
    )
    asked = {(r.role.slug, r.user_id) for r in waiting}
    names = dict(Role.objects.values_list("slug", "name"))
    suggestions = [
        {
            "role": s.role,
            "role_name": names.get(s.role, s.role),
            "user": s.user,
            "reason": s.reason,
            "pending": (s.role, s.user.pk) in asked,
        }
        for s in providers.role_suggestions(incident, request.user)
    ]
    mine = [r for r in waiting if r.user_id == request.user.pk]
    return suggestions, mine


def _links_context(user, incident: Incident, can_mark_duplicate: bool) -> dict:
    """The links panel: links whose other incident ``user`` may see, the
    primary of a duplicate (or that it is one the viewer may not see), and the
    open look-alikes triage offered at declaration that are still open and
    visible, as candidates to mark this one a duplicate of."""
    links = IncidentLink.objects.seen_from(incident, user)
    primary = next(
        (
            link.other_incident
            for link in links
            if link.kind == IncidentLink.Kind.DUPLICATE_OF
            and link.direction == "outgoing"
        ),
        None,
    )
    offered = [
        row["reference"]
        for row in (incident.suggestion or {}).get("similar", [])
        if row.get("open")
    ]
    linked = {link.other_incident.pk for link in links}
    candidates = []
    if can_mark_duplicate and offered:
        candidates = [
            other
            for other in Incident.objects.visible_to(user)
            .open()
            .filter(reference__in=offered)
            .exclude(pk=incident.pk)
            .order_by("created_at")
            if other.pk not in linked
        ]
    return {
        "links": links,
        "duplicate_of": primary,
        "duplicate_of_hidden": incident.is_duplicate and primary is None,
        "duplicate_candidates": candidates,
    }


def incident_page_context(request, incident: Incident, **forms) -> dict:
    """Everything the incident page shows, for ``request.user``; ``forms`` replace
    the blank forms (a bound form with its errors after a refused POST)."""
    user = request.user
    now = timezone.now()
    current = list(incident.current_assignments())
    past = list(
        incident.assignments.filter(ended_at__isnull=False)
        .select_related("role", "user")
        .order_by("-ended_at")
    )
    kind = request.GET.get("kind") or ""
    applications = list(
        incident.playbook_applications.select_related("playbook").order_by("applied_at")
    )
    actions = list(
        incident.actions.select_related("owner", "role").order_by(
            "status", "due_at", "pk"
        )
    )
    missing_roles = list(incident.missing_roles())
    holder = incident.commander
    rights = _incident_rights(user, incident, current, holder)
    suggestions, my_role_requests = _role_suggestions(request, incident)
    similar = visible_similar(user, incident)
    context = {
        "incident": incident,
        "service_links": list(
            incident.service_links.select_related("service__team").order_by(
                "service__tier", "service__name"
            )
        ),
        "suggestion_rationale": visible_rationale(user, incident),
        "similar_incidents": similar,
        "similar_references": {row.reference for row in similar},
        "now": now,
        "commander": holder,
        "assignments": current,
        "past_assignments": past,
        "missing_roles": missing_roles,
        "role_suggestions": suggestions,
        "my_role_requests": my_role_requests,
        "can_ask_roles": permissions.can_request_role(user, incident),
        "resolve_warning": _resolve_warning(incident, actions, missing_roles),
        "applications": applications,
        "actions": actions,
        "updates": list(
            incident.stakeholder_updates.select_related("author").order_by(
                "-created_at"
            )[:5]
        ),
        "update_due_at": incident.next_update_due_at(),
        "deadline": incident.notification_deadline,
        "regulatory_notifications": list(
            incident.regulatory_notifications.select_related("notified_by")
        ),
        "timeline": timeline_entries(incident, kind),
        "timeline_kind": kind,
        "timeline_kinds": TimelineEntry.Kind.choices,
        # Who an update would reach, shown before it is sent (a provider:
        # notifications knows the lists).
        "update_audience": (
            providers.update_audience(incident)
            if rights["can_post_update"] and incident.is_open
            else None
        ),
        "transitions": [
            (status, Incident.Status(status).label)
            for status in incident.allowed_transitions
        ],
        "provided_panels": providers.render_panels(
            providers.Slot.INCIDENT, request=request, incident=incident
        ),
        **_links_context(user, incident, rights["can_mark_duplicate"]),
        **rights,
        **_incident_forms(user, incident, holder, now=now, can_edit=rights["can_edit"]),
    }
    context.update(forms)
    return context


def _incident_rights(user, incident: Incident, current: list, holder) -> dict:
    """What ``user`` may do on the incident page (``can_*``), from
    ``incidents.permissions``; ``current``: the incident's current assignments,
    ``holder``: its commander (or None)."""
    commander_role = (
        next((a.role for a in current if a.role.slug == COMMANDER), None)
        or Role.objects.filter(slug=COMMANDER).first()
    )
    return {
        "can_confirm": permissions.can_confirm_severity(user, incident),
        "can_transition": permissions.can_transition(user, incident),
        "can_assign": permissions.can_assign_role(user, incident),
        "can_acknowledge": (
            incident.acknowledged_at is None
            and incident.status not in Incident.ENDED_STATUSES
            and permissions.can_acknowledge(user, incident)
        ),
        "can_take_command": (
            commander_role is not None
            and (holder is None or holder.pk != user.pk)
            and incident.is_open
            and permissions.can_assign_role(
                user, incident, role=commander_role, assignee=user
            )
        ),
        "can_manage_actions": permissions.can_manage_actions(user, incident),
        "can_post_update": permissions.can_post_update(user, incident),
        "can_add_note": permissions.can_add_note(user, incident),
        "can_correct_times": permissions.can_correct_times(user, incident),
        "can_record_regulatory": permissions.can_record_regulatory_notification(
            user, incident
        ),
        "can_edit": permissions.can_edit(user, incident),
        "can_restrict": not incident.restricted
        and permissions.can_restrict(user, incident),
        "can_lift": incident.restricted
        and permissions.can_change_restriction(user, incident),
        "can_link": permissions.can_link(user, incident),
        "can_mark_duplicate": not incident.is_duplicate
        and permissions.can_mark_duplicate(user, incident),
    }


def _incident_forms(user, incident: Incident, holder, *, now, can_edit: bool) -> dict:
    """The incident page's blank forms, filled with the incident's values;
    ``holder``: its commander (or None)."""
    confirm_initial = incident.severity or incident.suggested_severity
    # The type select starts at the current type or, if none, triage's
    # suggestion (labelled as such in the template).
    type_initial = incident.incident_type or incident.suggested_type
    return {
        "confirm_form": ConfirmSeverityForm(
            initial={
                "severity": confirm_initial.code if confirm_initial else None,
                "incident_type": type_initial.slug if type_initial else None,
                # Nobody commands yet: the one confirming is offered command.
                "commander": (
                    holder.username
                    if holder
                    else user.username
                    if user.is_human
                    else None
                ),
                "start": True,
            },
            with_type=can_edit,
            with_start=incident.status == Incident.Status.TRIAGE,
        ),
        "type_is_suggestion": (
            incident.incident_type is None and type_initial is not None
        ),
        "type_form": IncidentTypeForm(
            initial={
                "incident_type": incident.incident_type.slug
                if incident.incident_type
                else None
            }
        ),
        "transition_form": TransitionForm(),
        "restriction_form": RestrictionForm(
            initial={"restricted": "false" if incident.restricted else "true"}
        ),
        "assign_form": AssignRoleForm(),
        "action_form": ActionCreateForm(),
        "update_form": StakeholderUpdateForm(
            initial={"body": _stakeholder_template(incident, now=now)}
        ),
        "note_form": NoteForm(),
        "link_form": LinkForm(),
        "duplicate_form": MarkDuplicateForm(),
        "regulatory_form": RegulatoryNotificationForm(
            initial={
                "authority": incident.notification_authority,
                "deadline_at": incident.notification_deadline,
                "notified_by": user.username if user.is_human else None,
            }
        ),
        "times_form": CorrectTimesForm(
            initial={
                "impact_started_at": incident.impact_start,
                "detected_at": incident.detected_at,
                "acknowledged_at": incident.acknowledged_at,
                "mitigated_at": incident.mitigated_at,
                "resolved_at": incident.resolved_at,
            }
        ),
    }


class IncidentMixin(LoginRequiredMixin):
    """Loads ``self.incident`` for the URL's reference, or 404 exactly as if it
    did not exist when the user may not see it."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.incident = permissions.get_visible_incident_or_404(
            request.user, reference=kwargs["reference"]
        )
        return super().dispatch(request, *args, **kwargs)


class IncidentDetailView(LivePageMixin, IncidentMixin, TemplateView):
    """The incident page. It polls itself every few seconds (``X-Live-Poll``, ETag
    from the incident's revision): ``304`` while nothing changed, else the whole
    page, of which ``static/js/app.js`` swaps the ``data-live-region`` parts the
    viewer is not editing."""

    template_name = "incidents/incident_detail.html"

    def live_parts(self):
        return (incident_revision(self.incident),)

    def get_template_names(self):
        # The timeline filter swaps only the timeline.
        if self.request.htmx and self.request.htmx.target == "timeline":
            return ["incidents/_timeline.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(incident_page_context(self.request, self.incident))
        return context
