"""The review console: the policy per severity (with its approval requirements
and escalation chain) and the contributing-factor taxonomy to configure, with
history. Reviews and batch reviews are operational records: read-only here, and
only those of incidents the admin may see. Writing a review, approving and
deciding on a batch happen in the portal and the API, through the services."""

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import Count, Prefetch, Q
from django.utils import timezone
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from incidentops.admin import ReadOnlyAdminMixin
from incidentops.admin_fields import IntegerListField, pretty_json
from incidents.models import Incident
from reviews.models import (
    Approval,
    ApprovalRequirement,
    BatchReview,
    BatchReviewItem,
    ContributingFactor,
    ContributingFactorCategory,
    DraftSection,
    EscalationStep,
    FiveWhy,
    FollowUp,
    Review,
    ReviewPolicy,
    ReviewTemplate,
    ReviewTemplateSection,
)

# --- configuration ----------------------------------------------------------------


class ApprovalRequirementInline(admin.TabularInline):
    model = ApprovalRequirement
    extra = 0
    fields = ["group", "count"]
    verbose_name = "required approval"
    verbose_name_plural = "required approvals (copied into each new review)"


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0
    fields = ["after_business_days", "group"]
    ordering = ["after_business_days"]
    verbose_name = "escalation step"
    verbose_name_plural = "escalation chain (business days overdue → group)"


