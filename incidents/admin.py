"""The configuration console: taxonomy, severity policy, roles, playbooks,
integrations, teams and the service catalog, with history. Operational records (incidents, the timeline) are
read-only here; changing them is the portal's and the API's job, through the
services."""

from types import SimpleNamespace

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from incidentops.admin import ReadOnlyAdminMixin
from incidentops.admin_fields import (
    KeyValueField,
    key_value_lines,
    plain_list,
    pretty_json,
    shown,
)
from incidentops.exceptions import DomainError
from incidents import permissions, services
from incidents.admin_import import IncidentImportAdminMixin
from incidents.ingestion.severity import normalise_map
from incidents.models import (
    Alert,
    AlertState,
    Incident,
    IncidentFamily,
    IncidentType,
    Integration,
    Playbook,
    PlaybookStep,
    RegulatoryNotification,
    Role,
    Service,
    SeverityLevel,
    Team,
    TeamMembership,
    TimelineEntry,
    TriageModel,
)
from incidents.models.alerts import ALERT_RECORD_FIELDS
from incidents.triage import visible_suggestion


@admin.register(IncidentFamily)
class IncidentFamilyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]


@admin.register(IncidentType)
class IncidentTypeAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "slug",
        "family",
        "default_severity",
        "restricted_by_default",
        "notification_deadline_hours",
        "is_active",
    ]
    list_filter = ["family", "restricted_by_default", "is_active", "default_severity"]
    search_fields = ["name", "slug", "description", "keywords"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["restricted_groups"]
    ordering = ["family__name", "name"]


@admin.register(SeverityLevel)
class SeverityLevelAdmin(SimpleHistoryAdmin):
    list_display = ["code", "name", "rank", "response", "notified", "update_cadence"]
    list_filter = ["response"]
    search_fields = ["code", "name", "description"]
    ordering = ["rank"]


@admin.register(Role)
class RoleAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "human_only", "is_builtin"]
    list_filter = ["human_only", "is_builtin"]
    search_fields = ["name", "slug", "description"]
    ordering = ["-is_builtin", "name"]

    def get_readonly_fields(self, request, obj=None):
        # Services and the API refer to the built-in roles by slug.
        if obj is not None and obj.is_builtin:
            return ["slug"]
        return []

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_builtin:
            return False
        return super().has_delete_permission(request, obj)


class PlaybookStepInline(admin.TabularInline):
    """One row per step; the columns share the page's width (``inline-fit``),
    so a step is edited without scrolling sideways."""

    model = PlaybookStep
    extra = 1
    fields = ["order", "title", "description", "owner_role", "due_offset", "priority"]
    ordering = ["order"]
    classes = ["inline-fit"]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2})},
    }


@admin.register(Playbook)
class PlaybookAdmin(SimpleHistoryAdmin):
    list_display = ["name", "incident_type", "severity", "is_active"]
    list_filter = ["is_active", "severity", "incident_type__family"]
    search_fields = ["name", "guidance", "incident_type__name"]
    filter_horizontal = ["required_roles"]
    inlines = [PlaybookStepInline]
    ordering = ["incident_type__name", "severity__rank"]


class IntegrationForm(forms.ModelForm):
    class Meta:
        model = Integration
        fields = [
            "name",
            "kind",
            "service_account",
            "default_incident_type",
            "severity_label_map",
            "resolve_moves_to_mitigated",
            "rate_limit_per_minute",
            "is_active",
        ]
        field_classes = {"severity_label_map": KeyValueField}
        labels = {"severity_label_map": "Severity words"}
        help_texts = {
            "severity_label_map": "One sender severity word and the severity it "
            "SUGGESTS per line, e.g. “critical = SEV-1”. Case does not matter; a "
            "person always confirms the severity.",
        }

    def clean_severity_label_map(self):
        mapping = self.cleaned_data["severity_label_map"] or {}
        if not isinstance(mapping, dict):
            raise forms.ValidationError("One “word = severity code” per line.")
        known = set(SeverityLevel.objects.values_list("code", flat=True))
        unknown = sorted({str(v) for v in mapping.values()} - known)
        if unknown:
            raise forms.ValidationError(
                "Unknown severity codes: " + ", ".join(unknown) + "."
            )
        return normalise_map(mapping)


