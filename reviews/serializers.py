"""API shapes of reviews: read-only output serializers, plain input serializers
that only validate (the views call the services)."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from reviews.drafting import TEXT_SECTIONS
from reviews.drafting.present import text_sections
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
    owner = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The owner's username, or null while nobody owns it.",
    )
    ticket_url = serializers.CharField(
        read_only=True,
        help_text="The external ticket's URL, or an empty string when there is none.",
    )

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
    drafts = serializers.SerializerMethodField()

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
            "response",
            "answers",
            "drafts",
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

    def get_drafts(self, review) -> list[dict]:
        """The drafted text sections: ``state`` "draft" (unaccepted, the field
        still holds it), "accepted" or "edited" (a person's text), each
        sentence with its sources, and a newer draft waiting beside a person's
        text (``pending_text``)."""
        return [
            {
                "section": section["name"],
                "state": section["state"],
                "text": section["row"].text,
                "sentences": section["row"].sentences,
                "drafted_at": section["row"].drafted_at,
                "accepted_by": section["row"].accepted_by.username
                if section["row"].accepted_by
                else None,
                "accepted_at": section["row"].accepted_at,
                "pending_text": section["row"].pending_text,
                "pending_sentences": section["row"].pending_sentences,
            }
            for section in text_sections(review)
        ]


class KeyEntrySerializer(serializers.ModelSerializer):
    """A key entry of the review's timeline, compact: what the list carries."""

    sequence = serializers.IntegerField(source="entry.sequence")
    kind = serializers.CharField(source="entry.kind")
    occurred_at = serializers.DateTimeField(source="entry.occurred_at")
    summary = serializers.CharField(source="entry.summary")

    class Meta:
        model = ReviewTimelineItem
        fields = ["sequence", "kind", "occurred_at", "summary", "annotation"]
        read_only_fields = fields


class TimelineSummarySerializer(serializers.Serializer):
    entries = serializers.IntegerField(help_text="Entries offered to the review.")
    key_entries = serializers.IntegerField(
        help_text="Entries the review includes (its key entries)."
    )


class ReviewLinksSerializer(serializers.Serializer):
    self = serializers.CharField(help_text="This review in the API (full timeline).")
    portal = serializers.CharField(help_text="The review's page in the portal.")
    incident_timeline = serializers.CharField(
        help_text="The incident's whole timeline in the API."
    )


class ReviewListSerializer(ReviewSerializer):
    """A review in a list: everything but the offered timeline, which is
    summarised; ``timeline`` holds only the key entries, compact. The detail
    (``ReviewSerializer``) carries every offered entry and the ``drafts``.

    Expects the list queryset (``ReviewQuerySet.for_list``): key entries
    prefetched as ``key_items`` and the counts annotated."""

    timeline = KeyEntrySerializer(source="key_items", many=True, read_only=True)
    timeline_summary = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta(ReviewSerializer.Meta):
        # The drafts' sentences and sources are the detail's: a list row
        # carries the text fields only.
        fields = [
            *(name for name in ReviewSerializer.Meta.fields if name != "drafts"),
            "timeline_summary",
            "links",
        ]
        read_only_fields = fields

    def get_timeline_summary(self, review) -> dict:
        return TimelineSummarySerializer(
            {"entries": review.entry_count, "key_entries": review.key_entry_count}
        ).data

    def get_links(self, review) -> dict:
        request = self.context.get("request")

        def url(path):
            return request.build_absolute_uri(path) if request else path

        return ReviewLinksSerializer(
            {
                "self": url(f"/api/v1/reviews/{review.pk}/"),
                "portal": url(review.get_absolute_url()),
                "incident_timeline": url(
                    f"/api/v1/incidents/{review.incident_id}/timeline/"
                ),
            }
        ).data


# --- input --------------------------------------------------------------------


class FiveWhyInput(serializers.Serializer):
    """One step of the chain, as the review reads it back (``order`` optional:
    the list's order counts)."""

    order = serializers.IntegerField(required=False, min_value=1)
    why = serializers.CharField(max_length=2000)
    because = serializers.CharField(max_length=2000)

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in unknown}
                )
        return super().to_internal_value(data)


class FiveWhysField(serializers.ListField):
    """The chain: up to ten why/because steps, replacing the review's chain."""

    child = FiveWhyInput()

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 10)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        steps = super().to_internal_value(data)
        orders = [step["order"] for step in steps if "order" in step]
        if len(set(orders)) != len(orders):
            raise serializers.ValidationError("Each step needs its own order.")
        return steps


class RootCauseInput(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True)
    five_whys = FiveWhysField(required=False)


ROOT_CAUSE_SCHEMA = {
    "oneOf": [
        {
            "type": "string",
            "description": "The root cause in brief (the five whys are unchanged).",
        },
        {
            "type": "object",
            "description": "As read back: the summary and/or the five whys "
            "(the list replaces the chain).",
            "properties": {
                "summary": {"type": "string"},
                "five_whys": {
                    "type": "array",
                    "maxItems": 10,
                    "items": {
                        "type": "object",
                        "properties": {
                            "order": {"type": "integer", "minimum": 1},
                            "why": {"type": "string", "minLength": 1},
                            "because": {"type": "string", "minLength": 1},
                        },
                        "required": ["why", "because"],
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
    ]
}


@extend_schema_field(ROOT_CAUSE_SCHEMA)
class RootCauseField(serializers.Field):
    """``root_cause`` written as it is read (``{summary, five_whys}``), or as a
    plain string for the summary alone."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            return {"summary": data}
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                "Expected a string or an object with summary and/or five_whys."
            )
        unknown = sorted(set(data) - {"summary", "five_whys"})
        if unknown:
            raise serializers.ValidationError(
                {name: ["Unknown field."] for name in unknown}
            )
        nested = RootCauseInput(data=data)
        nested.is_valid(raise_exception=True)
        return dict(nested.validated_data)

    def to_representation(self, value):
        return value


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
    """PATCH: any of these; lists replace the review's lists. ``status`` is not
    here: it changes through the submit/approve/request-changes/publish actions.
    """

    summary = serializers.CharField(required=False, allow_blank=True)
    customer_impact = serializers.CharField(required=False, allow_blank=True)
    business_impact = serializers.CharField(required=False, allow_blank=True)
    root_cause = RootCauseField(required=False)
    went_well = serializers.CharField(required=False, allow_blank=True)
    went_poorly = serializers.CharField(required=False, allow_blank=True)
    got_lucky = serializers.CharField(required=False, allow_blank=True)
    lessons = serializers.CharField(required=False, allow_blank=True)
    response = serializers.CharField(required=False, allow_blank=True)
    answers = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="Answers to the template's own questions, by section key; "
        "the keys named replace their answers (empty clears one).",
    )
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False
    )
    five_whys = FiveWhysField(required=False)
    contributing_factors = FactorInput(many=True, required=False)
    timeline = TimelineItemInput(many=True, required=False)

    def validate(self, attrs):
        cause = attrs.get("root_cause") or {}
        if "five_whys" in cause and "five_whys" in attrs:
            raise serializers.ValidationError(
                {"five_whys": ["Give the five whys once: here or in root_cause."]}
            )
        return attrs


class DraftAcceptInput(serializers.Serializer):
    sections = serializers.ListField(
        child=serializers.ChoiceField(choices=TEXT_SECTIONS),
        required=False,
        help_text="The sections to accept; omitted: every section still in draft.",
    )


class CommentInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class FollowUpInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
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
    title = serializers.CharField(max_length=200, required=False)
    status = serializers.ChoiceField(choices=FollowUp.Status.choices, required=False)
