"""The schedules API: ``/api/v1/schedules/`` and its on-call answers.

Read by everyone in a role group (``notifications.view_schedule``); anyone else
gets an empty list and 404s. Times in and out are ISO 8601; a time without an
offset is read as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from incidentops.api import ERROR, WRITE_ERRORS
from incidentops.api import READ_ERRORS as API_READ_ERRORS
from notifications.oncall import schedule_permissions as permissions
from notifications.oncall import schedule_services as services
from notifications.oncall.schedule_models import (
    LayerParticipant,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
)
from notifications.oncall.schedules import oncall, shifts

READ_ERRORS = {400: ERROR, **API_READ_ERRORS}
# Times asked about must lie in this span (no overflow at the ends of datetime).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# The longest range one shifts request may cover.
MAX_RANGE = timedelta(days=93)
DEFAULT_RANGE = timedelta(days=14)


def parse_instant(name: str, text: str | None, default: datetime) -> datetime:
    """An ISO 8601 query parameter as an aware instant (UTC when it carries no
    offset); ``default`` when absent. Raises ``ValidationError`` (400) naming
    the parameter and the expected form."""
    if text is None or text == "":
        return default
    # A "+" in an unencoded query string arrives as a space: "09:00 01:00".
    text = re.sub(r" (\d{2}(:?\d{2})?)$", r"+\1", text.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            {
                name: [
                    f"{text!r} is not a time: use ISO 8601, e.g. "
                    "2026-03-29T09:00:00+01:00 or 2026-03-29T08:00:00Z."
                ]
            }
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not EARLIEST <= moment < LATEST:
        raise ValidationError({name: [f"{text!r} is outside 1970 to 2199."]})
    return moment


# --- serializers ---------------------------------------------------------------------


class LayerSerializer(serializers.ModelSerializer):
    participants = serializers.SerializerMethodField(
        help_text="Usernames in turn order."
    )

    class Meta:
        model = ScheduleLayer
        fields = [
            "id",
            "name",
            "priority",
            "start_date",
            "handoff_time",
            "length_unit",
            "length_count",
            "restrictions",
            "active_from",
            "active_until",
            "participants",
        ]
        read_only_fields = fields

    def get_participants(self, layer) -> list[str]:
        return [p.user.username for p in layer.participants.all()]


class OverrideSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = ScheduleOverride
        fields = ["id", "user", "start", "end", "note", "swap"]
        read_only_fields = fields


class ScheduleSerializer(serializers.ModelSerializer):
    layers = LayerSerializer(many=True, read_only=True)
    team = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="The team it covers (its slug).",
    )

    class Meta:
        model = Schedule
        fields = [
            "id",
            "name",
            "team",
            "time_zone",
            "description",
            "layers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class OnCallUserSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    layer = serializers.CharField(help_text='The layer\'s name, or "Override".')
    start = serializers.DateTimeField(help_text="This shift's start (UTC).")
    end = serializers.DateTimeField(help_text="This shift's end (UTC).")


class OnCallSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    users = OnCallUserSerializer(many=True)


class ShiftSerializer(OnCallUserSerializer):
    pass


class ShiftsSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    time_zone = serializers.CharField()
    shifts = ShiftSerializer(many=True)


class OverrideInput(serializers.Serializer):
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all()
    )
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


def _person(user, layer, start, end) -> dict:
    return {
        "username": user.username,
        "name": user.display_name,
        "layer": layer,
        "start": start,
        "end": end,
    }


@extend_schema_view(
    list=extend_schema(
        summary="On-call schedules with their layers",
        parameters=[
            OpenApiParameter("team", str, required=False, description="A team's slug.")
        ],
    ),
    retrieve=extend_schema(responses={200: ScheduleSerializer, **READ_ERRORS}),
)
class ScheduleViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """On-call schedules: layers (rotations with participants, hand-off time,
    length, restrictions in the schedule's local time)."""

    serializer_class = ScheduleSerializer
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]
    search_fields = ["name", "description"]

    def get_queryset(self):
        schedules = permissions.visible_schedules(self.request.user).select_related(
            "team"
        )
        team = self.request.query_params.get("team")
        if team:
            schedules = schedules.filter(team__slug=team)
        return schedules.prefetch_related(
            Prefetch(
                "layers",
                queryset=ScheduleLayer.objects.order_by("-priority").prefetch_related(
                    Prefetch(
                        "participants",
                        queryset=LayerParticipant.objects.select_related("user"),
                    )
                ),
            )
        )

    @extend_schema(
        summary="Who is on call at an instant",
        description="The person on call at `at` (ISO 8601; default now; no "
        "offset means UTC): an override first, else the highest layer with "
        "someone on call then. `users` is empty when nobody is. A time that "
        "cannot be read is refused (400) with the expected form.",
        parameters=[OpenApiParameter("at", OpenApiTypes.DATETIME, required=False)],
        responses={200: OnCallSerializer, **READ_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def oncall(self, request, pk=None):
        schedule = self.get_object()
        at = parse_instant("at", request.query_params.get("at"), timezone.now())
        users = [
            _person(entry.user, entry.layer, entry.start, entry.end)
            for entry in oncall(schedule, at)
        ]
        return Response(OnCallSerializer({"at": at, "users": users}).data)

    @extend_schema(
        summary="The final on-call timeline over a range",
        description="Consecutive shifts between `start` (default now) and `end` "
        "(default 14 days later), clipped to the range; gaps are times nobody "
        "is on call. At most 93 days per request (400 beyond).",
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATETIME, required=False),
            OpenApiParameter("end", OpenApiTypes.DATETIME, required=False),
        ],
        responses={200: ShiftsSerializer, **READ_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def shifts(self, request, pk=None):
        schedule = self.get_object()
        start = parse_instant(
            "start", request.query_params.get("start"), timezone.now()
        )
        end = parse_instant(
            "end", request.query_params.get("end"), start + DEFAULT_RANGE
        )
        if end <= start:
            raise ValidationError({"end": ["The end must be after the start."]})
        if end - start > MAX_RANGE:
            raise ValidationError({"end": ["Ask for at most 93 days at a time."]})
        timeline = [
            _person(s.user, s.layer, s.start, s.end)
            for s in shifts(schedule, start, end)
        ]
        return Response(
            ShiftsSerializer(
                {
                    "start": start,
                    "end": end,
                    "time_zone": schedule.time_zone,
                    "shifts": timeline,
                }
            ).data
        )

    @extend_schema(
        summary="Add an override",
        description="Puts `user` (username) on call from `start` to `end` above "
        "every layer. Configurators and incident managers (403 otherwise).",
        request=OverrideInput,
        responses={201: OverrideSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def overrides(self, request, pk=None):
        schedule = self.get_object()
        data = OverrideInput(data=request.data)
        data.is_valid(raise_exception=True)
        override = services.override_create(
            schedule=schedule, actor=request.user, **data.validated_data
        )
        return Response(OverrideSerializer(override).data, status=201)
