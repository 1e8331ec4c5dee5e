"""API routes of this app, registered on the one ``/api/v1/`` router. The alert
intake endpoint lives in ``incidents.ingestion.api`` (``AlertIngestView``,
re-exported here for the URL map).

Views validate with an input serializer, call one service and render with an
output serializer. Every access question goes to ``incidents.permissions``: what
a user may not see is a 404 (the queryset is ``visible_to(user)``); what they may
see but not do is the service's ``NotPermitted`` (403).
"""

from django.db import transaction
from django.db.models import Prefetch
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import filters, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from incidentops.api import ERROR, READ_ERRORS, WRITE_ERRORS
from incidentops.exceptions import DomainError
from incidents import analytics, insights, providers, services
from incidents import permissions as rules
from incidents.filters import IncidentFilter, StrictOrderingFilter
from incidents.ingestion.api import AlertIngestView  # noqa: F401 (the URL map)
from incidents.links_api import IncidentLinksMixin
from incidents.models import (
    ActionItem,
    Alert,
    Incident,
    IncidentService,
    IncidentType,
    RoleRequest,
    Service,
    SeverityLevel,
    Team,
    TeamMembership,
    TimelineEntry,
)
from incidents.regulatory_api import RegulatoryNotificationsMixin
from incidents.serializers import (
    ActionCreateInput,
    ActionItemSerializer,
    ActionPatchInput,
    AlertSerializer,
    AssignRoleInput,
    ConfirmSeverityInput,
    CorrectTimesInput,
    IncidentCreateInput,
    IncidentDetailSerializer,
    IncidentPatchInput,
    IncidentSerializer,
    IncidentTypeSerializer,
    InsightsQueryInput,
    InsightsSerializer,
    RestrictionInput,
    RoleAssignmentSerializer,
    RoleRequestDeclineInput,
    RoleRequestInput,
    RoleRequestSerializer,
    RoleSuggestionSerializer,
    ServiceInput,
    ServiceSerializer,
    SeverityLevelSerializer,
    StakeholderUpdateInput,
    StakeholderUpdateSerializer,
    TeamInput,
    TeamSerializer,
    TimelineEntrySerializer,
    TimelineEvidenceSerializer,
    TransitionInput,
    TrendsQueryInput,
    TrendsSerializer,
    TriageSuggestInput,
    TriageSuggestionSerializer,
)
from incidents.timeline import export_timeline
from incidents.triage import suggest_for


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _refuse_own_service_fields(data) -> None:
    """``severity``, ``commander`` and ``status`` change only through their own
    actions: 400 ``not_editable`` naming the action, on create as on PATCH."""
    if isinstance(data, dict):
        for name in data:
            if name in services.REFUSED_FIELDS:
                raise DomainError(
                    services.REFUSED_FIELDS[name], field=name, code="not_editable"
                )


