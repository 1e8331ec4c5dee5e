"""The notification console: channels and stakeholder lists to configure; the
outbox to watch, with a resend action for failed deliveries."""

from django import forms
from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from incidentops.admin import ReadOnlyAdminMixin
from incidentops.admin_fields import ChoiceListField, pretty_json, shown
from incidentops.exceptions import DomainError
from incidents.events import CHANGES
from notifications import permissions, restricted_routes, services
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
    events = ChoiceListField(
        choices=[(event, event) for event in SUBSCRIBABLE_EVENTS],
        help_text="Webhook only: the integration events it receives "
        "(incident_changed: every change to every incident).",
    )
    changes = ChoiceListField(
        choices=[(change, change.replace("_", " ")) for change in CHANGES],
        help_text="Webhook only: limit incident_changed to these changes; none "
        "ticked for all.",
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
            "teams",
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

    actor = None  # set per request by ``ChannelAdmin.get_form``

    def restricted_route_changes(self) -> list[str]:
        """What this save changes about where restricted content goes."""
        opted = self.cleaned_data.get("may_receive_restricted")
        was = (
            bool(self.instance.pk)
            and Channel.objects.filter(
                pk=self.instance.pk, may_receive_restricted=True
            ).exists()
        )
        changes = []
        if opted != was:
            changes.append(
                "may now receive restricted incidents"
                if opted
                else "no longer receives restricted incidents"
            )
        if (opted or self._in_opted_in_lists()) and self.cleaned_data.get("target"):
            changes.append("its target (URL or address) was replaced")
        if opted and {"kind", "is_enabled", "events"} & set(self.changed_data):
            changes.append(
                "changed: "
                + ", ".join(
                    sorted({"kind", "is_enabled", "events"} & set(self.changed_data))
                )
            )
        return changes

    def _in_opted_in_lists(self) -> bool:
        return (
            bool(self.instance.pk)
            and self.instance.stakeholder_lists.filter(
                may_receive_restricted=True
            ).exists()
        )

    def route_types(self):
        """The types whose restricted incidents this channel may carry: every
        type when it opts in itself, else those of its opted-in lists."""
        if self.cleaned_data.get("may_receive_restricted") or not self.instance.pk:
            return []
        types = []
        for stakeholder_list in self.instance.stakeholder_lists.filter(
            may_receive_restricted=True
        ):
            listed = list(stakeholder_list.incident_types.all())
            if not listed:
                return []
            types.extend(listed)
        return types

    def clean(self):
        cleaned = super().clean()
        changes = self.restricted_route_changes()
        widening = [c for c in changes if not c.startswith("no longer")]
        if widening and not permissions.can_route_restricted(
            self.actor, self.route_types()
        ):
            raise forms.ValidationError(
                restricted_routes.REFUSAL.format(what="every type this channel carries")
            )
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

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        changes = form.restricted_route_changes()
        super().save_model(request, obj, form, change)
        if changes:
            restricted_routes.restricted_route_announce(
                actor=request.user,
                source=obj,
                what=f"channel {obj.name}",
                changes=changes,
                incident_types=form.route_types(),
                url=f"/admin/notifications/channel/{obj.pk}/change/",
            )

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
    autocomplete_fields = ["teams"]

    @admin.display(description="target (masked)")
    def masked_target(self, obj):
        return obj.masked_target

    @admin.display(description="stored target")
    def stored_target(self, obj):
        return obj.masked_target or "—"

    @admin.display(boolean=True, description="signing secret")
    def has_secret(self, obj):
        return bool(obj.secret)


class StakeholderMemberFormSet(forms.BaseInlineFormSet):
    """Members of a list that may receive restricted content change only by
    people who may see restricted incidents of its types."""

    actor = None  # set per request by ``StakeholderMemberInline.get_formset``

    def has_member_changes(self) -> bool:
        return any(form.has_changed() for form in self.forms)

    def clean(self):
        super().clean()
        stakeholder_list = self.instance
        if not stakeholder_list.may_receive_restricted or not self.has_member_changes():
            return
        types = getattr(stakeholder_list, "route_types", None)
        if types is None:
            types = (
                list(stakeholder_list.incident_types.all())
                if stakeholder_list.pk
                else []
            )
        if not permissions.can_route_restricted(self.actor, types):
            raise forms.ValidationError(
                restricted_routes.REFUSAL.format(what="this list's types")
            )

    def member_changes(self) -> list[str]:
        """After ``save()``: the members added, changed and removed."""
        return (
            [f"added {member}" for member in self.new_objects]
            + [f"changed {member}" for member, _ in self.changed_objects]
            + [f"removed {member}" for member in self.deleted_objects]
        )


class StakeholderMemberInline(admin.TabularInline):
    model = StakeholderMember
    formset = StakeholderMemberFormSet
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "group", "email", "name"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (formset,), {"actor": request.user})


