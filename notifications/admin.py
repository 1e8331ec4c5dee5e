"""The notification console: channels and stakeholder lists to configure; the
outbox to watch, with a resend action for failed deliveries."""

from django import forms
from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from incidentops.admin import ReadOnlyAdminMixin
from incidentops.exceptions import DomainError
from incidents.models import Incident
from notifications import services
from notifications.models import (
    SUBSCRIBABLE_EVENTS,
    Channel,
    Delivery,
    Notification,
    StakeholderList,
    StakeholderMember,
)

WRITE_ONLY = ("target", "secret")


class ChannelForm(forms.ModelForm):
    """``target`` and ``secret`` are never rendered back; left blank, they keep
    what is stored."""

    target = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"size": 80}),
        help_text=Channel._meta.get_field("target").help_text
        + " Leave blank to keep the stored value.",
    )
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=Channel._meta.get_field("secret").help_text
        + " Leave blank to keep the stored value.",
    )
    clear_secret = forms.BooleanField(
        required=False, help_text="Remove the stored signing secret."
    )

    class Meta:
        model = Channel
        fields = [
            "name",
            "kind",
            "is_enabled",
            "mailer",
            "target",
            "secret",
            "clear_secret",
            "events",
            "changes",
            "may_receive_restricted",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Never put the stored values into the page, not even as initial data.
        for name in WRITE_ONLY:
            self.initial[name] = ""

    def clean_events(self):
        events = self.cleaned_data.get("events") or []
        unknown = set(events) - set(SUBSCRIBABLE_EVENTS)
        if unknown:
            raise forms.ValidationError(
                f"Unknown events: {', '.join(sorted(unknown))}; "
                f"choose from {', '.join(SUBSCRIBABLE_EVENTS)}."
            )
        return events

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        stored = self.instance.target if self.instance.pk else ""
        target = cleaned.get("target") or stored
        if kind == Channel.Kind.WEBHOOK and not target.startswith(
            ("http://", "https://")
        ):
            self.add_error("target", "A webhook needs an http(s) URL.")
        if kind == Channel.Kind.APPRISE and not target:
            self.add_error("target", "An Apprise channel needs its service URL.")
        return cleaned

    def save(self, commit=True):
        channel = super().save(commit=False)
        stored = (
            Channel.objects.filter(pk=channel.pk).values("target", "secret").first()
            if channel.pk
            else None
        ) or {"target": "", "secret": ""}
        for name in WRITE_ONLY:
            if not self.cleaned_data.get(name):
                setattr(channel, name, stored[name])
        if self.cleaned_data.get("clear_secret"):
            channel.secret = ""
        if commit:
            channel.save()
        return channel


@admin.register(Channel)
class ChannelAdmin(SimpleHistoryAdmin):
    form = ChannelForm
    list_display = [
        "name",
        "kind",
        "is_enabled",
        "may_receive_restricted",
        "masked_target",
        "has_secret",
    ]
    list_filter = ["kind", "is_enabled", "may_receive_restricted"]
    search_fields = ["name"]
    readonly_fields = ["stored_target", "has_secret"]

    @admin.display(description="target (masked)")
    def masked_target(self, obj):
        return obj.masked_target

    @admin.display(description="stored target")
    def stored_target(self, obj):
        return obj.masked_target or "—"

    @admin.display(boolean=True, description="signing secret")
    def has_secret(self, obj):
        return bool(obj.secret)


class StakeholderMemberInline(admin.TabularInline):
    model = StakeholderMember
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "group", "email", "name"]


@admin.register(StakeholderList)
class StakeholderListAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "is_active",
        "notify_on_declare",
        "may_receive_restricted",
        "severity_codes",
    ]
    list_filter = [
        "is_active",
        "notify_on_declare",
        "may_receive_restricted",
        "severities",
        "incident_types",
    ]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["severities", "incident_types", "channels"]
    inlines = [StakeholderMemberInline]

    @admin.display(description="severities")
    def severity_codes(self, obj):
        return ", ".join(s.code for s in obj.severities.all()) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("severities")


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "recipient", "status", "attempts", "last_error", "sent_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: notifications are written by the outbox only."""

    list_display = ["subject", "incident", "kind", "created_at", "outcome_logged_at"]
    list_filter = ["kind"]
    search_fields = ["subject", "incident__reference", "event_key"]
    date_hierarchy = "created_at"
    list_select_related = ["incident"]
    inlines = [DeliveryInline]
    readonly_fields = [
        "incident",
        "kind",
        "event_key",
        "subject",
        "body_text",
        "body_html",
        "payload",
        "actor",
        "created_at",
        "outcome_logged_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        # Messages carry the incident's title and story: only those of incidents
        # the viewer may see (superusers see all, through ``visible_to``).
        return (
            super()
            .get_queryset(request)
            .filter(incident__in=Incident.objects.visible_to(request.user))
        )


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The outbox: watch it, and resend what failed (through the service)."""

    list_display = [
        "recipient",
        "channel",
        "status",
        "attempts",
        "incident_reference",
        "subject",
        "last_error",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "channel", "channel__kind"]
    search_fields = [
        "recipient",
        "idempotency_key",
        "notification__incident__reference",
        "notification__subject",
    ]
    list_select_related = ["channel", "notification__incident"]
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = [
        "notification",
        "channel",
        "recipient",
        "recipient_name",
        "user",
        "idempotency_key",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "claimed_until",
        "swept_at",
        "sent_at",
        "failed_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(
                notification__incident__in=Incident.objects.visible_to(request.user)
            )
        )

    @admin.display(description="incident", ordering="notification__incident")
    def incident_reference(self, obj):
        return obj.notification.incident.reference

    @admin.display(description="subject")
    def subject(self, obj):
        return obj.notification.subject

    @admin.action(
        description="Resend the selected failed deliveries", permissions=["change"]
    )
    def resend(self, request, queryset):
        resent = 0
        for delivery in queryset:
            try:
                services.delivery_resend(delivery=delivery, actor=request.user)
            except DomainError as exc:
                self.message_user(
                    request, f"{delivery.recipient}: {exc}", level=messages.WARNING
                )
            else:
                resent += 1
        if resent:
            self.message_user(request, f"{resent} delivery(ies) queued again.")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The change view is read-only; the resend action needs "change".
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False
