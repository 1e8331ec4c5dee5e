"""``/incidents/``: search and list every incident the user may see, and
download the filtered list as CSV."""

from __future__ import annotations

import csv

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.views.generic import TemplateView

from incidentops.timezones import org_localtime
from incidents import providers
from incidents.forms import day_filter, severity_filter, type_filter
from incidents.models import Incident
from incidents.search import SORTS, SearchFilters, search_incidents

PAGE_SIZE = 50
CSV_COLUMNS = (
    "reference",
    "title",
    "status",
    "severity",
    "type",
    "commander",
    "created_at",
    "impact_started_at",
    "detected_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "affected_services",
    "resolution_summary",
    "external_source",
    "external_id",
    "url",
)


class PastIncidentsForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    status = forms.MultipleChoiceField(
        choices=Incident.Status.choices,
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 1}),
    )
    severity = severity_filter()
    incident_type = type_filter()
    service = forms.CharField(required=False, max_length=100)
    since = day_filter("From")
    until = day_filter("To")
    sort = forms.ChoiceField(
        choices=[
            ("newest", "Newest first"),
            ("oldest", "Oldest first"),
            ("severity", "Most severe first"),
            ("resolved", "Latest resolved first"),
        ],
        required=False,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for list_filter in providers.list_filters():
            self.fields[list_filter.key] = forms.BooleanField(
                label=list_filter.label, required=False
            )

    def filters(self) -> SearchFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return SearchFilters(
            q=data.get("q") or "",
            status=data.get("status") or [],
            severity=data["severity"].code if data.get("severity") else "",
            incident_type=(
                data["incident_type"].slug if data.get("incident_type") else ""
            ),
            service=(data.get("service") or "").strip(),
            since=data.get("since"),
            until=data.get("until"),
            flags=[f.key for f in providers.list_filters() if data.get(f.key)],
            sort=data.get("sort") if data.get("sort") in SORTS else "newest",
        )


class _Echo:
    def write(self, value):
        return value


def _when(value) -> str:
    return org_localtime(value).isoformat() if value else ""


def csv_lines(incidents, request):
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for incident in incidents.iterator(chunk_size=1000):
        commander = incident.commander
        yield writer.writerow(
            [
                incident.reference,
                incident.title,
                incident.status,
                incident.severity.code if incident.severity else "",
                incident.incident_type.slug if incident.incident_type else "",
                commander.username if commander else "",
                _when(incident.created_at),
                _when(incident.impact_started_at),
                _when(incident.detected_at),
                _when(incident.acknowledged_at),
                _when(incident.mitigated_at),
                _when(incident.resolved_at),
                ";".join(incident.affected_services or ()),
                incident.resolution_summary,
                incident.external_source,
                incident.external_id,
                request.build_absolute_uri(incident.get_absolute_url()),
            ]
        )


class PastIncidentsView(LoginRequiredMixin, TemplateView):
    """``/incidents/``: every incident the user may see (``visible_to``),
    searched and filtered, 50 a page; ``&format=csv`` downloads the whole
    filtered list (times in the organisation's zone)."""

    template_name = "incidents/past.html"

    def get(self, request, *args, **kwargs):
        self.form = PastIncidentsForm(request.GET or None)
        self.incidents = search_incidents(request.user, self.form.filters())
        if request.GET.get("format") == "csv":
            response = StreamingHttpResponse(
                csv_lines(self.incidents, request),
                content_type="text/csv; charset=utf-8",
            )
            response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
            return response
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = Paginator(self.incidents, PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        query = self.request.GET.copy()
        query.pop("page", None)
        csv_query = query.copy()
        csv_query["format"] = "csv"
        context.update(
            form=self.form,
            page=page,
            incidents=page.object_list,
            query=query.urlencode(),
            csv_query=csv_query.urlencode(),
        )
        return context