@admin.register(Integration)
class IntegrationAdmin(SimpleHistoryAdmin):
    """The secret is shown once, when created through ``create_integration`` (or
    the rotate action); only its hash is stored, and never displayed. The
    severity label map is edited here (words are stored lower-cased)."""

    form = IntegrationForm

    list_display = ["name", "kind", "service_account", "is_active", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "service_account__username"]
    ordering = ["name"]
    readonly_fields = ["created_at"]
    actions = ["rotate_secret"]

    def has_add_permission(self, request):
        # A new integration needs its secret shown once: create_integration does
        # that; the admin would have nowhere safe to show it.
        return False

    @admin.action(description="Rotate the secret (shown once)")
    def rotate_secret(self, request, queryset):
        for integration in queryset:
            try:
                secret = services.integration_rotate_secret(
                    integration=integration, actor=request.user
                )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
                return
            self.message_user(
                request,
                f"New secret for {integration.name} (shown once): {secret}",
                messages.WARNING,
            )


class TimelineEntryInline(admin.TabularInline):
    model = TimelineEntry
    fields = ["sequence", "occurred_at", "kind", "actor_label", "summary"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["sequence"]
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


REGULATORY_FIELDS = [
    "authority",
    "deadline_at",
    "notified_at",
    "notified_by",
    "method",
    "reference",
    "in_time",
    "recorded_by",
    "recorded_at",
]


class RegulatoryNotificationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = RegulatoryNotification
    fields = REGULATORY_FIELDS
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="in time", boolean=True)
    def in_time(self, obj):
        return obj.in_time


@admin.register(Incident)
class IncidentAdmin(IncidentImportAdminMixin, SimpleHistoryAdmin):
    """Read-only: incidents change through the portal and the API (services)."""

    list_display = [
        "reference",
        "title",
        "status",
        "severity",
        "incident_type",
        "restricted",
        "created_at",
        "portal_link",
    ]
    list_filter = [
        "status",
        "severity",
        "incident_type__family",
        "restricted",
        "external_source",
    ]
    search_fields = ["reference", "title", "description", "external_id"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    list_select_related = ["severity", "incident_type"]
    inlines = [RegulatoryNotificationInline, TimelineEntryInline]

    @admin.display(description="Portal")
    def portal_link(self, obj):
        return format_html('<a href="{}">open</a>', obj.get_absolute_url())

    @admin.display(description="Alerts")
    def alert_table(self, obj):
        """The incident's alert records, firing and worst first: the first
        ``ALERTS_SHOWN``, and a link to all of them in the read-only list."""
        total = obj.alerts.count()
        if not total:
            return "No alerts (not raised by an integration)."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td>{}</td><td>{}</td></tr>",
            (
                (
                    alert.display_name,
                    alert.get_status_display(),
                    alert.severity_label or "–",
                    alert.severity.code if alert.severity else "–",
                    alert.starts_at or "–",
                    alert.last_seen_at,
                    alert.deliveries,
                )
                for alert in obj.alerts.for_table()[:ALERTS_SHOWN]
            ),
        )
        listing = reverse("admin:incidents_alert_changelist")
        state = AlertState.objects.filter(incident=obj).first()
        return format_html(
            "<table><thead><tr><th>Alert</th><th>Status</th><th>Sender severity"
            "</th><th>Suggests</th><th>Started</th><th>Last seen</th>"
            "<th>Deliveries</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}?incident__id__exact={}">All {} alert record(s)</a></p>'
            "<p>Group key: <code>{}</code></p>",
            rows,
            listing,
            obj.pk,
            total,
            state.group_key if state else "–",
        )

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def _visible_or_404(self, request, object_id) -> Incident:
        # simple-history falls back to the latest historical record when
        # get_queryset misses (history_view) or never asks it (history_form_view):
        # both would show a restricted incident's title to anyone with
        # model-level view. Ask the one permission rule first.
        try:
            return permissions.get_visible_incident_or_404(
                request.user, pk=unquote(object_id)
            )
        except (ValueError, ValidationError):
            raise Http404("No incident matches the given query.") from None

    def history_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    def has_view_history_permission(self, request, obj=None):
        if obj is not None and not permissions.can_view(request.user, obj):
            return False
        return super().has_view_history_permission(request, obj)

    def has_change_history_permission(self, request, obj=None):
        if obj is not None and not permissions.can_view(request.user, obj):
            return False
        return super().has_change_history_permission(request, obj)

    # JSON kept as data, shown read-only and readable (never as form fields).
    exclude = [
        "suggestion",
        "affected_services",
        "affected_sites",
        "affected_suppliers",
    ]

    def get_readonly_fields(self, request, obj=None):
        shown_as = {name: f"{name}_shown" for name in self.exclude}
        return [shown_as.get(f.name, f.name) for f in self.model._meta.fields] + [
            "alert_table"
        ]

    def get_object(self, request, object_id, from_field=None):
        incident = super().get_object(request, object_id, from_field)
        if incident is not None:
            incident.admin_viewer = request.user  # for suggestion_shown
        return incident

    @admin.display(description="suggestion")
    def suggestion_shown(self, incident):
        # Only the similar incidents this person may see now; none when the
        # viewer is not known (a history version).
        viewer = getattr(incident, "admin_viewer", None)
        return pretty_json(visible_suggestion(viewer, incident))

    @admin.display(description="affected services")
    def affected_services_shown(self, incident):
        return plain_list(incident.affected_services)

    @admin.display(description="affected sites")
    def affected_sites_shown(self, incident):
        return plain_list(incident.affected_sites)

    @admin.display(description="affected suppliers")
    def affected_suppliers_shown(self, incident):
        return plain_list(incident.affected_suppliers)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Viewable, never saved here: the change form is all read-only fields.
        return False


