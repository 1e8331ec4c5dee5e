"""The on-call console: escalation policies with their steps, people's contact
methods with their notification rules, and the running escalations and pages
(read-only: they change through the sweep and acknowledgements)."""

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from incidentops.admin import ReadOnlyAdminMixin
from notifications.oncall.escalation_models import (
    ContactMethod,
    Escalation,
    EscalationPolicy,
    EscalationStep,
    NotificationRule,
    Page,
)


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0
    fields = ["position", "user", "team", "schedule", "wait_minutes"]
    autocomplete_fields = ["user"]
    ordering = ["position", "pk"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "steps_count",
        "repeat_count",
        "start_severity",
        "is_active",
    ]
    list_filter = ["is_active", "for_every_incident"]
    search_fields = ["name", "description"]
    filter_horizontal = ["integrations"]
    inlines = [EscalationStepInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("steps")

    @admin.display(description="steps")
    def steps_count(self, obj):
        return len(obj.steps.all())


class ContactMethodForm(forms.ModelForm):
    """An Apprise or webhook URL is never rendered back; left blank on change,
    the stored one is kept."""

    class Meta:
        model = ContactMethod
        fields = ["user", "kind", "label", "address", "is_enabled"]
        widgets = {"address": forms.TextInput(attrs={"size": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk and instance.kind != ContactMethod.Kind.EMAIL:
            self.initial["address"] = ""
            self.fields["address"].required = False
            self.fields[
                "address"
            ].help_text += f" Stored: {instance.shown_address}. Leave blank to keep it."

    def clean_address(self):
        value = self.cleaned_data.get("address", "").strip()
        if not value and self.instance.pk:
            return self.instance.address
        return value


class NotificationRuleInline(admin.TabularInline):
    model = NotificationRule
    extra = 1
    fields = ["delay_minutes"]


@admin.register(ContactMethod)
class ContactMethodAdmin(SimpleHistoryAdmin):
    form = ContactMethodForm
    list_display = ["user", "kind", "label", "shown_address", "is_enabled", "rules"]
    list_filter = ["kind", "is_enabled"]
    search_fields = ["user__username", "user__email", "label"]
    autocomplete_fields = ["user"]
    inlines = [NotificationRuleInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("user")
            .prefetch_related("rules")
        )

    @admin.display(description="address")
    def shown_address(self, obj):
        return obj.shown_address

    @admin.display(description="notified after (min)")
    def rules(self, obj):
        return ", ".join(str(rule.delay_minutes) for rule in obj.rules.all()) or "—"


class PageInline(admin.TabularInline):
    model = Page
    extra = 0
    can_delete = False
    fields = ["user", "round", "step_index", "contact_method", "due_at", "handled_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "incident",
        "policy",
        "status",
        "round",
        "step_index",
        "next_due_at",
        "stopped_by",
    ]
    list_filter = ["status", "policy"]
    search_fields = ["incident__reference", "policy__name"]
    inlines = [PageInline]
    list_select_related = ["incident", "policy", "stopped_by"]
