"""The staff portal: status board, declare, incident page, my work.

Views read through ``Incident.objects.visible_to(user)`` and
``permissions.get_visible_incident_or_404`` and write only through
``incidents.services``; a ``DomainError`` from a service becomes a form error with
its reason, a success a message.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template import engines
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.generic import FormView, TemplateView, View

from incidentops.exceptions import DomainError
from incidents import permissions, services
from incidents.forms import (
    UPDATE_PLACEHOLDERS,
    ActionCreateForm,
    ActionUpdateForm,
    AssignRoleForm,
    BoardFilterForm,
    ConfirmSeverityForm,
    DeclareForm,
    IncidentTypeForm,
    NoteForm,
    StakeholderUpdateForm,
    TransitionForm,
)
from incidents.models import (
    COMMANDER,
    ActionItem,
    Incident,
    IncidentType,
    Role,
    RoleAssignment,
    SeverityLevel,
    TimelineEntry,
)
from incidents.triage import suggest_for, visible_rationale

OPEN_ACTION_STATUSES = (ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS)


def reviews_tag_available(tag: str) -> bool:
    """Whether the reviews app's ``reviews_tags`` template library has ``tag``.

    ``incidents`` may not import ``reviews``; the template engine knows which
    libraries are installed, so the portal includes a reviews panel only when
    the reviews app provides it (and links to /reviews/ otherwise)."""
    library = engines["django"].engine.template_libraries.get("reviews_tags")
    return library is not None and tag in library.tags


def favicon(request):
    """``/favicon.ico``, which browsers ask for on pages that name no icon (the
    admin, printable pages): a redirect to the static SVG. The static URL is
    resolved per request, since the storage's manifest is not read at import;
    temporary (302), because the hashed name changes with each deploy."""
    return HttpResponseRedirect(static("favicon.svg"))


# --- status board -------------------------------------------------------------


def board_incidents(user, filters: dict | None = None):
    """Active incidents ``user`` may see, filtered, with what the board shows
    annotated (open actions, last stakeholder update) in a fixed number of
    queries however many incidents there are."""
    filters = filters or {}
    incidents = (
        Incident.objects.visible_to(user)
        .active()
        .for_list()
        .with_last_update()
        .annotate(
            open_actions=Count(
                "actions",
                filter=Q(actions__status__in=OPEN_ACTION_STATUSES),
                distinct=True,
            ),
        )
    )
    severity = filters.get("severity")
    if severity == BoardFilterForm.UNCONFIRMED:
        incidents = incidents.filter(severity__isnull=True)
    elif severity:
        incidents = incidents.filter(severity__code=severity)
    if filters.get("incident_type"):
        incidents = incidents.filter(incident_type=filters["incident_type"])
    if filters.get("status"):
        incidents = incidents.filter(status=filters["status"])
    if filters.get("mine"):
        incidents = incidents.filter(
            Q(reporter=user)
            | Q(
                pk__in=RoleAssignment.objects.filter(
                    user=user, ended_at__isnull=True
                ).values("incident")
            )
            | Q(
                pk__in=ActionItem.objects.filter(
                    owner=user, status__in=OPEN_ACTION_STATUSES
                ).values("incident")
            )
        )
    if filters.get("q"):
        term = filters["q"].strip()
        incidents = incidents.filter(
            Q(title__icontains=term) | Q(reference__icontains=term)
        )
    return incidents.order_by("-created_at", "-pk")


def board_groups(incidents, *, now: datetime) -> list[dict]:
    """Rows grouped for the board: anything still in triage or without a
    confirmed severity first, then by severity, most severe first."""
    triage: list = []
    by_level: dict[int, dict] = {}
    for incident in incidents:
        due = incident.next_update_due_at()
        incident.update_due_at = due
        incident.update_overdue = bool(due and due < now)
        if incident.status == Incident.Status.TRIAGE or incident.severity is None:
            triage.append(incident)
            continue
        group = by_level.setdefault(
            incident.severity.rank,
            {
                "key": f"sev-{incident.severity.rank}",
                "level": incident.severity,
                "incidents": [],
            },
        )
        group["incidents"].append(incident)
    groups = []
    if triage:
        groups.append(
            {
                "key": "triage",
                "level": None,
                "title": "Unconfirmed — in triage",
                "incidents": triage,
            }
        )
    groups.extend(by_level[rank] for rank in sorted(by_level))
    return groups


class BoardView(LoginRequiredMixin, TemplateView):
    """``/``: active incidents grouped by severity; the table part re-renders
    every five seconds through ``board_live``."""

    template_name = "incidents/board.html"
    partial_template_name = "incidents/_board.html"

    def get_template_names(self):
        if self.request.htmx:
            return [self.partial_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        severities = list(SeverityLevel.objects.all())
        form = BoardFilterForm(self.request.GET or None, severities=severities)
        filters = form.cleaned_data if form.is_valid() else {}
        now = timezone.now()
        incidents = list(board_incidents(self.request.user, filters))
        context.update(
            filter_form=form,
            filtered=any(filters.values()),
            # Without the global view permission (e.g. Configurators) only
            # incidents granted to the user show: an empty board must not read
            # "nothing is happening". It says why, and counts nothing.
            sees_all_incidents=self.request.user.has_perm(permissions.VIEW),
            groups=board_groups(incidents, now=now),
            incident_count=len(incidents),
            now=now,
            query=self.request.GET.urlencode(),
        )
        return context


# --- declare ------------------------------------------------------------------


class DeclareView(LoginRequiredMixin, FormView):
    """``/incidents/new/``; 403 with an explanation for those who may not
    declare (``permissions.can_declare``), before they fill anything in."""

    template_name = "incidents/declare.html"
    forbidden_template_name = "incidents/declare_forbidden.html"
    form_class = DeclareForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not permissions.can_declare(request.user):
            return render(request, self.forbidden_template_name, status=403)
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        # Typing asks for a fresh suggestion (htmx, debounced); only the
        # triage inputs travel, never the CSRF token in a query string.
        live = {
            "hx-post": reverse("incidents:suggest"),
            "hx-include": "[data-triage]",
            "hx-target": "#suggestion",
            "hx-sync": "closest form:replace",
            "data-triage": "",
        }
        for name, field in form.fields.items():
            trigger = (
                "input changed delay:500ms"
                if name in ("title", "description", "impact")
                else "change"
            )
            if name != "restricted":
                field.widget.attrs.update(live, **{"hx-trigger": trigger})
        return form

    def form_valid(self, form):
        data = form.cleaned_data
        try:
            incident = services.incident_declare(
                actor=self.request.user,
                title=data["title"],
                description=data["description"],
                impact=data["impact"],
                incident_type=data["incident_type"],
                customer_facing=data["customer_facing"],
                data_exposed=data["data_exposed"],
                regulatory=data["regulatory"],
                # Unticked means "the type decides": a restricted-by-default type
                # stays restricted unless an incident manager lifts it later.
                restricted=True if data["restricted"] else None,
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"{incident.reference} declared. Confirm its severity and take command "
            "to start the response.",
        )
        return redirect(incident.get_absolute_url())


class SuggestView(LoginRequiredMixin, View):
    """The triage suggestion for the declare form as it is typed. Stores nothing.

    A POST (CSRF header from base.html): a restricted declaration's title and
    description must not land in URLs and access logs."""

    def post(self, request):
        form = DeclareForm(request.POST)
        form.is_valid()  # the suggestion works from whatever is there
        data = {
            name: form.cleaned_data.get(name, "")
            for name in ("title", "description", "impact")
        }
        context = {"suggestion": None}
        if any(value.strip() for value in data.values() if value):
            chosen_type = form.cleaned_data.get("incident_type")
            suggestion = suggest_for(
                title=data["title"] or "",
                description=data["description"] or "",
                impact=data["impact"] or "",
                customer_facing=bool(form.cleaned_data.get("customer_facing")),
                data_exposed=bool(form.cleaned_data.get("data_exposed")),
                regulatory=bool(form.cleaned_data.get("regulatory")),
                incident_type=chosen_type.slug if chosen_type else None,
                user=request.user,
            )
            levels = {level.code: level for level in SeverityLevel.objects.all()}
            context.update(
                suggested_type=IncidentType.objects.filter(
                    slug=suggestion.incident_type
                ).first()
                if suggestion.incident_type
                else None,
                suggestion=suggestion,
                level=levels.get(suggestion.severity),
                similar=[
                    {"item": item, "level": levels.get(item.severity)}
                    for item in suggestion.similar
                ],
                confidence_percent=round(suggestion.confidence * 100),
            )
        return render(request, "incidents/_suggestion.html", context)


# --- the incident page ----------------------------------------------------------


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
        zone = settings.INCIDENTOPS_TIME_ZONE
        local = timezone.localtime(now + cadence, ZoneInfo(zone))
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
    return entries


def incident_page_context(request, incident: Incident, **forms) -> dict:
    """Everything the incident page shows, for ``request.user``; ``forms`` replace
    the blank forms (a bound form with its errors after a refused POST)."""
    user = request.user
    now = timezone.now()
    commander_role_holder = incident.commander
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
    commander_role = (
        next((a.role for a in current if a.role.slug == COMMANDER), None)
        or Role.objects.filter(slug=COMMANDER).first()
    )
    can_take_command = (
        commander_role is not None
        and (commander_role_holder is None or commander_role_holder.pk != user.pk)
        and incident.is_open
        and permissions.can_assign_role(
            user, incident, role=commander_role, assignee=user
        )
    )
    confirm_initial = incident.severity or incident.suggested_severity
    can_edit = permissions.can_edit(user, incident)
    # The type select starts at the current type or, if none, triage's
    # suggestion (labelled as such in the template).
    type_initial = incident.incident_type or incident.suggested_type
    type_is_suggestion = incident.incident_type is None and type_initial is not None
    context = {
        "incident": incident,
        "suggestion_rationale": visible_rationale(user, incident),
        "now": now,
        "commander": commander_role_holder,
        "assignments": current,
        "past_assignments": past,
        "missing_roles": list(incident.missing_roles()),
        "applications": applications,
        "actions": list(
            incident.actions.select_related("owner", "role").order_by(
                "status", "due_at", "pk"
            )
        ),
        "updates": list(
            incident.stakeholder_updates.select_related("author").order_by(
                "-created_at"
            )[:5]
        ),
        "update_due_at": incident.next_update_due_at(),
        "deadline": incident.notification_deadline,
        "timeline": timeline_entries(incident, kind),
        "timeline_kind": kind,
        "timeline_kinds": TimelineEntry.Kind.choices,
        "can_confirm": permissions.can_confirm_severity(user, incident),
        "can_transition": permissions.can_transition(user, incident),
        "can_assign": permissions.can_assign_role(user, incident),
        "can_take_command": can_take_command,
        "can_manage_actions": permissions.can_manage_actions(user, incident),
        "can_post_update": permissions.can_post_update(user, incident),
        "can_add_note": permissions.can_add_note(user, incident),
        "transitions": [
            (status, Incident.Status(status).label)
            for status in incident.allowed_transitions
        ],
        "confirm_form": ConfirmSeverityForm(
            initial={
                "severity": confirm_initial.code if confirm_initial else None,
                "incident_type": type_initial.slug if type_initial else None,
            },
            with_type=can_edit,
        ),
        "type_is_suggestion": type_is_suggestion,
        "can_edit": can_edit,
        "type_form": IncidentTypeForm(
            initial={
                "incident_type": incident.incident_type.slug
                if incident.incident_type
                else None
            }
        ),
        "transition_form": TransitionForm(),
        "assign_form": AssignRoleForm(),
        "action_form": ActionCreateForm(),
        "update_form": StakeholderUpdateForm(
            initial={"body": _stakeholder_template(incident, now=now)}
        ),
        "note_form": NoteForm(),
        "reviews_panel": reviews_tag_available("incident_review_panel"),
    }
    context.update(forms)
    return context


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


class IncidentDetailView(IncidentMixin, TemplateView):
    template_name = "incidents/incident_detail.html"

    def get_template_names(self):
        # The timeline filter swaps only the timeline.
        if self.request.htmx and self.request.htmx.target == "timeline":
            return ["incidents/_timeline.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(incident_page_context(self.request, self.incident))
        return context


class IncidentCommandView(IncidentMixin, FormView):
    """A POST from the incident page that calls one service.

    Success: a message and back to the incident page. Refusal: the page again
    with the service's reason on the form (``form_context_name``)."""

    template_name = "incidents/incident_detail.html"
    form_context_name = ""
    http_method_names = ["post"]

    def perform(self, form) -> str:
        """Call the service; return the success message."""
        raise NotImplementedError

    def form_valid(self, form):
        try:
            message = self.perform(form)
        except DomainError as exc:
            # A service may have refreshed the instance before a later step was
            # refused and rolled back: show what the database holds.
            self.incident.refresh_from_db()
            form.add_error(None, exc.message)
            return self.form_invalid(form)
        messages.success(self.request, message)
        return HttpResponseRedirect(self.incident.get_absolute_url())

    def form_invalid(self, form):
        context = incident_page_context(
            self.request, self.incident, **{self.form_context_name: form}
        )
        context["refused"] = self.form_context_name
        # The service's reason goes at the top of the page: the control that
        # was refused may not even be shown to this user.
        context["refusal"] = form.non_field_errors()
        return self.render_to_response(context)