ALERTS_SHOWN = 50  # on the incident's admin page; the alert list has them all


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every alert record an integration delivered, read-only (written only by
    alert ingestion), limited to the incidents the user may see."""

    list_display = [
        "display_name",
        "incident",
        "status",
        "severity_label",
        "severity",
        "starts_at",
        "last_seen_at",
        "deliveries",
    ]
    list_filter = ["status", "integration", "severity"]
    search_fields = ["incident__reference", "name", "fingerprint"]
    ordering = ["-last_seen_at", "-pk"]
    list_select_related = ["incident", "severity"]
    readonly_fields = [
        "incident",
        "integration",
        *(
            {
                "labels": shown("labels", key_value_lines),
                "annotations": shown("annotations", key_value_lines),
                "links": shown("links", pretty_json),
                "details": shown("details"),
            }.get(name, name)
            for name in ALERT_RECORD_FIELDS
        ),
    ]
    fields = readonly_fields

    @admin.display(description="Alert")
    def display_name(self, obj):
        return obj.display_name

    def get_queryset(self, request):
        visible = Incident.objects.visible_to(request.user)
        return super().get_queryset(request).filter(incident__in=visible)


@admin.register(RegulatoryNotification)
class RegulatoryNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Which authority was told about which incident, read-only (written only
    by ``regulatory_notification_record`` from the portal and the API), limited
    to the incidents the user may see."""

    list_display = ["incident", "authority", "notified_at", "deadline_at", "in_time"]
    list_filter = ["method"]
    search_fields = ["incident__reference", "authority", "reference"]
    ordering = ["-notified_at", "-pk"]
    list_select_related = ["incident"]
    fields = ["incident", *REGULATORY_FIELDS, "notes"]
    readonly_fields = fields

    @admin.display(description="in time", boolean=True)
    def in_time(self, obj):
        return obj.in_time

    def get_queryset(self, request):
        visible = Incident.objects.visible_to(request.user)
        return super().get_queryset(request).filter(incident__in=visible)


