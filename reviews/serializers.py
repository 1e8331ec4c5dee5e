"""API shapes of reviews: read-only output serializers, plain input serializers
that only validate (the views call the services)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from reviews.models import (
    ContributingFactor,
    ContributingFactorCategory,
    FiveWhy,
    FollowUp,
    Review,
    ReviewTimelineItem,
)

User = get_user_model()


class TimelineItemSerializer(serializers.ModelSerializer):
    entry = serializers.IntegerField(source="entry_id")
    sequence = serializers.IntegerField(source="entry.sequence")
    kind = serializers.CharField(source="entry.kind")
    occurred_at = serializers.DateTimeField(source="entry.occurred_at")
    summary = serializers.CharField(source="entry.summary")

    class Meta:
        model = ReviewTimelineItem
        fields = [
            "entry",
            "sequence",
            "kind",
            "occurred_at",
            "summary",
            "included",
            "annotation",
        ]
        read_only_fields = fields


class FiveWhySerializer(serializers.ModelSerializer):
    class Meta:
        model = FiveWhy
        fields = ["order", "why", "because"]
        read_only_fields = fields


class FactorSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = ContributingFactor
        fields = ["category", "description"]
        read_only_fields = fields


class FollowUpSerializer(serializers.ModelSerializer):
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "title",
            "description",
            "owner",
            "due_at",
            "status",
            "ticket_url",
            "completed_at",
        ]
        read_only_fields = fields


class RootCauseSerializer(serializers.Serializer):
    summary = serializers.CharField(source="root_cause")
    five_whys = FiveWhySerializer(source="whys", many=True)


class ApprovalRequirementSerializer(serializers.Serializer):
    group = serializers.CharField()
    count = serializers.IntegerField()
    approvers = serializers.ListField(child=serializers.CharField())


class ReviewSerializer(serializers.ModelSerializer):
    incident = serializers.IntegerField(source="incident_id", read_only=True)
    incident_reference = serializers.CharField(source="incident.reference")
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    overdue = serializers.BooleanField(source="is_overdue")
    timeline = serializers.SerializerMethodField()
    root_cause = RootCauseSerializer(source="*")
    contributing_factors = FactorSerializer(source="factors", many=True)
    follow_ups = FollowUpSerializer(many=True)
    approvals = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "incident",
            "incident_reference",
            "status",
            "owner",
            "severity_code",
            "due_at",
            "overdue",
            "summary",
            "customer_impact",
            "business_impact",
            "went_well",
            "went_poorly",
            "got_lucky",
            "lessons",
            "timeline",
            "root_cause",
            "contributing_factors",
            "follow_ups",
            "approvals",
            "round",
            "created_at",
            "submitted_at",
            "approved_at",
            "published_at",
        ]
        read_only_fields = fields

    def get_timeline(self, review) -> list[dict]:
        """Every offered entry, with ``included`` saying whether it is shown."""
        items = review.timeline_items.select_related("entry")
        return TimelineItemSerializer(items, many=True).data

    def get_approvals(self, review) -> list[dict]:
        return ApprovalRequirementSerializer(review.approval_progress(), many=True).data


# --- input --------------------------------------------------------------------


class FiveWhyInput(serializers.Serializer):
    why = serializers.CharField()
    because = serializers.CharField()


class FactorInput(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="slug", queryset=ContributingFactorCategory.objects.all()
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")


class TimelineItemInput(serializers.Serializer):
    entry = serializers.IntegerField()
    included = serializers.BooleanField(required=False)
    annotation = serializers.CharField(required=False, allow_blank=True)


class ReviewUpdateInput(serializers.Serializer):
    """PATCH: any of these; lists replace the review's lists."""

    summary = serializers.CharField(required=False, allow_blank=True)
    customer_impact = serializers.CharField(required=False, allow_blank=True)
    business_impact = serializers.CharField(required=False, allow_blank=True)
    root_cause = serializers.CharField(required=False, allow_blank=True)
    went_well = serializers.CharField(required=False, allow_blank=True)
    went_poorly = serializers.CharField(required=False, allow_blank=True)
    got_lucky = serializers.CharField(required=False, allow_blank=True)
    lessons = serializers.CharField(required=False, allow_blank=True)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False
    )
    five_whys = FiveWhyInput(many=True, required=False)
    contributing_factors = FactorInput(many=True, required=False)
    timeline = TimelineItemInput(many=True, required=False)


class CommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class FollowUpInput(serializers.Serializer):
    title = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True, default="")
    owner = serializers.SlugRelatedField(
        slug_field="username",
        queryset=User.objects.all(),
        required=False,
        allow_null=True,
    )
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    ticket_url = serializers.URLField(required=False, allow_blank=True, default="")


class FollowUpUpdateInput(FollowUpInput):
    title = serializers.CharField(required=False)
    status = serializers.ChoiceField(choices=FollowUp.Status.choices, required=False)
