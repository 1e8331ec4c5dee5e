"""Query-string filters for the incidents API (django-filter)."""

import django_filters

from incidents.models import Incident


class IncidentFilter(django_filters.FilterSet):
    """``?status=`` (repeatable), ``?severity=SEV-1`` (``none`` for unconfirmed),
    ``?type=<slug>``, ``?restricted=``, and date ranges
    ``?created_after=&created_before=`` (likewise ``detected_`` and
    ``resolved_``), dates as ``YYYY-MM-DD``, both ends inclusive."""

    status = django_filters.MultipleChoiceFilter(choices=Incident.Status.choices)
    severity = django_filters.CharFilter(
        method="filter_severity", help_text="A severity code, or `none`."
    )
    type = django_filters.CharFilter(
        field_name="incident_type__slug", help_text="An incident type's slug."
    )
    restricted = django_filters.BooleanFilter()
    created = django_filters.DateFromToRangeFilter(field_name="created_at")
    detected = django_filters.DateFromToRangeFilter(field_name="detected_at")
    resolved = django_filters.DateFromToRangeFilter(field_name="resolved_at")

    class Meta:
        model = Incident
        fields = ["status", "severity", "type", "restricted"]

    def filter_severity(self, queryset, name, value):
        if value.lower() == "none":
            return queryset.filter(severity__isnull=True)
        return queryset.filter(severity__code=value)