ROUTE_FIELDS = ("may_receive_restricted", "incident_types", "channels", "is_active")


class StakeholderListForm(forms.ModelForm):
    """Opting a list in to restricted content, or changing where an opted-in
    list sends it, needs the right to see restricted incidents of its types."""

    actor = None  # set per request by ``StakeholderListAdmin.get_form``

    class Meta:
        model = StakeholderList
        fields = [
            "slug",
            "name",
            "description",
            "is_active",
            "notify_on_declare",
            "may_receive_restricted",
            "severities",
            "incident_types",
            "channels",
        ]

    def route_changes(self) -> list[str]:
        opted = self.cleaned_data.get("may_receive_restricted")
        was = (
            bool(self.instance.pk)
            and StakeholderList.objects.filter(
                pk=self.instance.pk, may_receive_restricted=True
            ).exists()
        )
        if not opted and not was:
            return []
        if opted and not was:
            return ["may now receive restricted incidents"]
        if was and not opted:
            return ["no longer receives restricted incidents"]
        changed = [name for name in ROUTE_FIELDS if name in self.changed_data]
        return [f"changed {name.replace('_', ' ')}" for name in changed]

    def clean(self):
        cleaned = super().clean()
        types = list(cleaned.get("incident_types") or ())
        # The member formset checks against the types chosen here.
        self.instance.route_types = types
        # Read before anything is saved (the stored flag is the "before").
        self.changes_before_save = self.route_changes()
        widening = [
            c for c in self.changes_before_save if not c.startswith("no longer")
        ]
        if widening and not permissions.can_route_restricted(self.actor, types):
            raise forms.ValidationError(
                restricted_routes.REFUSAL.format(what="this list's types")
            )
        return cleaned


@admin.register(StakeholderList)
class StakeholderListAdmin(SimpleHistoryAdmin):
    form = StakeholderListForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def save_related(self, request, form, formsets, change):
        changes = list(form.changes_before_save)
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if obj.may_receive_restricted:
            for formset in formsets:
                if isinstance(formset, StakeholderMemberFormSet):
                    changes += formset.member_changes()
        if changes:
            restricted_routes.restricted_route_announce(
                actor=request.user,
                source=obj,
                what=f"stakeholder list {obj.name}",
                changes=changes,
                incident_types=list(obj.incident_types.all()),
                url=f"/admin/notifications/stakeholderlist/{obj.pk}/change/",
            )

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
        "about_types",
        "kind",
        "event_key",
        "subject",
        "body_text",
        "body_html",
        shown("payload", pretty_json),
        "actor",
        "created_at",
        "outcome_logged_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        # Messages carry the incident's title and story: only those the viewer
        # may read (``Notification.objects.visible_to``; superusers all).
        visible = Notification.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(pk__in=visible)


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
        visible = Notification.objects.visible_to(request.user).values("pk")
        return super().get_queryset(request).filter(notification__in=visible)

    @admin.display(description="incident", ordering="notification__incident")
    def incident_reference(self, obj):
        incident = obj.notification.incident
        return incident.reference if incident else "—"

    @admin.display(description="subject")
    def subject(self, obj):
        return obj.notification.subject

    def has_resend_permission(self, request) -> bool:
        """Incident managers resend failed deliveries of incidents they may see
        (the list shows only those); superusers any."""
        return permissions.can_resend_deliveries(request.user)

    @admin.action(
        description="Resend the selected failed deliveries", permissions=["resend"]
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
        # The change view is read-only; the resend action has its own right.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


# The on-call console registers its own models.
from notifications.oncall import admin as oncall_admin  # noqa: E402, F401
from notifications.oncall import schedule_admin  # noqa: E402,F401
