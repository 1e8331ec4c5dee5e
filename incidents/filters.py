"""Query-string filters for the incidents API (django-filter) and its ordering.

Bad input is refused (400 with the reason, naming the parameter), never quietly
ignored: a typo in a filter must not return every incident.
"""

from datetime import date, datetime, timedelta

import django_filters
from django import forms
from django.db.models import F
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from incidentops.timezones import org_midnight, org_zone
from incidents.models import Incident


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or ``1``/``0``); anything else is an error, not "no
    filter" as Django's ``NullBooleanField`` would have it."""

    # A text widget hands the raw value over; NullBooleanSelect would turn
    # anything it does not know into None ("no filter") before validation.
    widget = forms.TextInput

    TRUE = ("true", "1")
    FALSE = ("false", "0")

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(
            f"{value!r} is not a boolean: use true or false.", code="invalid"
        )

    def validate(self, value):
        pass


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class DateOrDateTimeField(forms.Field):
    """``YYYY-MM-DD`` (a day in the organisation's zone) or an ISO 8601 date-time
    (kept as given when it has a zone or offset; a naive one is read in the
    organisation's zone)."""

    default_error_messages = {
        "invalid": "Enter a valid date (YYYY-MM-DD) or an ISO 8601 date-time."
    }

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=org_zone())
        return moment


class _RangeEndFilter(django_filters.Filter):
    """One end of a date range on a date-time column, as a comparison of the
    column itself (``__gte``/``__lt``) so its index can serve it; a day is turned
    into the organisation's midnight rather than comparing UTC dates."""

    field_class = DateOrDateTimeField
    upper = False

    def filter(self, qs, value):
        if value is None:
            return qs
        if isinstance(value, datetime):
            lookup = "lte" if self.upper else "gte"
            return qs.filter(**{f"{self.field_name}__{lookup}": value})
        try:
            if self.upper:  # the whole day is included: before the next midnight
                bound = org_midnight(value + timedelta(days=1))
                return qs.filter(**{f"{self.field_name}__lt": bound})
            return qs.filter(**{f"{self.field_name}__gte": org_midnight(value)})
        except OverflowError:
            # A day at the edge of the calendar (9999-12-31, 0001-01-01): the
            # range is open on that side, so it filters nothing out.
            return qs


class _OnOrBeforeFilter(_RangeEndFilter):
    upper = True


def _documented(range_end: _RangeEndFilter, help_text: str) -> _RangeEndFilter:
    # A day or a date-time: neither OpenAPI format alone describes both, so the
    # schema says string and the description says which.
    range_end.extra["help_text"] = help_text
    return extend_schema_field({"type": "string", "description": help_text})(range_end)


def _on_or_after(field_name: str) -> django_filters.Filter:
    return _documented(
        _RangeEndFilter(field_name=field_name),
        f"`{field_name}` on or after this day (YYYY-MM-DD, in the organisation's "
        "time zone) or date-time (ISO 8601).",
    )


def _on_or_before(field_name: str) -> django_filters.Filter:
    return _documented(
        _OnOrBeforeFilter(field_name=field_name),
        f"`{field_name}` on or before this day (YYYY-MM-DD, in the organisation's "
        "time zone, the whole day included) or date-time (ISO 8601).",
    )


class IncidentFilter(django_filters.FilterSet):
    """``?status=`` (repeatable), ``?severity=SEV-1`` (``none`` for unconfirmed),
    ``?type=<slug>``, ``?restricted=true|false``, and date ranges
    ``?created_after=&created_before=`` (likewise ``detected_`` and
    ``resolved_``), as days ``YYYY-MM-DD`` in the organisation's time zone or as
    ISO 8601 date-times, both ends inclusive."""

    status = django_filters.MultipleChoiceFilter(choices=Incident.Status.choices)
    severity = django_filters.CharFilter(
        method="filter_severity", help_text="A severity code, or `none`."
    )
    type = django_filters.CharFilter(
        field_name="incident_type__slug", help_text="An incident type's slug."
    )
    restricted = StrictBooleanFilter(help_text="`true` or `false`.")
    # Separate filters rather than one DateFromToRangeFilter per field, so that
    # an error names the parameter sent (``created_after``, not ``created``).
    created_after = _on_or_after("created_at")
    created_before = _on_or_before("created_at")
    detected_after = _on_or_after("detected_at")
    detected_before = _on_or_before("detected_at")
    resolved_after = _on_or_after("resolved_at")
    resolved_before = _on_or_before("resolved_at")

    class Meta:
        model = Incident
        fields = ["status", "severity", "type", "restricted"]

    def filter_severity(self, queryset, name, value):
        if value.lower() == "none":
            return queryset.filter(severity__isnull=True)
        return queryset.filter(severity__code=value)


class StrictOrderingFilter(OrderingFilter):
    """DRF's ordering filter, but an unknown field is a 400 listing the allowed
    ones, and ``severity__rank`` sorts unconfirmed incidents last either way
    (rank 1 is SEV-1, so ``?ordering=severity__rank`` is most severe first)."""

    NULLS_LAST = ("severity__rank",)

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",") if param.strip()]
            allowed = [name for name, _ in self.get_valid_fields(queryset, view)]
            unknown = [f for f in fields if f.lstrip("-") not in allowed]
            if unknown or not fields:
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"Unknown ordering {', '.join(unknown) or params!r}. "
                            "Allowed: "
                            + ", ".join(allowed)
                            + " (prefix - for descending)."
                        ]
                    }
                )
        return super().get_ordering(request, queryset, view)

    def filter_queryset(self, request, queryset, view):
        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        terms = []
        for field in ordering:
            name = field.lstrip("-") if isinstance(field, str) else None
            if name in self.NULLS_LAST:
                expression = F(name)
                terms.append(
                    expression.desc(nulls_last=True)
                    if field.startswith("-")
                    else expression.asc(nulls_last=True)
                )
            else:
                terms.append(field)
        return queryset.order_by(*terms)
