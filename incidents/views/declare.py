"""Declaring an incident: the form and its live triage suggestion."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import FormView, View

from incidentops.exceptions import DomainError
from incidents import permissions, services
from incidents.forms import DeclareForm
from incidents.models import (
    IncidentType,
    SeverityLevel,
)
from incidents.triage import suggest_for


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
            if name not in ("restricted", "impact_started_at", "services"):
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
                impact_started_at=data["impact_started_at"],
                services=list(data["services"]),
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
                    if not item.open
                ],
                open_similar=[
                    {"item": item, "level": levels.get(item.severity)}
                    for item in suggestion.similar
                    if item.open
                ],
                similar_references={item.reference for item in suggestion.similar},
                confidence_percent=round(suggestion.confidence * 100),
            )
        return render(request, "incidents/_suggestion.html", context)