class ConfirmSeverityView(IncidentCommandView):
    """Confirms the severity and the classification together, in one
    transaction: a refusal of either changes neither."""

    form_class = ConfirmSeverityForm
    form_context_name = "confirm_form"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["with_type"] = permissions.can_edit(self.request.user, self.incident)
        return kwargs

    def perform(self, form):
        level = form.cleaned_data["severity"]
        extra = {}
        if "incident_type" in form.cleaned_data:
            extra["incident_type"] = form.cleaned_data.get("incident_type")
        services.incident_classify(
            incident=self.incident,
            actor=self.request.user,
            severity=level,
            reason=form.cleaned_data["reason"],
            **extra,
        )
        message = f"Severity confirmed as {level.code} {level.name}"
        if self.incident.incident_type:
            message += f", type {self.incident.incident_type.name}"
        return message + "."


class IncidentTypeView(IncidentCommandView):
    """Change the type later (``incident_update``; on a confirmed incident the
    service applies the new type's playbook)."""

    form_class = IncidentTypeForm
    form_context_name = "type_form"

    def perform(self, form):
        new_type = form.cleaned_data["incident_type"]
        services.incident_update(
            incident=self.incident, actor=self.request.user, incident_type=new_type
        )
        if new_type is None:
            return "The incident is no longer classified."
        return f"Type is now {new_type.name}."