def _refuse_unknown(data, serializer_class) -> None:
    """Name fields the endpoint does not take, rather than ignoring them."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    unknown = sorted(set(data) - set(serializer_class().fields))
    if unknown:
        raise DomainError(
            "Unknown field(s): " + ", ".join(unknown) + ".",
            field=unknown[0],
            code="unknown_field",
        )


class CanSeeIncident(permissions.BasePermission):
    """Object-level view rule (the queryset already hides the rest as 404)."""

    def has_object_permission(self, request, view, obj):
        incident = obj if isinstance(obj, Incident) else obj.incident
        return rules.can_view(request.user, incident)


@extend_schema_view(
    list=extend_schema(
        summary="Incidents the caller may see, newest first",
        responses={200: IncidentSerializer(many=True), 401: ERROR},
    ),
    retrieve=extend_schema(
        summary="One incident, with its role suggestions",
        responses={200: IncidentDetailSerializer, **READ_ERRORS},
    ),
)
class IncidentViewSet(
    IncidentLinksMixin,
    RegulatoryNotificationsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = IncidentSerializer
    permission_classes = [permissions.IsAuthenticated, CanSeeIncident]
    filter_backends = [DjangoFilterBackend, filters.SearchFilter, StrictOrderingFilter]
    filterset_class = IncidentFilter
    search_fields = ["reference", "title", "description", "impact"]
    ordering_fields = [
        "created_at",
        "detected_at",
        "acknowledged_at",
        "resolved_at",
        "reference",
        "status",
        "severity__rank",
    ]
    ordering = ["-created_at", "-pk"]
    # DELETE only for a link (``links/{link_id}/``); incidents are never deleted.
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return (
            Incident.objects.visible_to(self.request.user)
            .for_list()
            .select_related("severity_confirmed_by")
            .prefetch_related(
                Prefetch(
                    "service_links",
                    queryset=IncidentService.objects.select_related("service__team"),
                )
            )
        )

    def get_serializer_class(self):
        if self.action == "retrieve":
            return IncidentDetailSerializer
        return IncidentSerializer

    def _render(self, incident, code=status.HTTP_200_OK) -> Response:
        return Response(
            IncidentDetailSerializer(incident, context={"request": self.request}).data,
            status=code,
        )

    @extend_schema(
        summary="Declare an incident",
        description="`severity`, `commander` and `status` are refused (400), as on "
        "PATCH: they change through confirm-severity, assign-role and transition.",
        request=IncidentCreateInput,
        responses={201: IncidentDetailSerializer, 400: ERROR, 401: ERROR, 403: ERROR},
    )
    def create(self, request):
        _refuse_own_service_fields(request.data)
        data = _validated(IncidentCreateInput, request.data)
        data["services"] = services.services_by_slug(data.pop("services", []))
        incident = services.incident_declare(actor=request.user, **data)
        return self._render(
            self.get_queryset().get(pk=incident.pk), status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Change plain fields",
        description="`severity`, `commander` and `status` are refused (400): they "
        "change through confirm-severity, assign-role and transition.",
        request=IncidentPatchInput,
        responses={200: IncidentDetailSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        incident = self.get_object()
        _refuse_own_service_fields(request.data)
        _refuse_unknown(request.data, IncidentPatchInput)
        fields = _validated(IncidentPatchInput, request.data)
        slugs = fields.pop("services", None)
        named = services.services_by_slug(slugs) if slugs is not None else None
        with transaction.atomic():
            if fields:
                services.incident_update(
                    incident=incident, actor=request.user, **fields
                )
            if named is not None:
                services.incident_set_services(
                    incident=incident, actor=request.user, services=named
                )
        return self._render(self.get_queryset().get(pk=incident.pk))

    @extend_schema(
        summary="A person confirms or changes the severity",
        description="403 for a service account.",
        request=ConfirmSeverityInput,
        responses={200: IncidentDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="confirm-severity")
    def confirm_severity(self, request, pk=None):
        incident = self.get_object()
        data = _validated(ConfirmSeverityInput, request.data)
        services.incident_confirm_severity(
            incident=incident, actor=request.user, **data
        )
        return self._render(self.get_queryset().get(pk=incident.pk))

    @extend_schema(
        summary="Assign a role (commander, communications, scribe, operations, ...)",
        description="Assigning the commander to a service account is refused (400). "
        "First one wins: a claim of command that lost a race, or a stale "
        '`expected_holder`, is refused with 409 `{"detail", "code": "conflict", '
        '"holder"}` naming who holds the role.',
        request=AssignRoleInput,
        responses={201: RoleAssignmentSerializer, **WRITE_ERRORS, 409: ERROR},
    )
    @action(detail=True, methods=["post"], url_path="assign-role")
    def assign_role(self, request, pk=None):
        incident = self.get_object()
        data = _validated(AssignRoleInput, request.data)
        assignment = services.incident_assign_role(
            incident=incident, actor=request.user, **data
        )
        return Response(
            RoleAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Acknowledge: a person is on it (stops the paging)",
        description="Sets `acknowledged_at` (once) and stops the incident's "
        "escalations; logged on the timeline. First one wins: if it was "
        'acknowledged already, 409 `{"detail", "code": "conflict", "holder"}` '
        "names who (`holder` is null when nobody is recorded). 403 for a service "
        "account; 400 when the incident is resolved or closed. No body.",
        request=None,
        responses={200: IncidentSerializer, **WRITE_ERRORS, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        incident = self.get_object()
        services.incident_acknowledge(
            incident=incident, user=request.user, via="the API"
        )
        return self._render(self.get_queryset().get(pk=incident.pk))

    @extend_schema(
        summary="Restrict the incident, or lift its restriction",
        description="`restricted: true` restricts it (anyone who may edit the "
        "incident): only its reporter, role holders and the groups its type names "
        "may see it from then on. `restricted: false` lifts the restriction "
        "(incident managers only: 403 otherwise). A `reason` is required (400 "
        "without); the change and the reason are written on the timeline, as "
        "with the portal's control. Nothing changes when the incident already is "
        "as asked. 200 with the incident; 204 (no body) when the caller may no "
        "longer see it after restricting it.",
        request=RestrictionInput,
        responses={
            200: IncidentSerializer,
            204: OpenApiResponse(description="Restricted; no longer visible to you."),
            **WRITE_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def restriction(self, request, pk=None):
        incident = self.get_object()
        _refuse_unknown(request.data, RestrictionInput)
        data = _validated(RestrictionInput, request.data)
        services.incident_set_restriction(incident=incident, actor=request.user, **data)
        visible = self.get_queryset().filter(pk=incident.pk).first()
        if visible is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._render(visible)

    @extend_schema(
        summary="Move along the lifecycle",
        description="400 with the reason where the lifecycle forbids the move.",
        request=TransitionInput,
        responses={200: IncidentDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        incident = self.get_object()
        data = _validated(TransitionInput, request.data)
        services.incident_transition(incident=incident, actor=request.user, **data)
        return self._render(self.get_queryset().get(pk=incident.pk))

    @extend_schema(
        summary="Correct the incident's times",
        description="Any of `impact_started_at`, `detected_at`, `acknowledged_at`, "
        "`mitigated_at`, `resolved_at` with a `reason`. A time not set yet cannot "
        "be corrected (except the impact start); times must keep their order and "
        "none may be in the future (400 with the reason). Each correction is on "
        "the timeline with the old and new values; response metrics use the "
        "corrected times. 403 unless the caller runs the incident.",
        request=CorrectTimesInput,
        responses={200: IncidentDetailSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="correct-times")
    def correct_times(self, request, pk=None):
        incident = self.get_object()
        if isinstance(request.data, dict):
            unknown = sorted(set(request.data) - set(CorrectTimesInput().fields))
            if unknown:
                raise DomainError(
                    "Unknown field(s): " + ", ".join(unknown) + ".",
                    field=unknown[0],
                    code="unknown_field",
                )
        data = _validated(CorrectTimesInput, request.data)
        services.incident_correct_times(incident=incident, actor=request.user, **data)
        return self._render(self.get_queryset().get(pk=incident.pk))

    @extend_schema(
        methods=["get"],
        summary="The incident's action items",
        responses={200: ActionItemSerializer(many=True), **READ_ERRORS},
    )
    @extend_schema(
        methods=["post"],
        summary="Add an action item",
        request=ActionCreateInput,
        responses={201: ActionItemSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def actions(self, request, pk=None):
        incident = self.get_object()
        if request.method == "POST":
            data = _validated(ActionCreateInput, request.data)
            item = services.action_create(incident=incident, actor=request.user, **data)
            return Response(
                ActionItemSerializer(item).data, status=status.HTTP_201_CREATED
            )
        items = incident.actions.select_related(
            "owner", "role", "completed_by"
        ).order_by("due_at", "pk")
        page = self.paginate_queryset(items)
        return self.get_paginated_response(ActionItemSerializer(page, many=True).data)

    @extend_schema(
        summary="The append-only timeline, in time order",
        responses={200: TimelineEntrySerializer(many=True), **READ_ERRORS},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def timeline(self, request, pk=None):
        incident = self.get_object()
        entries = (
            TimelineEntry.objects.filter(incident=incident)
            .select_related("actor")
            .order_by("occurred_at", "sequence")
        )
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(
            TimelineEntrySerializer(page, many=True).data
        )

    @extend_schema(
        summary="The incident's alerts, firing first and most severe first",
        description="Every alert its integration delivered, one per fingerprint "
        "(repeats update the row and count `deliveries`). Paginated; the same "
        "visibility as the incident (404 otherwise).",
        responses={200: AlertSerializer(many=True), **READ_ERRORS},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def alerts(self, request, pk=None):
        incident = self.get_object()
        page = self.paginate_queryset(
            Alert.objects.filter(incident=incident).for_table()
        )
        return self.get_paginated_response(AlertSerializer(page, many=True).data)

    @extend_schema(
        summary="The timeline as evidence: every entry with its hash, verified",
        description="A third party can recompute the chain: each hash is sha256 "
        "over the canonical JSON of its content, which includes the previous "
        "entry's hash. `verification` names the first broken entry, if any.",
        responses={200: TimelineEvidenceSerializer, **READ_ERRORS},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def evidence(self, request, pk=None):
        incident = self.get_object()
        return Response(TimelineEvidenceSerializer(export_timeline(incident)).data)

    @extend_schema(
        summary="Who might fill the incident's open roles, and why",
        description="For the commander (while nobody commands) and each role the "
        "playbooks require that nobody holds: the on-call of the affected "
        "services' teams first, then members who held the role before. People "
        "only, who may see the incident; nobody is assigned by a suggestion "
        "(ask them with role-requests).",
        responses={200: RoleSuggestionSerializer(many=True), **READ_ERRORS},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="role-suggestions",
        filter_backends=[],
        pagination_class=None,
    )
    def role_suggestions(self, request, pk=None):
        incident = self.get_object()
        return Response(
            RoleSuggestionSerializer(
                providers.role_suggestions(incident, request.user), many=True
            ).data
        )

    @extend_schema(
        methods=["get"],
        summary="Requests to take a role, newest first",
        responses={200: RoleRequestSerializer(many=True), **READ_ERRORS},
    )
    @extend_schema(
        methods=["post"],
        summary="Ask a person to take a role (they accept with one click)",
        description="Assigns nothing: the person asked accepts "
        "(`POST /api/v1/role-requests/{id}/accept/`) or declines. They are told "
        "through the outbox; the request and the message are on the timeline.",
        request=RoleRequestInput,
        responses={201: RoleRequestSerializer, **WRITE_ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="role-requests",
        filter_backends=[],
    )
    def role_requests(self, request, pk=None):
        incident = self.get_object()
        if request.method == "POST":
            data = _validated(RoleRequestInput, request.data)
            role_request = services.role_request_create(
                incident=incident, actor=request.user, **data
            )
            return Response(
                RoleRequestSerializer(role_request).data,
                status=status.HTTP_201_CREATED,
            )
        rows = incident.role_requests.select_related("role", "user", "asked_by")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RoleRequestSerializer(page, many=True).data)

    @extend_schema(
        methods=["get"],
        summary="Stakeholder updates, newest first",
        responses={200: StakeholderUpdateSerializer(many=True), **READ_ERRORS},
    )
    @extend_schema(
        methods=["post"],
        summary="Post a stakeholder update (logged and sent to the lists)",
        request=StakeholderUpdateInput,
        responses={201: StakeholderUpdateSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def updates(self, request, pk=None):
        incident = self.get_object()
        if request.method == "POST":
            data = _validated(StakeholderUpdateInput, request.data)
            update = services.stakeholder_update_post(
                incident=incident, actor=request.user, **data
            )
            return Response(
                StakeholderUpdateSerializer(update).data,
                status=status.HTTP_201_CREATED,
            )
        updates = incident.stakeholder_updates.select_related("author").order_by(
            "-created_at", "-pk"
        )
        page = self.paginate_queryset(updates)
        return self.get_paginated_response(
            StakeholderUpdateSerializer(page, many=True).data
        )


@extend_schema_view(
    retrieve=extend_schema(
        summary="One action item", responses={200: ActionItemSerializer, **READ_ERRORS}
    ),
)
class ActionItemViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ActionItemSerializer
    permission_classes = [permissions.IsAuthenticated, CanSeeIncident]
    http_method_names = ["get", "patch", "head", "options"]
    filter_backends: list = []

    def get_queryset(self):
        visible = Incident.objects.visible_to(self.request.user)
        return ActionItem.objects.filter(incident__in=visible).select_related(
            "incident", "owner", "role", "completed_by"
        )

    @extend_schema(
        summary="Change an action item (title, owner, due_at, status, ...)",
        request=ActionPatchInput,
        responses={200: ActionItemSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        item = self.get_object()
        _refuse_unknown(request.data, ActionPatchInput)
        fields = _validated(ActionPatchInput, request.data)
        item = services.action_update(action=item, actor=request.user, **fields)
        return Response(ActionItemSerializer(self.get_queryset().get(pk=item.pk)).data)


@extend_schema_view(
    list=extend_schema(
        summary="The incident taxonomy",
        responses={200: IncidentTypeSerializer(many=True), 401: ERROR},
    ),
    retrieve=extend_schema(responses={200: IncidentTypeSerializer, **READ_ERRORS}),
)
class IncidentTypeViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IncidentTypeSerializer
    queryset = IncidentType.objects.select_related(
        "family", "default_severity"
    ).order_by("family__name", "name")
    lookup_field = "slug"
    filter_backends = [filters.SearchFilter]
    search_fields = ["slug", "name", "family__name"]


@extend_schema_view(
    list=extend_schema(
        summary="The severity framework",
        responses={200: SeverityLevelSerializer(many=True), 401: ERROR},
    ),
    retrieve=extend_schema(responses={200: SeverityLevelSerializer, **READ_ERRORS}),
)
class SeverityLevelViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SeverityLevelSerializer
    queryset = SeverityLevel.objects.order_by("rank")
    lookup_field = "code"
    filter_backends: list = []


class TriageViewSet(viewsets.GenericViewSet):
    serializer_class = TriageSuggestionSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        summary="Suggest a type, a severity and similar past incidents",
        description="Stores nothing. Similar incidents come only from those the "
        "caller may see.",
        request=TriageSuggestInput,
        responses={200: TriageSuggestionSerializer, 400: ERROR, 401: ERROR},
    )
    @action(detail=False, methods=["post"])
    def suggest(self, request):
        data = _validated(TriageSuggestInput, request.data)
        incident_type = data["incident_type"]
        suggestion = suggest_for(
            title=data["title"],
            description=data["description"],
            impact=data["impact"],
            customer_facing=data["customer_facing"],
            data_exposed=data["data_exposed"],
            regulatory=data["regulatory"],
            incident_type=incident_type.slug if incident_type else None,
            affected_services=data["affected_services"],
            affected_sites=data["affected_sites"],
            affected_suppliers=data["affected_suppliers"],
            user=request.user,
        )
        return Response(TriageSuggestionSerializer(suggestion.as_dict()).data)


class AnalyticsViewSet(viewsets.GenericViewSet):
    serializer_class = TrendsSerializer
    filter_backends: list = []
    pagination_class = None

    @extend_schema(
        summary="Counts, MTTA and MTTR per week or month",
        parameters=[
            OpenApiParameter(
                "group_by", str, enum=["incident_type", "severity"], required=True
            ),
            OpenApiParameter("period", str, enum=["week", "month"], required=True),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
        ],
        responses={200: TrendsSerializer, 400: ERROR, 401: ERROR},
    )
    @action(detail=False, methods=["get"])
    def trends(self, request):
        params = _validated(TrendsQueryInput, request.query_params)
        results = analytics.incident_trends(user=request.user, **params)
        return Response(TrendsSerializer({**params, "results": results}).data)

    @extend_schema(
        summary="The insights page's figures: volume, MTTx medians and p90, "
        "recurrence, triage agreement, alert noise",
        description="Over the incidents the caller may see, declared between "
        "`since` and `until` (days in the organisation's time zone, inclusive; "
        "default the last 365 days). Durations in seconds: to acknowledge from "
        "detection, to mitigate and resolve from the impact start. 403 for "
        "people without the insights right (managers, executives, reviewers).",
        parameters=[InsightsQueryInput],
        responses={200: InsightsSerializer, 400: ERROR, 401: ERROR, 403: ERROR},
    )
    @action(detail=False, methods=["get"])
    def insights(self, request):
        if not rules.can_view_insights(request.user):
            raise PermissionDenied(
                "Insights are for managers, executives and reviewers."
            )
        params = _validated(InsightsQueryInput, request.query_params)
        figures = insights.insights(request.user, insights.InsightFilters(**params))
        return Response(InsightsSerializer(figures).data)


class CanSeeCatalog(permissions.BasePermission):
    """Teams and services are read by everyone who works incidents; writes are
    the services' question (403 with the reason)."""

    def has_permission(self, request, view):
        return rules.can_view_catalog(request.user)


