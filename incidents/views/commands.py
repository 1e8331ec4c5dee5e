"""The incident page's commands: one view per service, and the action tracker."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views.generic import FormView, View

from incidentops.exceptions import DomainError
from incidents import permissions, services
from incidents.forms import (
    AcknowledgeForm,
    ActionCreateForm,
    ActionUpdateForm,
    AssignRoleForm,
    ConfirmSeverityForm,
    CorrectTimesForm,
    IncidentTypeForm,
    LinkForm,
    MarkDuplicateForm,
    NoteForm,
    RegulatoryNotificationForm,
    RestrictionForm,
    RoleRequestAnswerForm,
    RoleRequestForm,
    StakeholderUpdateForm,
    TransitionForm,
)
from incidents.models import (
    COMMANDER,
    ActionItem,
    Incident,
    IncidentLink,
    Role,
    RoleRequest,
)
from incidents.views.incident import (
    IncidentMixin,
    incident_page_context,
)


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
        kwargs["with_start"] = self.incident.status == Incident.Status.TRIAGE
        return kwargs

    @transaction.atomic
    def perform(self, form):
        # Confirming, naming the commander and starting are one step: a refusal
        # of any (the service's reason is shown) changes none of them.
        data = form.cleaned_data
        level = data["severity"]
        extra = {}
        if "incident_type" in data:
            extra["incident_type"] = data.get("incident_type")
        services.incident_classify(
            incident=self.incident,
            actor=self.request.user,
            severity=level,
            reason=data["reason"],
            **extra,
        )
        message = f"Severity confirmed as {level.code} {level.name}"
        if self.incident.incident_type:
            message += f", type {self.incident.incident_type.name}"
        commander = data.get("commander")
        if commander is not None and commander != self.incident.commander:
            services.incident_assign_role(
                incident=self.incident,
                actor=self.request.user,
                role=Role.objects.get(slug=COMMANDER),
                user=commander,
            )
            message += f"; {commander.display_name} is commander"
        if data.get("start"):
            services.incident_transition(
                incident=self.incident,
                actor=self.request.user,
                status=Incident.Status.INVESTIGATING,
            )
            message += "; the response has started (investigating)"
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


class RestrictionView(IncidentCommandView):
    """Restrict the incident or lift its restriction, with the reason on the
    timeline (``incident_set_restriction``)."""

    form_class = RestrictionForm
    form_context_name = "restriction_form"

    def perform(self, form):
        restricted = form.cleaned_data["restricted"]
        services.incident_set_restriction(
            incident=self.incident,
            actor=self.request.user,
            restricted=restricted,
            reason=form.cleaned_data["reason"],
        )
        if restricted:
            return "The incident is restricted."
        return "The restriction is lifted."


def resolve_check(incident) -> dict:
    """What resolving would leave behind: open actions (high priority first) and
    roles the playbook requires that nobody holds. Empty lists: nothing to ask."""
    actions = list(
        incident.actions.filter(
            status__in=(ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS)
        )
        .select_related("owner")
        .order_by("due_at", "pk")
    )
    actions.sort(key=lambda a: a.priority != ActionItem.Priority.HIGH)
    return {"open_actions": actions, "missing_roles": list(incident.missing_roles())}


class TransitionView(IncidentCommandView):
    """Status changes. Resolving an incident with open actions or unfilled
    required roles first shows what would be left behind and asks: cancel the
    open actions, or keep them open as follow-ups (``open_actions`` =
    ``cancel``/``keep``)."""

    form_class = TransitionForm
    form_context_name = "transition_form"

    def form_valid(self, form):
        resolving = form.cleaned_data["status"] == Incident.Status.RESOLVED
        answer = self.request.POST.get("open_actions", "")
        if resolving and answer not in ("cancel", "keep"):
            check = resolve_check(self.incident)
            if check["open_actions"] or check["missing_roles"]:
                context = incident_page_context(
                    self.request, self.incident, transition_form=form
                )
                context["resolve_check"] = check
                return self.render_to_response(context)
        return super().form_valid(form)

    def perform(self, form):
        data = form.cleaned_data
        services.incident_transition(
            incident=self.incident,
            actor=self.request.user,
            status=data["status"],
            note=data["note"],
            resolution_summary=data["resolution_summary"] or None,
            cancel_open_actions=self.request.POST.get("open_actions") == "cancel",
            closure_reason=data["closure_reason"],
        )
        if self.incident.closure_reason:
            return "Resolved as a false alarm."
        return f"Status is now {self.incident.get_status_display().lower()}."


def _visible_by_reference(user, reference: str) -> Incident | None:
    return Incident.objects.visible_to(user).filter(reference=reference).first()


class MarkDuplicateView(IncidentCommandView):
    """Close the incident as a duplicate of another (``incident_mark_duplicate``)."""

    form_class = MarkDuplicateForm
    form_context_name = "duplicate_form"

    def perform(self, form):
        data = form.cleaned_data
        services.incident_mark_duplicate(
            incident=self.incident,
            primary=_visible_by_reference(self.request.user, data["of"]),
            actor=self.request.user,
            note=data["note"],
        )
        return f"Closed as a duplicate of {data['of']}; the response goes on there."


class LinkView(IncidentCommandView):
    """Link another incident as related or as the cause (``incident_link``)."""

    form_class = LinkForm
    form_context_name = "link_form"

    def perform(self, form):
        data = form.cleaned_data
        services.incident_link(
            incident=self.incident,
            other=_visible_by_reference(self.request.user, data["incident"]),
            actor=self.request.user,
            kind=data["kind"],
            note=data["note"],
        )
        return f"Linked {data['incident']}."


class UnlinkView(IncidentCommandView):
    """Remove a related or caused-by link (``incident_unlink``); a link whose
    other incident the person may not see is a 404."""

    form_class = AcknowledgeForm  # no input: the link is in the URL
    form_context_name = "link_form"

    def perform(self, form):
        link = (
            IncidentLink.objects.filter(pk=self.kwargs["pk"])
            .filter(Q(source=self.incident) | Q(target=self.incident))
            .select_related("source", "target")
            .first()
        )
        if link is None or not permissions.can_view(
            self.request.user, link.other(self.incident)
        ):
            raise Http404("No link matches the given query.")
        services.incident_unlink(link=link, actor=self.request.user)
        return f"Removed the link to {link.other(self.incident).reference}."


class AcknowledgeView(IncidentCommandView):
    """A person acknowledges the incident (stops its paging)."""

    form_class = AcknowledgeForm
    form_context_name = "acknowledge_form"

    def perform(self, form):
        services.incident_acknowledge(
            incident=self.incident, user=self.request.user, via="the portal"
        )
        return f"You acknowledged {self.incident.reference}; paging has stopped."


def _role_and_person(view: IncidentCommandView, data: dict) -> dict:
    """What assigning a role and asking someone to take one share: the
    incident, the person acting, the role and the person it is for."""
    return {
        "incident": view.incident,
        "actor": view.request.user,
        "role": data["role"],
        "user": data["user"],
    }


class AssignRoleView(IncidentCommandView):
    form_class = AssignRoleForm
    form_context_name = "assign_form"

    def perform(self, form):
        data = form.cleaned_data
        assignment = services.incident_assign_role(
            **_role_and_person(self, data),
            note=data["note"],
            **(
                {"expected_holder": data["expected_holder"]}
                if "expected_holder" in self.request.POST
                else {}
            ),
        )
        if assignment.user.pk == self.request.user.pk:
            return f"You are now {assignment.role.name.lower()}."
        return f"{assignment.user} is now {assignment.role.name.lower()}."


class RoleRequestView(IncidentCommandView):
    """ "Ask Sam to take command": a request Sam answers; nobody is assigned."""

    form_class = RoleRequestForm
    form_context_name = "ask_form"

    def perform(self, form):
        data = form.cleaned_data
        request = services.role_request_create(
            **_role_and_person(self, data), reason=data["reason"]
        )
        return (
            f"{request.user.display_name} is asked to {request.role.ask_phrase}; "
            "they accept with one click."
        )


class RoleRequestAnswerView(IncidentCommandView):
    """The person asked accepts (takes the role) or declines."""

    form_class = RoleRequestAnswerForm
    form_context_name = "answer_form"

    def perform(self, form):
        role_request = get_object_or_404(
            RoleRequest, pk=self.kwargs["pk"], incident=self.incident
        )
        if form.cleaned_data["answer"] == "accept":
            assignment = services.role_request_accept(
                request=role_request, actor=self.request.user
            )
            return f"You are now {assignment.role.name.lower()}."
        services.role_request_decline(
            request=role_request,
            actor=self.request.user,
            note=form.cleaned_data["note"],
        )
        return (
            f"You declined; {role_request.asked_by.display_name} can ask someone else."
        )


class TextCommandView(IncidentCommandView):
    """A command whose form is one text (``body``), posted through the
    ``incidents.services`` function named ``service``; ``done`` is the message."""

    service = ""
    done = ""

    def perform(self, form):
        post = getattr(services, self.service)
        post(
            incident=self.incident,
            actor=self.request.user,
            body=form.cleaned_data["body"],
        )
        return self.done


class StakeholderUpdateView(TextCommandView):
    form_class = StakeholderUpdateForm
    form_context_name = "update_form"
    service = "stakeholder_update_post"
    done = "Stakeholder update posted; it is being sent to the incident's lists."


class NoteView(TextCommandView):
    form_class = NoteForm
    form_context_name = "note_form"
    service = "incident_add_note"
    done = "Note added to the timeline."


class CorrectTimesView(IncidentCommandView):
    """Correct the record's times (``incident_correct_times``)."""

    form_class = CorrectTimesForm
    form_context_name = "times_form"

    def perform(self, form):
        changed = form.changed_times(self.incident)
        if not changed:
            return "No time changed."
        services.incident_correct_times(
            incident=self.incident,
            actor=self.request.user,
            reason=form.cleaned_data["reason"],
            **changed,
        )
        return "Times corrected; the timeline shows the old and new values."


class RegulatoryNotificationView(IncidentCommandView):
    """Record that an authority was told (``regulatory_notification_record``)."""

    form_class = RegulatoryNotificationForm
    form_context_name = "regulatory_form"

    def perform(self, form):
        data = form.cleaned_data
        row = services.regulatory_notification_record(
            incident=self.incident,
            actor=self.request.user,
            authority=data["authority"],
            notified_at=data["notified_at"],
            notified_by=data["notified_by"],
            method=data["method"],
            deadline_at=form.deadline(self.incident),
            reference=data["reference"],
            notes=data["notes"],
        )
        verdict = {True: " in time", False: " after the deadline"}.get(row.in_time, "")
        return f"Recorded: {row.authority} was told{verdict}; it is on the timeline."


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
