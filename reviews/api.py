"""API routes of this app, registered on the one ``/api/v1/`` router.

A review is exactly as visible as its incident: lists filter through
``Incident.objects.visible_to(user)`` and anything else is a 404.
"""

import django_filters
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from incidentops.api import ERROR, READ_ERRORS, WRITE_ERRORS
from incidentops.exceptions import DomainError
from reviews import services
from reviews.drafting import present
from reviews.models import FollowUp, Review
from reviews.serializers import (
    ApprovalRequirementSerializer,
    CommentInput,
    DraftAcceptInput,
    FollowUpInput,
    FollowUpSerializer,
    FollowUpUpdateInput,
    ReviewListSerializer,
    ReviewSerializer,
    ReviewUpdateInput,
    TimelineItemSerializer,
)

# Describe the method fields' shapes in the schema.
extend_schema_field(TimelineItemSerializer(many=True))(ReviewSerializer.get_timeline)
extend_schema_field(ApprovalRequirementSerializer(many=True))(
    ReviewSerializer.get_approvals
)


class ReviewFilter(django_filters.FilterSet):
    incident = django_filters.NumberFilter(field_name="incident_id")
    status = django_filters.MultipleChoiceFilter(
        choices=Review.Status.choices,
        help_text="One status, or several (`?status=draft&status=in_review`).",
    )
    # A choice, not a BooleanFilter: that one drops a value it cannot read
    # (``?overdue=maybe``) and answers the whole list.
    overdue = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_overdue",
        help_text="true: past the due date and not published; false: the others.",
    )

    class Meta:
        model = Review
        fields = ["incident", "status", "overdue"]

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        if value == "true":
            return queryset.overdue(now)
        return queryset.not_overdue(now)


# PATCH keys that name a read-only part of the review, and where it changes.
REFUSED_FIELDS = {
    "status": "Status changes only through the workflow actions: submit, approve, "
    "request-changes and publish (POST /api/v1/reviews/{id}/<action>/).",
    "follow_ups": "Follow-ups are added with POST /api/v1/reviews/{id}/follow-ups/ "
    "and changed with PATCH /api/v1/review-follow-ups/{id}/.",
    "approvals": "Approvals are given with the approve and request-changes actions.",
}


def _refuse_unwritable(data) -> None:
    """Name what PATCH cannot take (a read-only part, an unknown field) rather
    than ignoring it."""
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    for name in data:
        if name in REFUSED_FIELDS:
            raise DomainError(REFUSED_FIELDS[name], field=name, code="not_editable")
    unknown = sorted(set(data) - set(ReviewUpdateInput().fields))
    if unknown:
        raise DomainError(
            "Unknown field(s): " + ", ".join(unknown) + ".",
            field=unknown[0],
            code="unknown_field",
        )


