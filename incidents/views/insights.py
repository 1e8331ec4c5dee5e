"""``/insights/``: trends, response times, recurrence, triage agreement and
alert noise, as charts with their tables, and the same figures as CSV."""

from __future__ import annotations

import csv

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.views.generic import TemplateView

from incidents import charts, insights, permissions, providers
from incidents.forms import day_filter, severity_filter, type_filter
from incidents.models import IncidentFamily


class InsightsFilterForm(forms.Form):
    """The page's filters (GET); every field optional."""

    since = day_filter("From")
    until = day_filter("To")
    family = forms.ModelChoiceField(
        queryset=IncidentFamily.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Any family",
    )
    incident_type = type_filter()
    severity = severity_filter()
    service = forms.CharField(required=False, max_length=100)
    period = forms.ChoiceField(
        choices=[("month", "Month"), ("week", "Week")], required=False
    )
    include_noise = forms.BooleanField(
        required=False, label="Include duplicates and false alarms"
    )

    def filters(self) -> insights.InsightFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return insights.InsightFilters(
            since=data.get("since"),
            until=data.get("until"),
            family=data["family"].slug if data.get("family") else "",
            incident_type=(
                data["incident_type"].slug if data.get("incident_type") else ""
            ),
            severity=data["severity"].code if data.get("severity") else "",
            service=(data.get("service") or "").strip(),
            period=data.get("period") or "month",
            include_noise=bool(data.get("include_noise")),
        ).resolved()


def csv_rows(figures: dict):
    """The figures as long-form rows: (figure, group, period_start, measure,
    value); seconds for durations, a share from 0 to 1 for shares."""
    for by, rows in figures["volume"].items():
        for row in rows:
            yield (
                f"incidents by {by}",
                row["group"],
                row["period_start"],
                "count",
                row["count"],
            )
    for by in ("type", "severity"):
        for row in figures[f"response_by_{by}"]:
            yield (f"response by {by}", row["group"], "", "incidents", row["count"])
            for measure in insights.MEASURES:
                for stat in ("count", "median", "p90"):
                    yield (
                        f"response by {by}",
                        row["group"],
                        "",
                        f"{measure} {stat}" + ("" if stat == "count" else " seconds"),
                        row[measure][stat],
                    )
    for by, rows in figures["recurrence"].items():
        for row in rows:
            yield (f"recurrence by {by}", row["group"], "", "incidents", row["count"])
    for by, rows in figures["triage_agreement"].items():
        for row in rows:
            for measure in ("suggested", "agreed", "share"):
                yield (
                    f"triage agreement by {by}",
                    row["group"],
                    "",
                    measure,
                    row[measure],
                )
    for row in figures["alert_noise"]:
        for measure in (
            "count",
            "confirmed",
            "share_confirmed",
            "duplicates",
            "false_alarms",
            "share_noise",
        ):
            yield ("opened by", row["group"], "", measure, row[measure])


class InsightsView(LoginRequiredMixin, TemplateView):
    """``/insights/`` for managers, executives and reviewers
    (``permissions.can_view_insights``); ``?format=csv`` downloads the figures
    with the page's filters. Restricted incidents count only for those who may
    see them."""

    template_name = "incidents/insights.html"

    def get(self, request, *args, **kwargs):
        if not permissions.can_view_insights(request.user):
            raise PermissionDenied(
                "Insights are for managers, executives and reviewers."
            )
        self.form = InsightsFilterForm(request.GET or None)
        self.filters = self.form.filters()
        self.figures = insights.insights(request.user, self.filters)
        if request.GET.get("format") == "csv":
            return self.csv_response()
        return super().get(request, *args, **kwargs)

    def csv_response(self) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"insights-{self.filters.since}-{self.filters.until}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        writer = csv.writer(response)
        writer.writerow(["figure", "group", "period_start", "measure", "value"])
        for row in csv_rows(self.figures):
            writer.writerow(["" if v is None else v for v in row])
        for panel in providers.panels(providers.Slot.INSIGHTS):
            if panel.figures is None:
                continue
            for item in panel.figures(request=self.request, filters=self.filters):
                writer.writerow(
                    [
                        panel.title,
                        item.get("group", ""),
                        "",
                        item.get("measure", ""),
                        item.get("value", ""),
                    ]
                )
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        figures = self.figures
        totals: dict = {}
        for row in figures["volume"]["severity"]:
            totals[row["period_start"]] = (
                totals.get(row["period_start"], 0) + row["count"]
            )
        label = "%b %Y" if self.filters.period == "month" else "%d %b"
        response_series = [
            ("median", "median"),
            ("p90", "90th percentile"),
        ]

        def response_chart(rows, measure, title):
            data = [
                {
                    "group": r["group"],
                    "median": r[measure]["median"],
                    "p90": r[measure]["p90"],
                }
                for r in rows
                if r[measure]["count"]
            ]
            return charts.hbar_chart(
                data, label="group", series=response_series, title=title, seconds=True
            )

        query = self.request.GET.copy()
        query["format"] = "csv"
        context.update(
            form=self.form,
            filters=self.filters,
            figures=figures,
            csv_query=query.urlencode(),
            volume_chart=charts.column_chart(
                [
                    (start.strftime(label), count)
                    for start, count in sorted(totals.items())
                ],
                title="Incidents declared per " + self.filters.period,
            ),
            volume_table=_matrix(figures["volume"]["incident_type"]),
            severity_table=_matrix(figures["volume"]["severity"]),
            family_table=_matrix(figures["volume"]["family"]),
            resolve_by_type_chart=response_chart(
                figures["response_by_type"],
                "time_to_resolve",
                "Time to resolve by type: median and 90th percentile",
            ),
            resolve_by_severity_chart=response_chart(
                figures["response_by_severity"],
                "time_to_resolve",
                "Time to resolve by severity: median and 90th percentile",
            ),
            recurrence_chart=charts.hbar_chart(
                figures["recurrence"]["incident_type"],
                label="group",
                series=[("count", "incidents")],
                title="Types that recur most",
            ),
            agreement_chart=charts.hbar_chart(
                figures["triage_agreement"]["severity"],
                label="group",
                series=[("share", "agreed with the suggested severity")],
                title="Triage agreement by severity",
                percent=True,
            ),
            provided_panels=providers.render_panels(
                providers.Slot.INSIGHTS, request=self.request, filters=self.filters
            ),
        )
        return context


def _matrix(rows: list[dict]) -> dict:
    """Period × group counts for a table: ``{"groups", "rows": [(start, [n])]}``."""
    groups = sorted({r["group"] or "(none)" for r in rows})
    cells: dict = {}
    for row in rows:
        cells.setdefault(row["period_start"], {})[row["group"] or "(none)"] = row[
            "count"
        ]
    return {
        "groups": groups,
        "rows": [
            (
                start,
                [cells[start].get(g, 0) for g in groups],
                sum(cells[start].values()),
            )
            for start in sorted(cells)
        ],
    }
