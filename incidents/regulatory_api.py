"""The API of regulatory notifications:
``GET|POST /api/v1/incidents/{id}/regulatory-notifications/``.

Kept beside ``incidents.api`` and ``incidents.serializers`` (their part of the
API room, which had reached the house's size limit): the shapes and the action,
mixed into ``IncidentViewSet`` so the route, the visibility rule (404 for an
incident the caller may not see) and the error body are the incident's own.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from incidentops.api import READ_ERRORS, WRITE_ERRORS
from incidentops.exceptions import DomainError
from incidents import services
from incidents.models import RegulatoryNotification

User = get_user_model()


class RegulatoryNotificationSerializer(serializers.ModelSerializer):
    """A notification made to an authority; times in UTC (ISO 8601)."""

    incident = serializers.PrimaryKeyRelatedField(read_only=True)
    notified_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    in_time = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Whether the authority was told by the deadline (computed); "
        "null when no deadline applies.",
    )

    class Meta:
        model = RegulatoryNotification
        fields = [
            "id",
            "incident",
            "authority",
            "deadline_at",
            "notified_at",
            "notified_by",
            "method",
            "reference",
            "notes",
            "in_time",
            "recorded_by",
            "recorded_at",
        ]
        read_only_fields = fields


class RegulatoryNotificationInput(serializers.Serializer):
    """What a person records; times ISO 8601 (a time without a zone is UTC)."""

    authority = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Blank: the incident type's authority.",
    )
    notified_at = serializers.DateTimeField()
    notified_by = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
        help_text="Username of the person who told the authority; absent: the caller.",
    )
    method = serializers.ChoiceField(choices=RegulatoryNotification.Method.choices)
    deadline_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="The legal deadline; absent: the incident type's (its hours "
        "from detection); null: no deadline applies.",
    )
    reference = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    notes = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, default=""
    )


class RegulatoryNotificationsMixin:
    """``regulatory-notifications`` on an incident (mixed into
    ``IncidentViewSet``, whose ``get_object`` applies the visibility rule)."""

    @extend_schema(
        methods=["get"],
        summary="Authorities told about the incident, in the order they were told",
        description="Each with its legal deadline and whether it was met "
        "(`in_time`, computed). The same visibility as the incident (404 "
        "otherwise).",
        responses={200: RegulatoryNotificationSerializer(many=True), **READ_ERRORS},
    )
    @extend_schema(
        methods=["post"],
        summary="Record that an authority was told",
        description="For people who run the incident (403 otherwise). "
        "`deadline_at` absent takes the incident type's deadline (its hours from "
        "detection), null records none. Refused (400, nothing stored) for a time "
        "in the future or before detection, an unknown method, or a notifier who "
        "is not a person who may see the incident. Recorded on the timeline.",
        request=RegulatoryNotificationInput,
        responses={201: RegulatoryNotificationSerializer, **WRITE_ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="regulatory-notifications",
        filter_backends=[],
    )
    def regulatory_notifications(self, request, pk=None):
        incident = self.get_object()
        if request.method == "POST":
            data = request.data
            if isinstance(data, dict):
                unknown = sorted(set(data) - set(RegulatoryNotificationInput().fields))
                if unknown:
                    raise DomainError(
                        "Unknown field(s): " + ", ".join(unknown) + ".",
                        field=unknown[0],
                        code="unknown_field",
                    )
            serializer = RegulatoryNotificationInput(data=data)
            serializer.is_valid(raise_exception=True)
            values = dict(serializer.validated_data)
            if "deadline_at" not in values:
                values["deadline_at"] = services.TYPE_DEADLINE
            row = services.regulatory_notification_record(
                incident=incident, actor=request.user, **values
            )
            return Response(
                RegulatoryNotificationSerializer(row).data,
                status=status.HTTP_201_CREATED,
            )
        rows = incident.regulatory_notifications.select_related(
            "notified_by", "recorded_by"
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(
            RegulatoryNotificationSerializer(page, many=True).data
        )