class TransitionView(IncidentCommandView):
    form_class = TransitionForm
    form_context_name = "transition_form"

    def perform(self, form):
        data = form.cleaned_data
        services.incident_transition(
            incident=self.incident,
            actor=self.request.user,
            status=data["status"],
            note=data["note"],
            resolution_summary=data["resolution_summary"] or None,
        )
        return f"Status is now {self.incident.get_status_display().lower()}."


class AssignRoleView(IncidentCommandView):
    form_class = AssignRoleForm
    form_context_name = "assign_form"

    def perform(self, form):
        data = form.cleaned_data
        assignment = services.incident_assign_role(
            incident=self.incident,
            actor=self.request.user,
            role=data["role"],
            user=data["user"],
            note=data["note"],
        )
        if assignment.user.pk == self.request.user.pk:
            return f"You are now {assignment.role.name.lower()}."
        return f"{assignment.user} is now {assignment.role.name.lower()}."


class StakeholderUpdateView(IncidentCommandView):
    form_class = StakeholderUpdateForm
    form_context_name = "update_form"

    def perform(self, form):
        services.stakeholder_update_post(
            incident=self.incident,
            actor=self.request.user,
            body=form.cleaned_data["body"],
        )
        return "Stakeholder update posted; it is being sent to the incident's lists."


