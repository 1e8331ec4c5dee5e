"""Post-incident reviews: the policy per severity, the reviews themselves (content,
root-cause framework, follow-ups, the generated timeline, approvals) and the batch
queue for low severities.

Rules about one review live here (``Review.is_overdue``, approval counting); every
write goes through ``reviews.services``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from incidentops.text import TitleField
from incidents.models import (
    Incident,
    IncidentFamily,
    IncidentType,
    SeverityLevel,
    TimelineEntry,
)

# --- Configuration ------------------------------------------------------------


class ContributingFactorCategory(models.Model):
    """A branch of the contributing-factor taxonomy (people, process, ...)."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "contributing-factor categories"

    def __str__(self) -> str:
        return self.name


class ReviewPolicy(models.Model):
    """What the organisation asks after an incident of one severity."""

    class Mode(models.TextChoices):
        INDIVIDUAL = "individual", "A review per incident"
        BATCH = "batch", "Batch review queue"
        NONE = "none", "No review"

    class BatchPeriod(models.TextChoices):
        WEEK = "week", "ISO week"
        MONTH = "month", "Calendar month"

    severity = models.OneToOneField(
        SeverityLevel, on_delete=models.CASCADE, related_name="review_policy"
    )
    mode = models.CharField(
        max_length=20, choices=Mode.choices, default=Mode.INDIVIDUAL
    )
    due_business_days = models.PositiveIntegerField(
        default=10,
        help_text="Due this many business days (Monday to Friday, in the "
        "organisation's time zone) after resolution; for a batch, after the "
        "period ends.",
    )
    batch_period = models.CharField(
        max_length=10, choices=BatchPeriod.choices, default=BatchPeriod.WEEK
    )
    batch_owner_group = models.ForeignKey(
        Group,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who runs the batch review of this severity.",
    )
    reminder_business_days = models.JSONField(
        default=list,
        blank=True,
        help_text="Remind the owner this many business days before the due date, "
        "e.g. [2, 0] (0: the morning of the due day).",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["severity__rank"]
        verbose_name_plural = "review policies"

    def __str__(self) -> str:
        return f"{self.severity.code}: {self.get_mode_display()}"


class ApprovalRequirement(models.Model):
    """``count`` approvals from members of ``group`` before publishing."""

    policy = models.ForeignKey(
        ReviewPolicy, on_delete=models.CASCADE, related_name="approvals"
    )
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveSmallIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["policy", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "group"], name="approvalrequirement_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.count} × {self.group}"


class EscalationStep(models.Model):
    """After ``after_business_days`` overdue, tell ``group``."""

    policy = models.ForeignKey(
        ReviewPolicy, on_delete=models.CASCADE, related_name="escalations"
    )
    after_business_days = models.PositiveIntegerField()
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["policy", "after_business_days", "pk"]

    def __str__(self) -> str:
        return f"+{self.after_business_days} business days → {self.group}"


# --- Reviews --------------------------------------------------------------------


class ReviewQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Reviews of the incidents ``user`` may see: exactly as restricted."""
        return self.filter(incident__in=Incident.objects.visible_to(user))

    def unpublished(self):
        return self.exclude(status=Review.Status.PUBLISHED)

    def overdue(self, now: datetime | None = None):
        return self.unpublished().filter(due_at__lt=now or timezone.now())

    def not_overdue(self, now: datetime | None = None):
        return self.filter(
            models.Q(status=Review.Status.PUBLISHED)
            | models.Q(due_at__gte=now or timezone.now())
        )

    def for_list(self):
        """What a list of reviews shows, in a fixed number of queries: the key
        timeline entries (``key_items``), the offered and key entry counts
        (``entry_count``, ``key_entry_count``), content, follow-ups and the
        current approvals with their approvers' groups."""
        return (
            self.select_related("incident", "owner")
            .annotate(
                entry_count=models.Count("timeline_items", distinct=True),
                key_entry_count=models.Count(
                    "timeline_items",
                    filter=models.Q(timeline_items__included=True),
                    distinct=True,
                ),
            )
            .prefetch_related(
                "whys",
                "factors__category",
                "follow_ups__owner",
                models.Prefetch(
                    "timeline_items",
                    queryset=ReviewTimelineItem.objects.filter(
                        included=True
                    ).select_related("entry"),
                    to_attr="key_items",
                ),
                models.Prefetch(
                    "approval_records",
                    queryset=Approval.objects.select_related("user").prefetch_related(
                        "user__groups"
                    ),
                ),
            )
        )


# The review's text fields, in the order the page and the API show them.
CONTENT_FIELDS = (
    "summary",
    "customer_impact",
    "business_impact",
    "root_cause",
    "went_well",
    "went_poorly",
    "got_lucky",
    "lessons",
    "response",
)


class Review(models.Model):
    """The post-incident review of one incident (unique: reopening and resolving
    again keeps the same review)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        PUBLISHED = "published", "Published"

    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="review"
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_reviews",
    )
    severity_code = models.CharField(max_length=10, blank=True)
    due_at = models.DateTimeField(db_index=True)
    # The approvals the policy asked for when the review was created:
    # [{"group": "<name>", "count": n}, ...]. A later policy change applies to
    # later reviews only.
    required_approvals = models.JSONField(default=list, blank=True)

    summary = models.TextField(blank=True)
    customer_impact = models.TextField(blank=True)
    business_impact = models.TextField(blank=True)
    root_cause = models.TextField(blank=True, help_text="The root cause, in brief.")
    went_well = models.TextField("what went well", blank=True)
    went_poorly = models.TextField("what went poorly", blank=True)
    got_lucky = models.TextField("where we got lucky", blank=True)
    lessons = models.TextField(blank=True)
    # Answers to the questions of the review's template that are not one of
    # the fields above: {"<section key>": "text"}.
    answers = models.JSONField(default=dict, blank=True)
    response = models.TextField(
        "how the response went",
        blank=True,
        help_text="Who held which role when, actions, stakeholder updates.",
    )

    # Each submission opens a round; approvals count only in the current round.
    round = models.PositiveIntegerField(default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    # Watermarks of the overdue sweep, advanced only after the notification rows
    # exist: the last reminder instant sent, the overdue alert, escalation steps.
    reminded_for = models.DateTimeField(null=True, blank=True)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Review of {self.incident.reference}"

    def get_absolute_url(self) -> str:
        return f"/reviews/{self.pk}/"

    def is_overdue_at(self, now: datetime) -> bool:
        return self.status != self.Status.PUBLISHED and self.due_at < now

    @property
    def is_overdue(self) -> bool:
        return self.is_overdue_at(timezone.now())

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    def current_approvals(self):
        if "approval_records" in getattr(self, "_prefetched_objects_cache", {}):
            # A list prefetched them (``ReviewQuerySet.for_list``).
            return [
                approval
                for approval in self.approval_records.all()
                if approval.round == self.round
                and approval.decision == Approval.Decision.APPROVED
            ]
        return self.approval_records.filter(
            round=self.round, decision=Approval.Decision.APPROVED
        ).select_related("user")

    def approval_progress(self) -> list[dict]:
        """Each requirement with the approvers counted towards it.

        Every approver counts once, for the first requirement they qualify for
        that still needs approvals (requirements in policy order).
        """
        progress = [
            {"group": req["group"], "count": req["count"], "approvers": []}
            for req in self.required_approvals
        ]
        for approval in self.current_approvals():
            groups = {group.name for group in approval.user.groups.all()}
            for req in progress:
                if req["group"] in groups and len(req["approvers"]) < req["count"]:
                    req["approvers"].append(approval.user)
                    break
        return progress

    def missing_approvals(self) -> list[str]:
        """Human-readable list of what is still missing (empty: complete)."""
        return [
            f"{req['count'] - len(req['approvers'])} from {req['group']}"
            for req in self.approval_progress()
            if len(req["approvers"]) < req["count"]
        ]

    def recurrences(self, user):
        """Earlier incidents of the same type that ``user`` may see, newest first,
        each with its review's follow-ups still open (``open_follow_ups``)."""
        incident = self.incident
        if incident.incident_type_id is None:
            return []
        earlier = list(
            Incident.objects.visible_to(user)
            .filter(
                incident_type_id=incident.incident_type_id,
                created_at__lt=incident.created_at,
            )
            .select_related("severity")
            .order_by("-created_at")[:10]
        )
        open_by_incident: dict[int, list] = {}
        for follow_up in (
            FollowUp.objects.open()
            .filter(review__incident__in=earlier)
            .select_related("owner", "review")
        ):
            open_by_incident.setdefault(follow_up.review.incident_id, []).append(
                follow_up
            )
        for other in earlier:
            other.open_follow_ups = open_by_incident.get(other.pk, [])
        return earlier

    # -- metrics from the incident's timestamps --
    def response_metrics(self) -> dict[str, timedelta | None]:
        """The incident's response times (``Incident.response_times``): to
        acknowledge from detection, to mitigate and resolve from impact start,
        with any corrections people made to those times."""
        return self.incident.response_times()


class FiveWhy(models.Model):
    """One why/because pair of the review's five-whys chain."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="whys")
    order = models.PositiveSmallIntegerField()
    why = models.TextField()
    because = models.TextField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["review", "order"]
        verbose_name = "five-whys step"

    def __str__(self) -> str:
        return f"{self.order}. {self.why}"


class ContributingFactor(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="factors")
    category = models.ForeignKey(
        ContributingFactorCategory, on_delete=models.PROTECT, related_name="factors"
    )
    description = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["review", "category__name", "pk"]

    def __str__(self) -> str:
        return f"{self.category}: {self.description[:60]}"


class FollowUpQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=FollowUp.OPEN_STATUSES)


class FollowUp(models.Model):
    """An action the review decided on, tracked to completion."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="follow_ups"
    )
    title = TitleField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="review_follow_ups",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    ticket_url = models.URLField("external ticket", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["review", "due_at", "pk"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class ReviewTimelineItem(models.Model):
    """An incident timeline entry as the review presents it: included or not,
    with an annotation. The source entry is never edited."""

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="timeline_items"
    )
    entry = models.ForeignKey(TimelineEntry, on_delete=models.PROTECT, related_name="+")
    included = models.BooleanField(default=False)
    annotation = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["review", "entry__sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "entry"], name="reviewtimelineitem_unique"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.entry.sequence} ({'in' if self.included else 'out'})"


class Approval(models.Model):
    """An approval or a change request, on the record for good."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="approval_records"
    )
    round = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["review", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "round", "user"],
                condition=models.Q(decision="approved"),
                name="approval_once_per_round",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.decision} (round {self.round})"


# --- The batch queue ------------------------------------------------------------


class BatchReviewQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The batches ``user`` may see — the one rule, used by the portal, the
        admin and ``reviews.permissions.can_view_batch``: every batch for a
        superuser; otherwise those run by one of their groups (a batch without
        an owner group: by holders of ``permissions.CHANGE_BATCH``) and those
        holding an incident they may see. Nothing for an anonymous or inactive
        user."""
        if not (user is not None and user.is_authenticated and user.is_active):
            return self.none()
        if user.is_superuser:
            return self
        condition = models.Q(owner_group__in=user.groups.all()) | models.Q(
            pk__in=BatchReviewItem.objects.filter(
                incident__in=Incident.objects.visible_to(user)
            ).values("batch")
        )
        from reviews.permissions import CHANGE_BATCH

        if user.has_perm(CHANGE_BATCH):
            condition |= models.Q(owner_group__isnull=True)
        return self.filter(condition)


class BatchReview(models.Model):
    """A periodic review of the low-severity incidents of one period."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"

    severity = models.ForeignKey(
        SeverityLevel, on_delete=models.PROTECT, related_name="batch_reviews"
    )
    period = models.CharField(max_length=20, help_text="e.g. 2026-W07 or 2026-03")
    period_start = models.DateField()
    period_end = models.DateField()
    due_at = models.DateTimeField()
    owner_group = models.ForeignKey(
        Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN
    )
    notes = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Watermarks of the overdue sweep, as on ``Review``.
    reminded_for = models.DateTimeField(null=True, blank=True)
    overdue_alerted_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    incidents = models.ManyToManyField(
        Incident, through="BatchReviewItem", related_name="batch_reviews"
    )

    objects = BatchReviewQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-period_start", "severity__rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["severity", "period"], name="batchreview_one_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.severity.code} batch review {self.period}"

    def get_absolute_url(self) -> str:
        return f"/reviews/batches/{self.pk}/"

    @property
    def label(self) -> str:
        return f"{self.severity.code} batch review {self.period}"

    def is_overdue_at(self, now: datetime) -> bool:
        return self.status == self.Status.OPEN and self.due_at < now


class BatchReviewItem(models.Model):
    """One incident of a batch review and what the batch decided about it."""

    class Disposition(models.TextChoices):
        PENDING = "", "Not decided yet"
        NO_ACTION = "no_action", "No action"
        FOLLOW_UP = "follow_up", "Follow-up created"
        PROMOTED = "promoted", "Promoted to a full review"

    batch = models.ForeignKey(
        BatchReview, on_delete=models.CASCADE, related_name="items"
    )
    # Unique: an incident resolved again stays in the batch it first joined.
    incident = models.OneToOneField(
        Incident, on_delete=models.PROTECT, related_name="batch_review_item"
    )
    added_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    disposition = models.CharField(
        max_length=20, choices=Disposition.choices, blank=True, default=""
    )
    ticket_url = models.URLField("follow-up ticket", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "added_at"]

    def __str__(self) -> str:
        return f"{self.incident.reference} in {self.batch}"


# --- Drafting from the record ------------------------------------------------------


class DraftSection(models.Model):
    """What ``reviews.drafting`` drafted for one section of a review, with the
    source of every sentence, and whether a person accepted it.

    Text sections (``summary``, ``customer_impact``, ``business_impact``,
    ``response``, and ``answer:<key>`` for a template question drafted from the
    record, kept in ``Review.answers[key]``) put their text into the review's
    field of the same name; the
    field reads as a draft while it still equals ``text`` and nobody accepted it
    (``is_draft``). A person's edit makes the field differ from ``text``: it is
    then theirs, and a redraft that would change it waits in ``pending_*`` until
    a person takes or dismisses it. Suggestion sections (``factors``,
    ``five_whys``, ``follow_ups``) only hold ``items``: they are shown, never
    written into the review by themselves.

    ``sentences``: ``[{"text": str, "sources": [{"kind", "id", "label", ...}]}]``
    (``reviews.drafting.Source``). Written only by ``reviews.services``.
    """

    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="draft_sections"
    )
    section = models.CharField(max_length=80)
    text = models.TextField(blank=True)
    sentences = models.JSONField(default=list, blank=True)
    items = models.JSONField(default=list, blank=True)
    drafted_at = models.DateTimeField(default=timezone.now)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    pending_text = models.TextField(blank=True)
    pending_sentences = models.JSONField(default=list, blank=True)
    pending_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["review", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "section"], name="draftsection_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.section} of {self.review}"

    @staticmethod
    def normalise(text: str) -> str:
        """Text as compared: browsers send CRLF, services strip."""
        return (text or "").replace("\r\n", "\n").strip()

    ANSWER = "answer:"

    @property
    def answer_key(self) -> str:
        """The template question's key of an ``answer:<key>`` section, or ""."""
        return self.section.removeprefix(self.ANSWER) if self.is_answer else ""

    @property
    def is_answer(self) -> bool:
        return self.section.startswith(self.ANSWER)

    def current(self, review: Review | None = None) -> str:
        review = review or self.review
        if self.is_answer:
            return str(review.answers.get(self.answer_key, "") or "")
        return getattr(review, self.section, "") or ""

    def put(self, review: Review, text: str) -> str:
        """Put ``text`` into ``review``'s field or answer (in memory); returns
        the review field to save."""
        if self.is_answer:
            review.answers = {**review.answers, self.answer_key: text}
            return "answers"
        setattr(review, self.section, text)
        return self.section

    def is_draft(self, review: Review | None = None) -> bool:
        """The review's field still holds the drafted text nobody accepted."""
        return (
            bool(self.text)
            and self.accepted_at is None
            and self.normalise(self.current(review)) == self.normalise(self.text)
        )

    def is_persons(self, review: Review | None = None) -> bool:
        """The field holds a person's text: edited, or drafted and accepted."""
        current = self.normalise(self.current(review))
        if not current:
            return False
        return self.accepted_at is not None or current != self.normalise(self.text)


# --- Templates ----------------------------------------------------------------------


class ReviewTemplateQuerySet(models.QuerySet):
    def for_incident(self, incident: Incident) -> ReviewTemplate | None:
        """The most specific active template for the incident's type (or its
        family) and confirmed severity: type beats family beats any; a named
        severity beats any severity; then the lowest id."""
        incident_type = incident.incident_type
        family_id = incident_type.family_id if incident_type else None
        candidates = self.filter(is_active=True).filter(
            models.Q(incident_type__isnull=True)
            | models.Q(incident_type_id=incident.incident_type_id),
            models.Q(family__isnull=True) | models.Q(family_id=family_id),
            models.Q(severity__isnull=True)
            | models.Q(severity_id=incident.severity_id),
        )

        def specificity(template) -> tuple:
            return (
                -(template.incident_type_id is not None),
                -(template.family_id is not None),
                -(template.severity_id is not None),
                template.pk,
            )

        ordered = sorted(candidates, key=specificity)
        return ordered[0] if ordered else None


class ReviewTemplate(models.Model):
    """The sections a review asks for, per incident type (or family) and
    severity; blank type, family or severity: any. Configured in the admin."""

    name = models.CharField(max_length=120)
    incident_type = models.ForeignKey(
        IncidentType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_templates",
        help_text="Blank: any type (of the family, if one is set).",
    )
    family = models.ForeignKey(
        IncidentFamily,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_templates",
        help_text="Blank: any family.",
    )
    severity = models.ForeignKey(
        SeverityLevel,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_templates",
        help_text="Blank: any severity.",
    )
    guidance = models.TextField(blank=True, help_text="Shown above the review.")
    is_active = models.BooleanField(default=True)

    objects = ReviewTemplateQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class ReviewTemplateSection(models.Model):
    """One section a template asks for: one of the review's own fields (with
    this template's guidance) or a question of its own, answered in
    ``Review.answers``."""

    FIELD_CHOICES = [
        ("summary", "Summary"),
        ("customer_impact", "Customer impact"),
        ("business_impact", "Business impact"),
        ("response", "How the response went"),
        ("root_cause", "Root cause"),
        ("went_well", "What went well"),
        ("went_poorly", "What went poorly"),
        ("got_lucky", "Where we got lucky"),
        ("lessons", "Lessons"),
    ]

    template = models.ForeignKey(
        ReviewTemplate, on_delete=models.CASCADE, related_name="sections"
    )
    order = models.PositiveSmallIntegerField(default=0)
    key = models.SlugField(
        max_length=60,
        help_text="A review field (summary, customer_impact, business_impact, "
        "response, root_cause, went_well, went_poorly, got_lucky, lessons) or a "
        "key of this template's own question (e.g. data-exposed).",
    )
    title = TitleField(max_length=200)
    guidance = models.TextField(blank=True)
    required = models.BooleanField(
        default=False, help_text="Submitting is refused while it is empty."
    )
    DRAFTED_FROM_CHOICES = [
        ("", "Nothing: people write it"),
        ("regulatory_notifications", "The regulatory notifications on the record"),
    ]
    drafted_from = models.CharField(
        max_length=40,
        blank=True,
        choices=DRAFTED_FROM_CHOICES,
        help_text="A question of the template's own: what its first draft is "
        "written from (marked as a draft until a person accepts or edits it).",
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["template", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "key"], name="reviewtemplatesection_unique"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_field(self) -> bool:
        """The section is one of the review's own fields."""
        return self.key in {name for name, _ in self.FIELD_CHOICES}


# The lessons index lives in its own module; imported here so Django finds it.
from reviews.lesson_models import Lesson  # noqa: E402, F401
