"""The API of links between incidents, mixed into ``IncidentViewSet``:
``GET|POST /api/v1/incidents/{id}/links/``,
``DELETE /api/v1/incidents/{id}/links/{link_id}/`` and
``POST /api/v1/incidents/{id}/mark-duplicate/``.

A link is shown only when the caller may see the incident at its other end;
an incident the caller may not see is refused exactly as one that does not
exist (400 ``not_found`` in a body, 404 in the path).
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from incidentops.api import READ_ERRORS, WRITE_ERRORS
from incidents import permissions as rules
from incidents import services
from incidents.models import Incident, IncidentLink
from incidents.serializers import IncidentDetailSerializer


class LinkedIncidentSerializer(serializers.ModelSerializer):
    closure_reason = serializers.CharField(
        read_only=True, help_text='"duplicate", "false_alarm" or "".'
    )

    class Meta:
        model = Incident
        fields = ["id", "reference", "title", "status", "closure_reason"]
        read_only_fields = fields


class IncidentLinkSerializer(serializers.Serializer):
    """A link as seen from one incident (the one in the URL)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(
        choices=IncidentLink.Kind.choices,
        help_text="As stored: `duplicate-of` (source closed as a duplicate of "
        "target), `related`, `caused-by` (source caused by target).",
    )
    direction = serializers.ChoiceField(
        choices=[("outgoing", "outgoing"), ("incoming", "incoming")],
        help_text="`outgoing`: this incident is the link's source "
        "(it is the duplicate, or was caused by the other).",
    )
    label = serializers.CharField(
        help_text='How it reads here: "Duplicate of", "Duplicated by", '
        '"Related", "Caused by", "Caused".'
    )
    incident = LinkedIncidentSerializer(help_text="The incident at the other end.")
    note = serializers.CharField()
    created_by = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()


class LinkInput(serializers.Serializer):
    incident = serializers.IntegerField(help_text="The other incident's id.")
    kind = serializers.ChoiceField(
        choices=[k for k in IncidentLink.Kind.choices if k[0] != "duplicate-of"],
        default=IncidentLink.Kind.RELATED,
        help_text="`related` (default) or `caused-by` (this incident was caused "
        "by the other). A duplicate: `mark-duplicate`.",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")


class MarkDuplicateInput(serializers.Serializer):
    of = serializers.IntegerField(help_text="The primary incident's id.")
    note = serializers.CharField(required=False, allow_blank=True, default="")


def _as_dict(link: IncidentLink) -> dict:
    return {
        "id": link.pk,
        "kind": link.kind,
        "direction": link.direction,
        "label": link.label,
        "incident": LinkedIncidentSerializer(link.other_incident).data,
        "note": link.note,
        "created_by": link.created_by.username if link.created_by else None,
        "created_at": link.created_at,
    }


def _visible_or_none(user, pk) -> Incident | None:
    return Incident.objects.visible_to(user).filter(pk=pk).first()


class IncidentLinksMixin:
    """The link actions of ``IncidentViewSet`` (it provides ``get_object``,
    ``get_queryset`` and ``_render``)."""

    @extend_schema(
        methods=["get"],
        summary="The incident's links to other incidents",
        description="Duplicates, related incidents and causes, in both "
        "directions; only links whose other incident the caller may see.",
        responses={200: IncidentLinkSerializer(many=True), **READ_ERRORS},
    )
    @extend_schema(
        methods=["post"],
        summary="Link another incident (related, or caused by it)",
        description="Both incidents' timelines record it. 400 `not_found` when "
        "the other incident does not exist or the caller may not see it; 409 "
        "when already linked so; 403 unless the caller may add notes here.",
        request=LinkInput,
        responses={201: IncidentLinkSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def links(self, request, pk=None):
        incident = self.get_object()
        if request.method == "POST":
            data = _validated(LinkInput, request.data)
            link = services.incident_link(
                incident=incident,
                other=_visible_or_none(request.user, data["incident"]),
                actor=request.user,
                kind=data["kind"],
                note=data["note"],
            )
            shown = next(
                item
                for item in IncidentLink.objects.seen_from(incident, request.user)
                if item == link
            )
            return Response(
                IncidentLinkSerializer(_as_dict(shown)).data,
                status=status.HTTP_201_CREATED,
            )
        page = self.paginate_queryset(
            IncidentLink.objects.seen_from(incident, request.user)
        )
        return self.get_paginated_response(
            IncidentLinkSerializer([_as_dict(link) for link in page], many=True).data
        )

    @extend_schema(
        summary="Remove a related or caused-by link",
        description="404 unless the caller may see both incidents; 400 for a "
        "duplicate-of link (reopen the duplicate instead).",
        request=None,
        responses={204: None, **WRITE_ERRORS},
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"links/(?P<link_id>\d+)",
        filter_backends=[],
    )
    def unlink(self, request, pk=None, link_id=None):
        incident = self.get_object()
        link = (
            IncidentLink.objects.filter(pk=link_id)
            .filter(Q(source=incident) | Q(target=incident))
            .select_related("source", "target")
            .first()
        )
        if link is None or not rules.can_view(request.user, link.other(incident)):
            raise Http404("No link matches the given query.")
        services.incident_unlink(link=link, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Close as a duplicate of another incident",
        description="`of`: the primary's id. The incident is closed with "
        "`closure_reason` `duplicate` and linked to the primary; its alerts move "
        "there; both timelines record it; its reporter and role holders are "
        "told. No review is opened for it. 400 `not_found` when the primary does "
        "not exist or the caller may not see it; 400 when the primary is itself "
        "a duplicate or resolved while this one is open; 409 when already a "
        "duplicate; 403 unless the caller is a person who may change its status.",
        request=MarkDuplicateInput,
        responses={200: IncidentDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="mark-duplicate")
    def mark_duplicate(self, request, pk=None):
        incident = self.get_object()
        data = _validated(MarkDuplicateInput, request.data)
        services.incident_mark_duplicate(
            incident=incident,
            primary=_visible_or_none(request.user, data["of"]),
            actor=request.user,
            note=data["note"],
        )
        return self._render(self.get_queryset().get(pk=incident.pk))


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