class _CatalogViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    permission_classes = [permissions.IsAuthenticated, CanSeeCatalog]
    lookup_field = "slug"
    filter_backends = [filters.SearchFilter, StrictOrderingFilter]
    http_method_names = ["get", "post", "patch", "head", "options"]
    input_class: type = TeamInput

    def _input(self, partial: bool) -> dict:
        _refuse_unknown(self.request.data, self.input_class)
        serializer = self.input_class(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def _render(self, obj, code=status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=obj.pk)
        return Response(self.get_serializer(fresh).data, status=code)


@extend_schema_view(
    list=extend_schema(
        summary="Teams, with members, manager, services and channels",
        responses={200: TeamSerializer(many=True), 401: ERROR, 403: ERROR},
    ),
    retrieve=extend_schema(
        summary="One team", responses={200: TeamSerializer, **READ_ERRORS}
    ),
    create=extend_schema(
        summary="Create a team (configurators)",
        description="`members` is a list of usernames (people only); `manager` a "
        "username. 403 unless the caller configures the catalog.",
        request=TeamInput,
        responses={201: TeamSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a team (configurators)",
        description="`members`, when given, is the whole new list.",
        request=TeamInput,
        responses={200: TeamSerializer, **WRITE_ERRORS},
    ),
)
class TeamViewSet(_CatalogViewSet):
    serializer_class = TeamSerializer
    input_class = TeamInput
    search_fields = ["slug", "name"]
    ordering_fields = ["name", "slug", "created_at"]
    ordering = ["name"]

    def get_queryset(self):
        return Team.objects.select_related("manager").prefetch_related(
            Prefetch(
                "memberships",
                queryset=TeamMembership.objects.select_related("user").order_by(
                    "user__username"
                ),
            ),
            Prefetch("services", queryset=Service.objects.order_by("slug")),
            "channels",
        )

    def create(self, request):
        team = services.team_create(actor=request.user, **self._input(False))
        return self._render(team, status.HTTP_201_CREATED)

    def partial_update(self, request, slug=None):
        team = self.get_object()
        services.team_update(team=team, actor=request.user, **self._input(True))
        return self._render(team)


@extend_schema_view(
    list=extend_schema(
        summary="The service catalog",
        description="Filter with `?team=<slug>` and `?tier=1..4`.",
        parameters=[
            OpenApiParameter("team", OpenApiTypes.STR, description="Team slug"),
            OpenApiParameter("tier", OpenApiTypes.INT, description="1 to 4"),
        ],
        responses={200: ServiceSerializer(many=True), 401: ERROR, 403: ERROR},
    ),
    retrieve=extend_schema(
        summary="One service", responses={200: ServiceSerializer, **READ_ERRORS}
    ),
    create=extend_schema(
        summary="Add a service (configurators)",
        description="`team` and `depends_on` by slug; `alert_labels` a JSON "
        'object such as {"service": "checkout-api"}: an alert carrying all of '
        "them links the service to its incident. 403 unless the caller "
        "configures the catalog.",
        request=ServiceInput,
        responses={201: ServiceSerializer, **WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a service (configurators)",
        description="`depends_on`, when given, is the whole new list; a "
        "dependency that would make it depend on itself is refused (400).",
        request=ServiceInput,
        responses={200: ServiceSerializer, **WRITE_ERRORS},
    ),
)
class ServiceViewSet(_CatalogViewSet):
    serializer_class = ServiceSerializer
    input_class = ServiceInput
    search_fields = ["slug", "name", "description"]
    ordering_fields = ["name", "slug", "tier", "created_at"]
    ordering = ["tier", "name"]

    def get_queryset(self):
        queryset = Service.objects.select_related("team").prefetch_related(
            Prefetch("depends_on", queryset=Service.objects.order_by("slug")),
            Prefetch("dependents", queryset=Service.objects.order_by("slug")),
        )
        team = self.request.query_params.get("team")
        if team:
            queryset = queryset.filter(team__slug=team)
        tier = self.request.query_params.get("tier")
        if tier:
            if tier not in {"1", "2", "3", "4"}:
                raise ValidationError({"tier": ["A tier is 1 to 4."]})
            queryset = queryset.filter(tier=int(tier))
        return queryset

    def create(self, request):
        service = services.service_create(actor=request.user, **self._input(False))
        return self._render(service, status.HTTP_201_CREATED)

    def partial_update(self, request, slug=None):
        service = self.get_object()
        services.service_update(
            service=service, actor=request.user, **self._input(True)
        )
        return self._render(service)


@extend_schema_view(
    list=extend_schema(
        summary="Requests to take a role that ask me, newest first",
        description="`?status=pending` for those waiting for my answer.",
        responses={200: RoleRequestSerializer(many=True), 401: ERROR},
    ),
    retrieve=extend_schema(
        summary="One request that asks me",
        responses={200: RoleRequestSerializer, **READ_ERRORS},
    ),
)
class RoleRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's own requests: only the person asked answers."""

    serializer_class = RoleRequestSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list = []
    queryset = RoleRequest.objects.none()  # the schema's type; see get_queryset

    def get_queryset(self):
        rows = RoleRequest.objects.filter(
            user=self.request.user,
            incident__in=Incident.objects.visible_to(self.request.user),
        ).select_related("incident", "role", "user", "asked_by")
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in RoleRequest.Status.values:
                raise ValidationError(
                    {"status": [f"One of {', '.join(RoleRequest.Status.values)}."]}
                )
            rows = rows.filter(status=wanted)
        return rows

    @extend_schema(
        summary="Accept: take the role (one click)",
        description="The role is assigned (`assign-role` semantics). 403 unless "
        "the caller is the person asked; 400 if already answered.",
        request=None,
        responses={201: RoleAssignmentSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        assignment = services.role_request_accept(
            request=self.get_object(), actor=request.user
        )
        return Response(
            RoleAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Decline, with an optional note",
        request=RoleRequestDeclineInput,
        responses={200: RoleRequestSerializer, **WRITE_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        data = _validated(RoleRequestDeclineInput, request.data)
        role_request = services.role_request_decline(
            request=self.get_object(), actor=request.user, **data
        )
        return Response(RoleRequestSerializer(role_request).data)


def register(router) -> None:
    """Add this app's viewsets to ``router``."""
    router.register("incidents", IncidentViewSet, basename="incident")
    router.register("actions", ActionItemViewSet, basename="action")
    router.register("incident-types", IncidentTypeViewSet, basename="incident-type")
    router.register("severity-levels", SeverityLevelViewSet, basename="severity-level")
    router.register("triage", TriageViewSet, basename="triage")
    router.register("analytics", AnalyticsViewSet, basename="analytics")
    router.register("teams", TeamViewSet, basename="team")
    router.register("services", ServiceViewSet, basename="service")
    router.register("role-requests", RoleRequestViewSet, basename="role-request")
