"""The schedules console: a schedule with its layers (each with its participants
in turn order) and overrides on one page; shift swaps and calendar feeds to
look at."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from simple_history.admin import SimpleHistoryAdmin

from incidentops.admin import ReadOnlyAdminMixin
from incidentops.admin_fields import PrettyJSONField
from notifications.oncall.schedule_models import (
    CalendarFeed,
    LayerParticipant,
    Schedule,
    ScheduleLayer,
    ScheduleOverride,
    ShiftSwap,
)


def _usernames(text: str) -> list[str]:
    return [name for name in re.split(r"[\s,]+", text or "") if name]


class LayerForm(forms.ModelForm):
    """A layer with its participants as usernames in turn order."""

    participant_names = forms.CharField(
        label="Participants",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 30}),
        help_text="Usernames in turn order, separated by commas or new lines. "
        "A name may appear twice.",
    )

    class Meta:
        model = ScheduleLayer
        fields = [
            "name",
            "priority",
            "start_date",
            "handoff_time",
            "length_unit",
            "length_count",
            "restrictions",
            "active_from",
            "active_until",
        ]
        # Windows are a list of objects: indented JSON, not one long line.
        field_classes = {"restrictions": PrettyJSONField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["participant_names"].initial = ", ".join(
                p.user.username
                for p in self.instance.participants.select_related("user")
            )

    def clean_participant_names(self) -> list:
        names = _usernames(self.cleaned_data.get("participant_names", ""))
        users = get_user_model().objects.in_bulk(set(names), field_name="username")
        unknown = sorted({n for n in names if n not in users})
        if unknown:
            raise forms.ValidationError("No such user: " + ", ".join(unknown) + ".")
        inactive = sorted({n for n in names if not users[n].is_human})
        if inactive:
            raise forms.ValidationError(
                "Only active people go on call, not: " + ", ".join(inactive) + "."
            )
        return [users[n] for n in names]

    def save_participants(self) -> None:
        wanted = [u.pk for u in self.cleaned_data.get("participant_names") or []]
        current = list(
            self.instance.participants.order_by("position", "pk").values_list(
                "user_id", flat=True
            )
        )
        if wanted == current:
            return
        self.instance.participants.all().delete()
        LayerParticipant.objects.bulk_create(
            LayerParticipant(layer=self.instance, user_id=user_id, position=position)
            for position, user_id in enumerate(wanted)
        )


class LayerInline(admin.StackedInline):
    model = ScheduleLayer
    form = LayerForm
    extra = 0
    ordering = ["-priority"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("name", "priority"),
                    "participant_names",
                    ("start_date", "handoff_time"),
                    ("length_count", "length_unit"),
                    "restrictions",
                    ("active_from", "active_until"),
                ]
            },
        )
    ]


class OverrideForm(forms.ModelForm):
    class Meta:
        model = ScheduleOverride
        fields = ["user", "start", "end", "note"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not user.is_human:
            raise forms.ValidationError("Only active people go on call.")
        return user


class OverrideInline(admin.TabularInline):
    model = ScheduleOverride
    form = OverrideForm
    fk_name = "schedule"
    extra = 0
    autocomplete_fields = ["user"]
    ordering = ["-start"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Schedule)
class ScheduleAdmin(SimpleHistoryAdmin):
    list_display = ["name", "team", "time_zone", "layer_count"]
    search_fields = ["name", "description"]
    list_filter = ["team", "time_zone"]
    autocomplete_fields = ["team"]
    list_select_related = ["team"]
    inlines = [LayerInline, OverrideInline]
    fields = ["name", "team", "time_zone", "description", "external_id"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(layer_total=Count("layers"))

    @admin.display(description="layers", ordering="layer_total")
    def layer_count(self, schedule) -> int:
        return schedule.layer_total

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            obj.delete()
        for instance in instances:
            if isinstance(instance, ScheduleOverride) and not instance.created_by_id:
                instance.created_by = request.user
            instance.save()
        formset.save_m2m()
        if formset.model is ScheduleLayer:
            for layer_form in formset.forms:
                if (
                    layer_form.instance.pk
                    and layer_form not in formset.deleted_forms
                    and hasattr(layer_form, "cleaned_data")
                ):
                    layer_form.save_participants()


@admin.register(ShiftSwap)
class ShiftSwapAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["schedule", "requester", "counterpart", "start", "end", "status"]
    list_filter = ["status", "schedule"]
    list_select_related = ["schedule", "requester", "counterpart"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Feeds are made and revoked in the portal; here they can be seen (never
    their secret) and revoked."""

    list_display = ["__str__", "created_by", "created_at", "revoked_at"]
    list_filter = ["revoked_at"]
    exclude = ["token"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected feeds")
    def revoke(self, request, queryset):
        from notifications.oncall import schedule_services

        for feed in queryset:
            schedule_services.calendar_feed_revoke(feed=feed, actor=request.user)
        self.message_user(request, "Revoked.")
