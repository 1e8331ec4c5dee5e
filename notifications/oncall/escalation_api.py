"""``/api/v1/escalation-policies/``: who is paged, in what order, read-only.

Read by everyone in a role group (``notifications.view_escalationpolicy``);
anyone else gets an empty list and 404s. Policies are configured in the admin;
acknowledging is ``POST /api/v1/incidents/{id}/acknowledge/``.
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets

from notifications.oncall.escalation_models import EscalationPolicy, EscalationStep

VIEW = "notifications.view_escalationpolicy"


def visible_policies(user):
    """The escalation policies ``user`` may read (all of them, or none)."""
    if user is not None and user.is_authenticated and user.is_active:
        if user.has_perm(VIEW):
            return EscalationPolicy.objects.all()
    return EscalationPolicy.objects.none()


class StepTargetSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["user", "team", "schedule"])
    username = serializers.CharField(required=False)
    team = serializers.CharField(required=False, help_text="The team's slug.")
    schedule = serializers.IntegerField(required=False, help_text="The schedule's id.")
    name = serializers.CharField(help_text="How the timeline names the target.")


class EscalationStepSerializer(serializers.ModelSerializer):
    target = serializers.SerializerMethodField()

    class Meta:
        model = EscalationStep
        fields = ["position", "wait_minutes", "target"]
        read_only_fields = fields

    @extend_schema_field(StepTargetSerializer)
    def get_target(self, step) -> dict:
        if step.user_id:
            return {
                "type": "user",
                "username": step.user.username,
                "name": step.target_label,
            }
        if step.team_id:
            return {"type": "team", "team": step.team.slug, "name": step.target_label}
        return {
            "type": "schedule",
            "schedule": step.schedule_id,
            "name": step.target_label,
        }


class EscalationPolicySerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    services = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True
    )
    integrations = serializers.SlugRelatedField(
        slug_field="name", many=True, read_only=True
    )
    start_severity = serializers.SlugRelatedField(slug_field="code", read_only=True)
    steps = EscalationStepSerializer(many=True, read_only=True)

    class Meta:
        model = EscalationPolicy
        fields = [
            "id",
            "name",
            "description",
            "team",
            "services",
            "integrations",
            "start_severity",
            "for_every_incident",
            "repeat_count",
            "is_active",
            "steps",
        ]
        read_only_fields = fields


@extend_schema(
    summary="Escalation policies",
    description="Each policy's ordered steps (a person, a team's members or a "
    "schedule's on-call; then a wait in minutes), `repeat_count` further rounds, "
    "the owning `team` (its manager is told when nobody acknowledged), and what "
    "starts it: alerts from its `integrations` or about its `services`, and "
    "incidents at or above `start_severity` (SEV-1 is the most severe). "
    "Read-only; configured in the admin.",
)
class EscalationPolicyViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    serializer_class = EscalationPolicySerializer
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]
    search_fields = ["name", "description"]

    def get_queryset(self):
        return (
            visible_policies(self.request.user)
            .select_related("team", "start_severity")
            .prefetch_related(
                "services",
                "integrations",
                Prefetch(
                    "steps",
                    queryset=EscalationStep.objects.order_by(
                        "position", "pk"
                    ).select_related("user", "team", "schedule"),
                ),
            )
        )