@extend_schema_view(
    list=extend_schema(
        summary="Reviews (key timeline entries only; the detail has all)",
        responses={200: ReviewListSerializer(many=True), 401: ERROR},
    ),
    retrieve=extend_schema(responses={200: ReviewSerializer, **READ_ERRORS}),
)
class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Post-incident reviews (newest first)."""

    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter
    ordering_fields = ["created_at", "due_at", "status"]
    ordering = ["-created_at", "-pk"]
    search_fields = ["incident__reference", "incident__title", "summary"]

    def get_queryset(self):
        reviews = Review.objects.visible_to(self.request.user)
        if self.action == "list":
            return reviews.for_list()
        return reviews.select_related("incident", "owner").prefetch_related(
            "whys", "factors__category", "follow_ups__owner"
        )

    def get_serializer_class(self):
        return ReviewListSerializer if self.action == "list" else ReviewSerializer

    def _respond(self, review: Review) -> Response:
        return Response(ReviewSerializer(self.get_queryset().get(pk=review.pk)).data)

    @extend_schema(
        summary="Write the review (a draft)",
        description="Any of the fields; lists replace the review's lists. "
        "`root_cause` takes the shape it is read in (`{summary, five_whys}`, "
        "either part) or a plain string for the summary. `status` is refused "
        "(400, `not_editable`): it changes through the submit, approve, "
        "request-changes and publish actions; an unknown field is refused (400, "
        "`unknown_field`).",
        request=ReviewUpdateInput,
        responses={200: ReviewSerializer, **WRITE_ERRORS},
    )
    def partial_update(self, request, pk=None):
        review = self.get_object()
        _refuse_unwritable(request.data)
        data = ReviewUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        cause = values.pop("root_cause", None) or {}
        if "summary" in cause:
            values["root_cause"] = cause["summary"]
        whys = values.pop("five_whys", cause.get("five_whys"))
        factors = values.pop("contributing_factors", None)
        timeline = values.pop("timeline", None)
        answers = values.pop("answers", None)
        with transaction.atomic():
            if answers is not None:
                services.review_set_answers(
                    review=review, actor=request.user, answers=answers
                )
            if values:
                review = services.review_update(
                    review=review, actor=request.user, **values
                )
            if whys is not None:
                services.review_set_five_whys(
                    review=review,
                    actor=request.user,
                    whys=[(w["why"], w["because"]) for w in _in_order(whys)],
                )
            if factors is not None:
                services.review_set_factors(
                    review=review,
                    actor=request.user,
                    factors=[(f["category"], f["description"]) for f in factors],
                )
            if timeline is not None:
                services.review_set_timeline(
                    review=review, actor=request.user, items=timeline
                )
        return self._respond(review)

    @extend_schema(request=None, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send the draft for approval."""
        review = services.review_submit(review=self.get_object(), actor=request.user)
        return self._respond(review)

    @extend_schema(
        request=CommentInput,
        responses={200: ReviewSerializer, **WRITE_ERRORS, 409: ERROR},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (a person in a required group, not the owner or submitter).
        First one wins: 409 with ``holder`` when colleagues' approvals already
        complete the review or the approver's groups."""
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_approve(
            review=self.get_object(),
            actor=request.user,
            comment=data.validated_data["comment"],
        )
        return self._respond(review)

    @extend_schema(request=CommentInput, responses=ReviewSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        """Send it back to draft with a comment."""
        data = CommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = services.review_request_changes(
            review=self.get_object(),
            actor=request.user,
            comment=data.validated_data["comment"],
        )
        return self._respond(review)

    @extend_schema(request=None, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish an approved review."""
        review = services.review_publish(review=self.get_object(), actor=request.user)
        return self._respond(review)

    @extend_schema(request=None, responses={200: ReviewSerializer, **WRITE_ERRORS})
    @action(detail=True, methods=["post"])
    def redraft(self, request, pk=None):
        """Redraft from the record: sections still holding their unaccepted
        draft (or nothing) are redrafted; a person's text stays, and a differing
        newer draft waits beside it (``drafts[].pending_text``)."""
        review = self.get_object()
        services.review_draft(review=review, actor=request.user)
        return self._respond(review)

    @extend_schema(
        request=DraftAcceptInput, responses={200: ReviewSerializer, **WRITE_ERRORS}
    )
    @action(detail=True, methods=["post"], url_path="accept-draft")
    def accept_draft(self, request, pk=None):
        """Accept drafted sections as the review's (who and when are kept)."""
        data = DraftAcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        review = self.get_object()
        services.review_draft_accept(
            review=review,
            actor=request.user,
            sections=data.validated_data.get("sections"),
        )
        return self._respond(review)

    @extend_schema(
        request=None,
        responses={
            200: OpenApiResponse(
                description="`{factors, five_whys, "
                "follow_ups}`: the draft's suggestions the caller may see."
            ),
            **READ_ERRORS,
        },
    )
    @action(detail=True, methods=["get"], url_path="draft-suggestions")
    def draft_suggestions(self, request, pk=None):
        """Suggested contributing factors, five-whys starters and follow-up
        candidates from similar earlier reviews, each with the earlier
        incident's reference and review; only those the caller may see."""
        return Response(present.suggestions(self.get_object(), request.user))

    @extend_schema(request=FollowUpInput, responses={201: FollowUpSerializer})
    @action(detail=True, methods=["post"], url_path="follow-ups")
    def follow_ups(self, request, pk=None):
        """Add a follow-up action."""
        data = FollowUpInput(data=request.data)
        data.is_valid(raise_exception=True)
        follow_up = services.follow_up_add(
            review=self.get_object(), actor=request.user, **data.validated_data
        )
        return Response(FollowUpSerializer(follow_up).data, status=201)


class FollowUpViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Review follow-ups: read one, or move it along with PATCH."""

    serializer_class = FollowUpSerializer

    def get_queryset(self):
        return FollowUp.objects.filter(
            review__in=Review.objects.visible_to(self.request.user)
        ).select_related("owner", "review")

    @extend_schema(request=FollowUpUpdateInput, responses=FollowUpSerializer)
    def partial_update(self, request, pk=None):
        data = FollowUpUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        follow_up = services.follow_up_update(
            follow_up=self.get_object(), actor=request.user, **data.validated_data
        )
        return Response(FollowUpSerializer(follow_up).data)


def _in_order(steps: list[dict]) -> list[dict]:
    """Steps sorted by their ``order`` where given, else as listed."""
    return [
        step
        for _, step in sorted(
            enumerate(steps), key=lambda pair: pair[1].get("order", pair[0] + 1)
        )
    ]


def register(router) -> None:
    """Add this app's viewsets to ``router``."""
    router.register("reviews", ReviewViewSet, basename="review")
    router.register("review-follow-ups", FollowUpViewSet, basename="review-follow-up")
