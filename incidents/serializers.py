"""API shapes. Input serializers (plain ``Serializer``) only validate; the views
call ``incidents.services`` with what they validated. Output serializers are
read-only renderings of rows."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents import providers
from incidents.models import (
    ActionItem,
    Alert,
    Incident,
    IncidentType,
    Role,
    RoleAssignment,
    RoleRequest,
    Service,
    SeverityLevel,
    StakeholderUpdate,
    Team,
    TimelineEntry,
)
from incidents.models.alerts import ALERT_RECORD_FIELDS
from incidents.triage import named_references, visible_rationale

User = get_user_model()


def _username(user) -> str | None:
    return user.username if user is not None else None


# --- output ----------------------------------------------------------------------


class SimilarIncidentSerializer(serializers.Serializer):
    reference = serializers.CharField()
    title = serializers.CharField()
    severity = serializers.CharField(allow_null=True)
    resolution = serializers.CharField(allow_blank=True)
    open = serializers.BooleanField(
        help_text="Still open: a possible duplicate (open ones come first)."
    )


class SuggestionSerializer(serializers.Serializer):
    severity = serializers.CharField(allow_null=True)
    incident_type = serializers.CharField(allow_null=True)
    confidence = serializers.FloatField(
        help_text="0-1: the lower of type_confidence and severity_confidence."
    )
    rationale = serializers.CharField(allow_blank=True)
    type_confidence = serializers.FloatField(allow_null=True, required=False)
    severity_confidence = serializers.FloatField(allow_null=True, required=False)


class TriageSuggestionSerializer(SuggestionSerializer):
    similar = SimilarIncidentSerializer(many=True)


class IncidentListSerializer(serializers.ListSerializer):
    """Looks up, in one query for the whole page, which of the incidents named in
    the stored rationales the caller may see."""

    def to_representation(self, data):
        incidents = list(data.all() if hasattr(data, "all") else data)
        named = set().union(*(named_references(i) for i in incidents))
        request = self.context.get("request")
        if named and request is not None:
            self.child.context["visible_references"] = set(
                Incident.objects.visible_to(request.user)
                .filter(reference__in=named)
                .values_list("reference", flat=True)
            )
        return super().to_representation(incidents)


class AffectedServiceSerializer(serializers.Serializer):
    """A catalog service an incident affects, and how it was linked."""

    slug = serializers.CharField(source="service.slug")
    name = serializers.CharField(source="service.name")
    tier = serializers.IntegerField(source="service.tier")
    team = serializers.CharField(source="service.team.slug", allow_null=True)
    source = serializers.CharField(
        help_text="How it was linked: declare, alert, edit or migrated."
    )
    linked_at = serializers.DateTimeField()


class IncidentSerializer(serializers.ModelSerializer):
    incident_type = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    suggested_severity = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    suggestion = serializers.SerializerMethodField()
    severity = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    severity_confirmed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    commander = serializers.SerializerMethodField()
    reporter = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    affected_services = serializers.ListField(
        child=serializers.CharField(),
        help_text="Service tags as reported; includes the slugs of `services`.",
    )
    affected_sites = serializers.ListField(child=serializers.CharField())
    affected_suppliers = serializers.ListField(child=serializers.CharField())
    services = AffectedServiceSerializer(
        source="service_links", many=True, read_only=True
    )
    closure_reason = serializers.CharField(
        read_only=True,
        help_text='Why it was closed without being worked: "duplicate", '
        '"false_alarm", or "" (ran its course, or still open).',
    )

    class Meta:
        model = Incident
        fields = [
            "id",
            "reference",
            "title",
            "description",
            "impact",
            "status",
            "incident_type",
            "suggested_severity",
            "suggestion",
            "severity",
            "severity_confirmed_by",
            "severity_confirmed_at",
            "severity_reason",
            "commander",
            "reporter",
            "restricted",
            "customer_facing",
            "data_exposed",
            "regulatory",
            "affected_services",
            "affected_sites",
            "affected_suppliers",
            "services",
            "resolution_summary",
            "closure_reason",
            "dedup_key",
            "created_at",
            "impact_started_at",
            "detected_at",
            "acknowledged_at",
            "mitigated_at",
            "resolved_at",
            "closed_at",
        ]
        read_only_fields = fields
        list_serializer_class = IncidentListSerializer

    def get_suggestion(self, incident) -> SuggestionSerializer:
        stored = incident.suggestion or {}
        request = self.context.get("request")
        return {
            "severity": stored.get("severity"),
            "incident_type": stored.get("incident_type"),
            "confidence": float(stored.get("confidence") or 0.0),
            "type_confidence": stored.get("type_confidence"),
            "severity_confidence": stored.get("severity_confidence"),
            # names only the similar incidents the caller may see now
            "rationale": visible_rationale(
                request.user if request else None,
                incident,
                visible=self.context.get("visible_references"),
            ),
        }

    def get_commander(self, incident) -> str | None:
        return _username(incident.commander)


class ActionItemSerializer(serializers.ModelSerializer):
    incident = serializers.PrimaryKeyRelatedField(read_only=True)
    owner = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    role = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    completed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ActionItem
        fields = [
            "id",
            "incident",
            "title",
            "description",
            "owner",
            "role",
            "due_at",
            "status",
            "priority",
            "created_at",
            "completed_at",
            "completed_by",
        ]
        read_only_fields = fields


class ChainVerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    entries = serializers.IntegerField()
    first_broken = serializers.IntegerField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    last_hash = serializers.CharField(allow_blank=True)


class EvidenceEntrySerializer(serializers.Serializer):
    content = serializers.DictField(help_text="Everything the entry's hash covers.")
    hash = serializers.CharField()


class ChainHeadSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many entries the chain has.")
    last_hash = serializers.CharField(help_text="The newest entry's hash.")
    signature = serializers.CharField(
        help_text="The deployment's HMAC-SHA256 over id, count and last hash."
    )
    signed_at = serializers.DateTimeField()


class TimelineEvidenceSerializer(serializers.Serializer):
    """The timeline as evidence (``incidents.timeline.export_timeline``)."""

    incident = serializers.CharField()
    exported_at = serializers.DateTimeField()
    algorithm = serializers.CharField()
    head = ChainHeadSerializer(
        allow_null=True, help_text="The chain's signed head (null: no entries)."
    )
    head_algorithm = serializers.CharField()
    verification = ChainVerificationSerializer()
    entries = EvidenceEntrySerializer(many=True)


class TimelineEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    data = serializers.DictField()

    class Meta:
        model = TimelineEntry
        fields = [
            "sequence",
            "kind",
            "actor",
            "actor_label",
            "summary",
            "data",
            "occurred_at",
            "recorded_at",
            "prev_hash",
            "hash",
        ]
        read_only_fields = fields


class AlertLinkSerializer(serializers.Serializer):
    href = serializers.CharField()
    text = serializers.CharField()


class AlertSerializer(serializers.ModelSerializer):
    """One alert of an incident, as its sender last described it."""

    severity = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="The level the integration's label map suggests for "
        "`severity_label` (a suggestion, never a confirmation).",
    )
    labels = serializers.DictField(child=serializers.CharField())
    annotations = serializers.DictField(child=serializers.CharField())
    links = AlertLinkSerializer(many=True)
    details = serializers.DictField()

    class Meta:
        model = Alert
        fields = list(ALERT_RECORD_FIELDS)
        read_only_fields = fields


class StakeholderUpdateSerializer(serializers.ModelSerializer):
    incident = serializers.PrimaryKeyRelatedField(read_only=True)
    author = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = StakeholderUpdate
        fields = ["id", "incident", "body", "author", "created_at"]
        read_only_fields = fields


class RoleAssignmentSerializer(serializers.ModelSerializer):
    incident = serializers.PrimaryKeyRelatedField(read_only=True)
    role = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    assigned_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = RoleAssignment
        fields = [
            "id",
            "incident",
            "role",
            "user",
            "assigned_by",
            "started_at",
            "ended_at",
            "note",
        ]
        read_only_fields = fields


class IncidentTypeSerializer(serializers.ModelSerializer):
    family = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    family_name = serializers.CharField(source="family.name", read_only=True)
    default_severity = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = IncidentType
        fields = [
            "slug",
            "name",
            "family",
            "family_name",
            "description",
            "restricted_by_default",
            "default_severity",
            "notification_deadline_hours",
            "notification_authority",
            "is_active",
        ]
        read_only_fields = fields


class SeverityLevelSerializer(serializers.ModelSerializer):
    update_cadence_seconds = serializers.SerializerMethodField()

    class Meta:
        model = SeverityLevel
        fields = [
            "code",
            "name",
            "rank",
            "description",
            "response",
            "notified",
            "update_cadence_seconds",
        ]
        read_only_fields = fields

    def get_update_cadence_seconds(self, level) -> int | None:
        cadence = level.update_cadence
        return int(cadence.total_seconds()) if cadence else None


class TrendPointSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    group = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    resolved = serializers.IntegerField()
    mtta_seconds = serializers.FloatField(allow_null=True)
    mttr_seconds = serializers.FloatField(allow_null=True)


class TrendsSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    period = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    results = TrendPointSerializer(many=True)


# --- input -------------------------------------------------------------------------


class _Usernames(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(
            slug_field="username",
            queryset=User.objects.filter(is_active=True),
            **kwargs,
        )


# What a report of an incident says: the fields a declaration and a triage
# suggestion both read, first in both. (A comment, not a docstring: subclasses
# would show it as their description in the API schema.)
class ReportInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    impact = serializers.CharField(required=False, allow_blank=True, default="")
    incident_type = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=IncidentType.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )
    customer_facing = serializers.BooleanField(required=False, default=False)
    data_exposed = serializers.BooleanField(required=False, default=False)
    regulatory = serializers.BooleanField(required=False, default=False)


class IncidentCreateInput(ReportInput):
    restricted = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Omit to take the incident type's default.",
    )
    affected_services = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )
    affected_sites = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )
    affected_suppliers = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )
    services = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        default=list,
        help_text="Slugs of catalog services it affects (400 naming any unknown).",
    )
    detected_at = serializers.DateTimeField(required=False, allow_null=True)
    impact_started_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the impact began, if before detection (e.g. a report "
        "saying 'failing since 14:05'); defaults to `detected_at`.",
    )


class CorrectTimesInput(serializers.Serializer):
    """Any of the five times (ISO 8601 with a zone) and the reason."""

    impact_started_at = serializers.DateTimeField(required=False)
    detected_at = serializers.DateTimeField(required=False)
    acknowledged_at = serializers.DateTimeField(required=False)
    mitigated_at = serializers.DateTimeField(required=False)
    resolved_at = serializers.DateTimeField(required=False)
    reason = serializers.CharField(max_length=1000)


class IncidentPatchInput(serializers.Serializer):
    """Plain fields only; ``severity``, ``commander`` and ``status`` change through
    their actions and are refused here with the reason."""

    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    impact = serializers.CharField(required=False, allow_blank=True)
    incident_type = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=IncidentType.objects.filter(is_active=True),
        required=False,
        allow_null=True,
    )
    customer_facing = serializers.BooleanField(required=False)
    data_exposed = serializers.BooleanField(required=False)
    regulatory = serializers.BooleanField(required=False)
    restricted = serializers.BooleanField(required=False)
    affected_services = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )
    affected_sites = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )
    affected_suppliers = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False
    )
    services = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        help_text="Slugs: exactly the catalog services it affects (400 naming "
        "any unknown).",
    )
    resolution_summary = serializers.CharField(required=False, allow_blank=True)


class ConfirmSeverityInput(serializers.Serializer):
    severity = serializers.SlugRelatedField(
        slug_field="code", queryset=SeverityLevel.objects.all()
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AssignRoleInput(serializers.Serializer):
    role = serializers.SlugRelatedField(slug_field="slug", queryset=Role.objects.all())
    user = _Usernames()
    note = serializers.CharField(required=False, allow_blank=True, default="")
    expected_holder = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=150,
        help_text="First one wins: the username you believe holds the role now "
        "(null or empty: nobody). If someone else holds it, 409 with `holder`. "
        "Omitted: an assignment hands over from whoever holds it; taking command "
        "yourself expects the commander you last saw.",
    )


class RestrictionInput(serializers.Serializer):
    restricted = serializers.BooleanField(
        help_text="true restricts the incident; false lifts its restriction."
    )
    reason = serializers.CharField(
        max_length=1000, help_text="Why; written on the timeline."
    )


class TransitionInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=Incident.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    resolution_summary = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None
    )
    closure_reason = serializers.ChoiceField(
        choices=Incident.ClosureReason.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="`false_alarm` when resolving or closing marks it as noise "
        "(left out of figures by default); duplicates: `mark-duplicate`.",
    )


class ActionCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    owner = _Usernames(required=False, allow_null=True, default=None)
    role = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Role.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    priority = serializers.ChoiceField(
        choices=ActionItem.Priority.choices,
        required=False,
        default=ActionItem.Priority.MEDIUM,
    )


class ActionPatchInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    owner = _Usernames(required=False, allow_null=True)
    role = serializers.SlugRelatedField(
        slug_field="slug", queryset=Role.objects.all(), required=False, allow_null=True
    )
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    priority = serializers.ChoiceField(
        choices=ActionItem.Priority.choices, required=False
    )
    status = serializers.ChoiceField(choices=ActionItem.Status.choices, required=False)


class StakeholderUpdateInput(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)


class TriageSuggestInput(ReportInput):
    restricted = serializers.BooleanField(required=False, allow_null=True, default=None)
    affected_services = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )
    affected_sites = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )
    affected_suppliers = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, default=list
    )


class TrendsQueryInput(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=["incident_type", "severity"])
    period = serializers.ChoiceField(choices=["week", "month"])
    since = serializers.DateTimeField(required=False, allow_null=True, default=None)
    until = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate(self, attrs):
        if attrs["since"] and attrs["until"] and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError("since must not be after until.")
        return attrs


class InsightsQueryInput(serializers.Serializer):
    """The insights filters (``incidents.insights.InsightFilters``)."""

    since = serializers.DateField(required=False, allow_null=True, default=None)
    until = serializers.DateField(required=False, allow_null=True, default=None)
    family = serializers.CharField(required=False, allow_blank=True, default="")
    incident_type = serializers.CharField(required=False, allow_blank=True, default="")
    severity = serializers.CharField(required=False, allow_blank=True, default="")
    service = serializers.CharField(required=False, allow_blank=True, default="")
    period = serializers.ChoiceField(choices=["month", "week"], default="month")
    include_noise = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also count incidents closed as duplicates or false alarms "
        "(left out by default; alert_noise always counts them).",
    )

    def validate(self, attrs):
        if attrs["since"] and attrs["until"] and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError("since must not be after until.")
        return attrs


class _Measure(serializers.Serializer):
    count = serializers.IntegerField()
    median = serializers.FloatField(allow_null=True, help_text="seconds")
    p90 = serializers.FloatField(allow_null=True, help_text="seconds")


class ResponseRowSerializer(serializers.Serializer):
    group = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()
    time_to_acknowledge = _Measure(help_text="from detection")
    time_to_mitigate = _Measure(help_text="from the impact start")
    time_to_resolve = _Measure(help_text="from the impact start")


class VolumeRowSerializer(serializers.Serializer):
    period_start = serializers.DateField()
    group = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class InsightsSerializer(serializers.Serializer):
    """Every figure of the insights page, over what the caller may see."""

    filters = serializers.DictField()
    volume = serializers.DictField(
        child=VolumeRowSerializer(many=True),
        help_text="by family, incident_type and severity",
    )
    response_by_type = ResponseRowSerializer(many=True)
    response_by_severity = ResponseRowSerializer(many=True)
    recurrence = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text="incident_type: [{group, slug, count}], service: [{group, count}]",
    )
    triage_agreement = serializers.DictField(
        child=serializers.ListField(child=serializers.DictField()),
        help_text="severity and incident_type: [{group, suggested, agreed, share}]",
    )
    alert_noise = serializers.ListField(
        child=serializers.DictField(),
        help_text="[{group: integrations|people, count, confirmed, "
        "share_confirmed, duplicates, false_alarms, share_noise}]: noise "
        "counted whatever include_noise says",
    )


# --- teams and services ------------------------------------------------------------


class TeamMemberSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.display_name")
    joined_at = serializers.DateTimeField()


class TeamSerializer(serializers.ModelSerializer):
    manager = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    members = TeamMemberSerializer(source="memberships", many=True, read_only=True)
    services = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    channels = serializers.SerializerMethodField(
        help_text="Names of the team's notification channels."
    )

    class Meta:
        model = Team
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "manager",
            "members",
            "services",
            "channels",
            "created_at",
        ]
        read_only_fields = fields

    def get_channels(self, team) -> list[str]:
        # Channels are linked from the notifications side (``Channel.teams``).
        related = getattr(team, "channels", None)
        return [channel.name for channel in related.all()] if related else []


class ServiceSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(
        slug_field="slug", read_only=True, allow_null=True
    )
    depends_on = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    dependents = serializers.SlugRelatedField(
        slug_field="slug",
        many=True,
        read_only=True,
        help_text="Services that depend on this one.",
    )
    runbook_url = serializers.CharField(
        allow_blank=True, help_text="A link to its runbook, or empty."
    )
    alert_labels = serializers.DictField(
        child=serializers.CharField(),
        help_text='Labels that identify it in alerts, e.g. {"service": '
        '"checkout-api"}.',
    )

    class Meta:
        model = Service
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "team",
            "tier",
            "runbook_url",
            "depends_on",
            "dependents",
            "alert_labels",
            "created_at",
        ]
        read_only_fields = fields


class TeamInput(serializers.Serializer):
    """Create (``name`` required) or change a team. ``members`` is the whole
    list of usernames."""

    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=60, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    manager = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
    )
    members = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), many=True, required=False
    )


class ServiceInput(serializers.Serializer):
    """Create (``name`` required) or change a service. ``depends_on`` is the
    whole list of slugs; ``alert_labels`` a JSON object of label names to text."""

    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    team = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
    )
    tier = serializers.ChoiceField(choices=Service.Tier.choices, required=False)
    runbook_url = serializers.URLField(max_length=500, required=False, allow_blank=True)
    depends_on = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Service.objects.all(),
        many=True,
        required=False,
    )
    alert_labels = serializers.DictField(
        child=serializers.CharField(allow_blank=True), required=False
    )


# --- role suggestions and requests ---------------------------------------------------


class RoleSuggestionSerializer(serializers.Serializer):
    """Who might fill a role, and why. Never an assignment."""

    role = serializers.CharField(help_text="The role's slug, e.g. commander.")
    user = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.display_name")
    reason = serializers.CharField()


class RoleRequestSerializer(serializers.ModelSerializer):
    incident = serializers.PrimaryKeyRelatedField(read_only=True)
    reference = serializers.CharField(source="incident.reference", read_only=True)
    role = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    asked_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = RoleRequest
        fields = [
            "id",
            "incident",
            "reference",
            "role",
            "user",
            "asked_by",
            "reason",
            "status",
            "created_at",
            "answered_at",
        ]
        read_only_fields = fields


class RoleRequestInput(serializers.Serializer):
    role = serializers.SlugRelatedField(slug_field="slug", queryset=Role.objects.all())
    user = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True)
    )
    reason = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class RoleRequestDeclineInput(serializers.Serializer):
    note = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )


class IncidentDetailSerializer(IncidentSerializer):
    """One incident, with who might fill its open roles."""

    role_suggestions = serializers.SerializerMethodField(
        help_text="For the commander (while nobody commands) and each role the "
        "playbooks require that nobody holds: people who might take it, and why. "
        "People only; never assigned by themselves."
    )

    class Meta(IncidentSerializer.Meta):
        fields = [*IncidentSerializer.Meta.fields, "role_suggestions"]
        read_only_fields = fields

    @extend_schema_field(RoleSuggestionSerializer(many=True))
    def get_role_suggestions(self, incident) -> list[dict]:
        request = self.context.get("request")
        if request is None:
            return []
        return RoleSuggestionSerializer(
            providers.role_suggestions(incident, request.user), many=True
        ).data
