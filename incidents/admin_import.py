"""The admin's "Import incidents" page: upload a file, see a preview of every
row (what would be imported, updated, left unchanged or refused, and why), then
commit. Both steps call ``incidents.importing.import_incidents``; the preview is
its dry run. The uploaded file waits in the session between the two steps."""

from __future__ import annotations

import base64
import hashlib

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from incidents import permissions
from incidents.importing import FileError, import_incidents
from incidents.importing.pagerduty import DEFAULT_SEVERITY
from incidents.models import IncidentType, SeverityLevel

SESSION_KEY = "incident_import"
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PREVIEW_ROWS = 500


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV or JSON; see docs/importing.md.")
    format = forms.ChoiceField(
        choices=[
            ("native", "IncidentOps CSV or JSON"),
            ("pagerduty", "PagerDuty incidents (REST API v2)"),
            ("oncall", "Grafana OnCall alert groups"),
        ]
    )
    default_type = forms.ModelChoiceField(
        queryset=IncidentType.objects.filter(is_active=True),
        required=False,
        help_text="For rows that name no type (PagerDuty and OnCall name none).",
    )
    time_zone = forms.CharField(
        required=False,
        initial=settings.INCIDENTOPS_TIME_ZONE,
        help_text="For times written without a zone.",
    )
    severity_map = forms.JSONField(
        required=False,
        initial=DEFAULT_SEVERITY,
        label="PagerDuty severity table",
        help_text="PagerDuty only: priority (P1..P5) or urgency (urgency:high, "
        "urgency:low) to severity code; a priority wins over the urgency.",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
    )

    def clean_severity_map(self):
        table = self.cleaned_data.get("severity_map") or {}
        if not isinstance(table, dict):
            raise forms.ValidationError('A JSON object, e.g. {"P1": "SEV-1"}.')
        codes = set(SeverityLevel.objects.values_list("code", flat=True))
        unknown = sorted(str(v) for v in table.values() if v not in codes)
        if unknown:
            raise forms.ValidationError(
                f"Unknown severity: {', '.join(unknown)}; one of "
                f"{', '.join(sorted(codes))}."
            )
        return {str(key): value for key, value in table.items()}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 50 MiB.")
        return upload


class IncidentImportAdminMixin:
    """Adds ``import/`` to the incident admin: ``admin_view`` lets only active
    staff in, and ``can_import`` (the ``import_incidents`` right) is asked on
    every step, the preview and the commit."""

    change_list_template = "admin/incidents/incident/change_list.html"

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="incidents_incident_import",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_import": permissions.can_import(request.user),
        }
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        if not permissions.can_import(request.user):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "opts": self.model._meta}
        if request.method == "POST" and "commit" in request.POST:
            return self._commit(request)
        form = ImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data["file"].read()
            options = {
                "format": form.cleaned_data["format"],
                "default_type": (
                    form.cleaned_data["default_type"].pk
                    if form.cleaned_data["default_type"]
                    else None
                ),
                "time_zone": form.cleaned_data["time_zone"] or None,
                "severity_map": form.cleaned_data["severity_map"] or None,
            }
            try:
                report = self._run(request, data, options, dry_run=True)
            except FileError as exc:
                form.add_error("file", f"{exc}; nothing imported.")
            else:
                request.session[SESSION_KEY] = {
                    "data": base64.b64encode(data).decode(),
                    "digest": hashlib.sha256(data).hexdigest(),
                    "name": form.cleaned_data["file"].name,
                    **options,
                }
                context.update(
                    report=report,
                    rows=report.rows[:PREVIEW_ROWS],
                    more=max(0, len(report.rows) - PREVIEW_ROWS),
                    file_name=form.cleaned_data["file"].name,
                    digest=request.session[SESSION_KEY]["digest"],
                )
        context["form"] = form
        context["title"] = "Import incidents"
        return TemplateResponse(
            request, "admin/incidents/incident/import.html", context
        )

    def _run(self, request, data: bytes, options: dict, *, dry_run: bool):
        default_type = (
            IncidentType.objects.filter(pk=options["default_type"]).first()
            if options["default_type"]
            else None
        )
        return import_incidents(
            data,
            format=options["format"],
            actor=request.user,
            dry_run=dry_run,
            default_type=default_type,
            time_zone=options["time_zone"],
            severity_map=options.get("severity_map"),
        )

    def _commit(self, request):
        pending = request.session.get(SESSION_KEY)
        if not pending or pending["digest"] != request.POST.get("digest"):
            messages.error(request, "Upload the file again: the preview has expired.")
            return redirect(reverse("admin:incidents_incident_import"))
        data = base64.b64decode(pending["data"])
        try:
            report = self._run(request, data, pending, dry_run=False)
        except FileError as exc:  # pragma: no cover - read fine in the preview
            messages.error(request, f"{exc}; nothing imported.")
            return redirect(reverse("admin:incidents_incident_import"))
        del request.session[SESSION_KEY]
        level = messages.WARNING if report.refused else messages.SUCCESS
        messages.add_message(request, level, f"{pending['name']}: {report.summary()}.")
        for row in report.refused[:20]:
            messages.warning(request, f"line {row.line}: {row.reason}")
        return redirect(reverse("admin:incidents_incident_changelist"))