@admin.register(TimelineEntry)
class TimelineEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Append-only: nobody adds, changes or deletes entries here."""

    list_display = ["incident", "sequence", "kind", "actor_label", "occurred_at"]
    list_filter = ["kind"]
    search_fields = ["incident__reference", "summary"]
    ordering = ["-occurred_at"]
    list_select_related = ["incident"]
    exclude = ["data"]

    def get_readonly_fields(self, request, obj=None):
        def data(entry):
            # A suggestion's similar incidents: only those this person may see.
            value = entry.data or {}
            if entry.kind == TimelineEntry.Kind.SEVERITY_SUGGESTED and value:
                value = visible_suggestion(
                    request.user,
                    SimpleNamespace(
                        suggestion=value, reference=entry.incident.reference
                    ),
                )
            return pretty_json(value)

        data.short_description = "data"
        return [data]

    def get_queryset(self, request):
        visible = Incident.objects.visible_to(request.user)
        return super().get_queryset(request).filter(incident__in=visible)


@admin.register(TriageModel)
class TriageModelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Trained versions of the triage model, for audit: read-only. Versions are
    made by ``train_triage_model`` and the nightly task, never here."""

    list_display = [
        "version",
        "trained_at",
        "sample_count",
        "type_accuracy_vs_baseline",
        "severity_accuracy_vs_baseline",
        "type_usable",
        "severity_usable",
        "training_seconds",
    ]
    ordering = ["-version"]
    fields = [
        "version",
        "trained_at",
        "library_version",
        "sample_count",
        "train_count",
        "test_count",
        "type_accuracy",
        "baseline_type_accuracy",
        "severity_accuracy",
        "baseline_severity_accuracy",
        "type_usable",
        "severity_usable",
        shown("type_labels", plain_list),
        shown("severity_labels", plain_list),
        shown("metrics"),
        "training_seconds",
        "data_fingerprint",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        # Never load the pickled pipelines to list or show versions.
        return super().get_queryset(request).without_pipeline()

    @admin.display(description="type: model / keywords")
    def type_accuracy_vs_baseline(self, obj):
        return _percent_pair(obj.type_accuracy, obj.baseline_type_accuracy)

    @admin.display(description="severity: model / rules")
    def severity_accuracy_vs_baseline(self, obj):
        return _percent_pair(obj.severity_accuracy, obj.baseline_severity_accuracy)


def _percent_pair(model: float | None, baseline: float | None) -> str:
    def show(value):
        return "–" if value is None else f"{value:.0%}"

    return f"{show(model)} / {show(baseline)}"


# --- teams and the service catalog --------------------------------------------------


class TeamMembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "joined_at"]
    verbose_name = "member"
    verbose_name_plural = "members"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # A team's members are people.
            kwargs["queryset"] = db_field.related_model.objects.filter(
                is_service_account=False, is_active=True
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Team)
class TeamAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "manager", "member_count", "service_list"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["manager"]
    fields = [
        "name",
        "slug",
        "manager",
        "description",
        "services_owned",
        "team_channels",
    ]
    readonly_fields = ["services_owned", "team_channels"]
    inlines = [TeamMembershipInline]
    ordering = ["name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("manager")
            .prefetch_related("memberships", "services")
        )

    @admin.display(description="members")
    def member_count(self, team):
        return len(team.memberships.all())

    @admin.display(description="services")
    def service_list(self, team):
        return ", ".join(sorted(s.slug for s in team.services.all())) or "—"

    @admin.display(description="services it owns")
    def services_owned(self, team):
        if team.pk is None:
            return "—"
        rows = [
            (reverse("admin:incidents_service_change", args=[s.pk]), s.name, s.tier)
            for s in team.services.order_by("tier", "name")
        ]
        if not rows:
            return "None yet: a service names its team."
        return format_html_join(", ", '<a href="{}">{}</a> (tier {})', rows)

    @admin.display(description="channels")
    def team_channels(self, team):
        # Linked from the notifications side (a channel names its teams).
        related = getattr(team, "channels", None)
        names = [c.name for c in related.all()] if team.pk and related else []
        return ", ".join(names) or "None: a channel names the teams it belongs to."


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "name",
            "slug",
            "team",
            "tier",
            "runbook_url",
            "alert_labels",
            "depends_on",
            "description",
        ]
        field_classes = {"alert_labels": KeyValueField}
        help_texts = {
            "alert_labels": "Labels that identify it in alerts, one “name = value” "
            "per line, e.g. “service = checkout-api”: an alert carrying all of them "
            "is about this service.",
        }

    def clean(self):
        cleaned = super().clean()
        depends_on = cleaned.get("depends_on")
        if depends_on is not None and self.instance.pk is not None:
            try:
                services.catalog._check_dependencies(self.instance, list(depends_on))
            except DomainError as error:
                self.add_error("depends_on", str(error))
        return cleaned


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    form = ServiceForm
    list_display = ["name", "slug", "team", "tier", "labels", "dependency_list"]
    list_filter = ["tier", "team"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["team"]
    filter_horizontal = ["depends_on"]
    ordering = ["tier", "name"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("team")
            .prefetch_related("depends_on")
        )

    @admin.display(description="alert labels")
    def labels(self, service):
        return ", ".join(f"{k}={v}" for k, v in service.alert_labels.items()) or "—"

    @admin.display(description="depends on")
    def dependency_list(self, service):
        return ", ".join(sorted(s.slug for s in service.depends_on.all())) or "—"
