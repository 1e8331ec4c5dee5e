"""API routes of this app, registered on the one ``/api/v1/`` router.

A review is exactly as visible as its incident: lists filter through
``Incident.objects.visible_to(user)`` and anything else is a 404.
"""

import django_filters
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from reviews import services
from reviews.models import FollowUp, Review
from reviews.serializers import (
    ApprovalRequirementSerializer,
    CommentInput,
    FollowUpInput,
    FollowUpSerializer,
    FollowUpUpdateInput,
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
    status = django_filters.ChoiceFilter(choices=Review.Status.choices)

    class Meta:
        model = Review
        fields = ["incident", "status"]


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
        return (
            Review.objects.visible_to(self.request.user)
            .select_related("incident", "owner")
            .prefetch_related("whys", "factors__category", "follow_ups__owner")
        )

    def _respond(self, review: Review) -> Response:
        return Response(ReviewSerializer(self.get_queryset().get(pk=review.pk)).data)

    @extend_schema(request=ReviewUpdateInput, responses=ReviewSerializer)
    def partial_update(self, request, pk=None):
        review = self.get_object()
        data = ReviewUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        whys = values.pop("five_whys", None)
        factors = values.pop("contributing_factors", None)
        timeline = values.pop("timeline", None)
        with transaction.atomic():
            if values:
                review = services.review_update(
                    review=review, actor=request.user, **values
                )
            if whys is not None:
                services.review_set_five_whys(
                    review=review,
                    actor=request.user,
                    whys=[(w["why"], w["because"]) for w in whys],
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

    @extend_schema(request=CommentInput, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (a person in a required group, not the owner or submitter)."""
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


def register(router) -> None:
    """Add this app's viewsets to ``router``."""
    router.register("reviews", ReviewViewSet, basename="review")
    router.register("review-follow-ups", FollowUpViewSet, basename="review-follow-up")