class NoteView(IncidentCommandView):
    form_class = NoteForm
    form_context_name = "note_form"

    def perform(self, form):
        services.incident_add_note(
            incident=self.incident,
            actor=self.request.user,
            body=form.cleaned_data["body"],
        )
        return "Note added to the timeline."


class ActionTrackerMixin(IncidentMixin):
    """Action tracker POSTs: with htmx the tracker re-renders in place (errors
    and all); without, the usual message and redirect."""

    partial_template_name = "incidents/_actions.html"

    def tracker_response(self, *, action_form=None, error: str = "", notice: str = ""):
        if not self.request.htmx:
            if error:
                messages.error(self.request, error)
            elif notice:
                messages.success(self.request, notice)
            return HttpResponseRedirect(self.incident.get_absolute_url() + "#actions")
        context = incident_page_context(
            self.request,
            self.incident,
            **({"action_form": action_form} if action_form is not None else {}),
        )
        context.update(action_error=error, action_notice=notice)
        return render(self.request, self.partial_template_name, context)


class ActionCreateView(ActionTrackerMixin, View):
    def post(self, request, reference):
        form = ActionCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                action = services.action_create(
                    incident=self.incident,
                    actor=request.user,
                    title=data["title"],
                    owner=data["owner"],
                    priority=data["priority"],
                    due_at=data["due_at"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                return self.tracker_response(notice=f"Action “{action.title}” added.")
        if not request.htmx:
            first = next(iter(form.errors.values()))[0]
            return self.tracker_response(error=first)
        return self.tracker_response(action_form=form)


class ActionUpdateView(ActionTrackerMixin, View):
    def post(self, request, reference, pk):
        action = self.incident.actions.filter(pk=pk).first()
        form = ActionUpdateForm(request.POST)
        if action is None or not form.is_valid():
            return self.tracker_response(error="That change could not be made.")
        try:
            if form.cleaned_data["op"] == "complete":
                services.action_complete(action=action, actor=request.user)
                notice = f"“{action.title}” is done."
            else:
                owner = form.cleaned_data["owner"]
                services.action_update(action=action, actor=request.user, owner=owner)
                notice = f"“{action.title}” " + (
                    f"assigned to {owner}." if owner else "is unassigned."
                )
        except DomainError as exc:
            return self.tracker_response(error=exc.message)
        return self.tracker_response(notice=notice)


# --- my work ------------------------------------------------------------------


class MyWorkView(LoginRequiredMixin, TemplateView):
    """``/my/``: my open actions and current roles on incidents I may see."""

    template_name = "incidents/my_work.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        visible = Incident.objects.visible_to(user)
        context.update(
            now=timezone.now(),
            actions=ActionItem.objects.filter(
                owner=user,
                status__in=OPEN_ACTION_STATUSES,
                incident__in=visible,
            )
            .select_related("incident", "incident__severity")
            .order_by("due_at", "pk"),
            roles=RoleAssignment.objects.filter(
                user=user, ended_at__isnull=True, incident__in=visible.open()
            )
            .select_related("incident", "incident__severity", "role")
            .order_by("-started_at"),
            my_reviews_panel=reviews_tag_available("my_reviews_panel"),
        )
        return context