class ReviewPolicyForm(forms.ModelForm):
    class Meta:
        model = ReviewPolicy
        fields = [
            "severity",
            "mode",
            "due_business_days",
            "reminder_business_days",
            "batch_period",
            "batch_owner_group",
        ]
        field_classes = {"reminder_business_days": IntegerListField}
        help_texts = {
            "reminder_business_days": "Remind the owner this many business days "
            "before the due date, comma-separated, e.g. “2, 0” (0: the morning of "
            "the due day).",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("reminder_business_days")
        if field is not None:
            field.min_value = 0


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(SimpleHistoryAdmin):
    form = ReviewPolicyForm
    list_display = [
        "severity",
        "mode",
        "due_business_days",
        "batch_period",
        "batch_owner_group",
        "approvals_summary",
        "escalations_summary",
    ]
    list_filter = ["mode", "batch_period", "batch_owner_group"]
    search_fields = ["severity__code", "severity__name"]
    list_select_related = ["severity", "batch_owner_group"]
    ordering = ["severity__rank"]
    inlines = [ApprovalRequirementInline, EscalationStepInline]
    fieldsets = [
        (None, {"fields": ["severity", "mode", "due_business_days"]}),
        (
            "Reminders",
            {"fields": ["reminder_business_days"]},
        ),
        (
            "Batch review (mode: batch review queue)",
            {"fields": ["batch_period", "batch_owner_group"]},
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("approvals__group", "escalations__group")
        )

    @admin.display(description="approvals")
    def approvals_summary(self, obj):
        return ", ".join(str(req) for req in obj.approvals.all()) or "—"

    @admin.display(description="escalation")
    def escalations_summary(self, obj):
        return ", ".join(str(step) for step in obj.escalations.all()) or "—"


@admin.register(ContributingFactorCategory)
class ContributingFactorCategoryAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "is_active", "factor_count"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_factors=Count("factors"))

    @admin.display(description="used by factors", ordering="_factors")
    def factor_count(self, obj):
        return obj._factors

    def get_readonly_fields(self, request, obj=None):
        # Reviews and the API refer to a category by its slug.
        if obj is not None and obj.factors.exists():
            return ["slug"]
        return []


# --- operational records: read-only ------------------------------------------------


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class FiveWhyInline(ReadOnlyInline):
    model = FiveWhy
    fields = ["order", "why", "because"]


class ContributingFactorInline(ReadOnlyInline):
    model = ContributingFactor
    fields = ["category", "description"]


class FollowUpInline(ReadOnlyInline):
    model = FollowUp
    fields = ["title", "owner", "due_at", "status", "ticket_url", "completed_at"]


class ApprovalInline(ReadOnlyInline):
    model = Approval
    fields = ["round", "user", "decision", "comment", "created_at"]
    verbose_name_plural = "approvals and change requests"


class DraftSectionInline(ReadOnlyInline):
    """What was drafted from the record, section by section, and who accepted
    it (a section a person edited reads "written by a person")."""

    model = DraftSection
    fields = ["section", "state", "drafted_at", "accepted_by", "accepted_at", "text"]
    readonly_fields = fields
    verbose_name_plural = "drafted from the record (who accepted what)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("review", "accepted_by")

    @admin.display(description="state")
    def state(self, obj):
        if not obj.text:
            return "suggestions" if obj.items else "—"
        if obj.is_draft():
            return "draft, not accepted"
        same = obj.normalise(obj.current()) == obj.normalise(obj.text)
        if obj.accepted_at and same:
            return "accepted as drafted"
        if obj.accepted_at:
            return "accepted, then edited by a person"
        return "written by a person" if obj.current().strip() else "empty"

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Viewable by holders of the view permission; never added, changed or
    deleted here (the services are the only writers)."""

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


class OverdueFilter(admin.SimpleListFilter):
    """Past the due date and not finished (a review not published, a batch not
    done), as of now."""

    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset):
        finished = (
            BatchReview.Status.DONE
            if queryset.model is BatchReview
            else Review.Status.PUBLISHED
        )
        late = Q(due_at__lt=timezone.now()) & ~Q(status=finished)
        if self.value() == "yes":
            return queryset.filter(late)
        if self.value() == "no":
            return queryset.exclude(late)
        return queryset


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    """Restricted incidents' reviews are listed only for who may see them."""

    list_display = [
        "incident_reference",
        "incident_title",
        "status",
        "severity_code",
        "due_at",
        "owner",
        "overdue",
        "portal_link",
    ]
    list_filter = ["status", "severity_code", OverdueFilter]
    search_fields = ["incident__reference", "incident__title", "summary"]
    list_select_related = ["incident", "owner"]
    ordering = ["-created_at", "-pk"]
    date_hierarchy = "due_at"
    inlines = [
        DraftSectionInline,
        FiveWhyInline,
        ContributingFactorInline,
        FollowUpInline,
        ApprovalInline,
    ]
    # Shown through approvals_required and answers_shown instead.
    exclude = ["required_approvals", "answers"]

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # The JSON copy reads better as one line of text; the template's
        # answers as indented JSON.
        return [
            "answers_shown" if f == "answers" else f
            for f in fields
            if f != "required_approvals"
        ] + ["approvals_required"]

    @admin.display(description="answers to the template's own questions")
    def answers_shown(self, obj):
        return pretty_json(obj.answers)

    @admin.display(description="incident", ordering="incident__reference")
    def incident_reference(self, obj):
        return obj.incident.reference

    @admin.display(description="title", ordering="incident__title")
    def incident_title(self, obj):
        return obj.incident.title

    @admin.display(description="overdue", boolean=True)
    def overdue(self, obj):
        return obj.is_overdue

    @admin.display(description="required approvals")
    def approvals_required(self, obj):
        return (
            ", ".join(f"{r['count']} × {r['group']}" for r in obj.required_approvals)
            or "—"
        )

    @admin.display(description="portal")
    def portal_link(self, obj):
        return format_html('<a href="{}">open</a>', obj.get_absolute_url())


class BatchReviewItemInline(ReadOnlyInline):
    model = BatchReviewItem
    fields = ["incident", "disposition", "note", "ticket_url", "decided_by"]
    verbose_name_plural = "incidents (those you may see)"

    def get_queryset(self, request):
        visible = Incident.objects.visible_to(request.user)
        return (
            super()
            .get_queryset(request)
            .filter(incident__in=visible)
            .select_related("incident", "decided_by")
        )


@admin.register(BatchReview)
class BatchReviewAdmin(ReadOnlyAdmin):
    """Batches of the admin's group or with an incident they may see; each lists
    only the incidents the admin may see."""

    list_display = [
        "label",
        "status",
        "due_at",
        "owner_group",
        "incident_references",
        "overdue",
        "portal_link",
    ]
    list_filter = ["status", "severity", "owner_group", OverdueFilter]
    search_fields = ["period", "severity__code"]
    list_select_related = ["severity", "owner_group"]
    ordering = ["-period_start", "severity__rank"]
    inlines = [BatchReviewItemInline]

    def get_queryset(self, request):
        user = request.user
        visible = Incident.objects.visible_to(user)
        return (
            super()
            .get_queryset(request)
            .visible_to(user)
            .prefetch_related(
                Prefetch(
                    "items",
                    queryset=BatchReviewItem.objects.filter(incident__in=visible)
                    .select_related("incident")
                    .order_by("added_at", "pk"),
                    to_attr="visible_items",
                )
            )
        )

    @admin.display(description="incidents")
    def incident_references(self, obj):
        return ", ".join(item.incident.reference for item in obj.visible_items) or "—"

    @admin.display(description="overdue", boolean=True)
    def overdue(self, obj):
        return obj.is_overdue_at(timezone.now())

    @admin.display(description="portal")
    def portal_link(self, obj):
        return format_html('<a href="{}">open</a>', obj.get_absolute_url())


# --- review templates ----------------------------------------------------------------


class ReviewTemplateSectionInline(admin.TabularInline):
    model = ReviewTemplateSection
    extra = 0
    fields = ["order", "key", "title", "guidance", "required", "drafted_from"]
    ordering = ["order", "pk"]
    # The columns share the page's width: no sideways scrolling.
    classes = ["inline-fit"]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})},
    }
    verbose_name = "section"
    verbose_name_plural = (
        "sections (a key naming a review field gives that field this guidance; "
        "any other key is a question of this template's own)"
    )


@admin.register(ReviewTemplate)
class ReviewTemplateAdmin(SimpleHistoryAdmin):
    """What a review asks, per incident type (or family) and severity: the
    most specific active template applies (type, then family, then any; a named
    severity before any)."""

    list_display = [
        "name",
        "incident_type",
        "family",
        "severity",
        "section_count",
        "required_count",
        "is_active",
    ]
    list_filter = ["is_active", "family", "severity", "incident_type"]
    search_fields = ["name", "sections__title"]
    inlines = [ReviewTemplateSectionInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("incident_type", "family", "severity")
            .annotate(
                sections_total=Count("sections", distinct=True),
                sections_required=Count(
                    "sections", filter=Q(sections__required=True), distinct=True
                ),
            )
        )

    @admin.display(description="sections", ordering="sections_total")
    def section_count(self, template):
        return template.sections_total

    @admin.display(description="required", ordering="sections_required")
    def required_count(self, template):
        return template.sections_required
