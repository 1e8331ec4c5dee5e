"""Users in the admin: humans and service accounts."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from incidentops.exceptions import DomainError
from incidentops.models import Heartbeat, User
from incidentops.services import UPDATABLE_FIELDS, user_create, user_update


@admin.register(User)
class UserAdmin(BaseUserAdmin, SimpleHistoryAdmin):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "is_service_account",
        "is_active",
        "is_staff",
    )
    list_filter = ("is_service_account", "is_active", "is_staff", "groups")
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Account kind", {"fields": ("is_service_account",)}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Account kind", {"fields": ("email", "is_service_account")}),
    )

    def save_model(self, request, obj, form, change):
        if not change:
            return self._create(request, obj, form)
        # Kind, activity, e-mail and names go through the one write path, which
        # refuses to make a sitting commander non-human (control 1).
        fields = {
            name: form.cleaned_data[name]
            for name in UPDATABLE_FIELDS
            if name in form.cleaned_data
        }
        stored = User.objects.get(pk=obj.pk)
        for name in fields:
            setattr(obj, name, getattr(stored, name))
        try:
            user_update(user=obj, actor=request.user, **fields)
        except DomainError as exc:
            request.user_update_refusal = exc.message
            self.message_user(request, exc.message, messages.ERROR)

    def _create(self, request, obj, form) -> None:
        """A new account through ``user_create``; ``obj`` (the form's unsaved
        user) becomes the stored row, so the admin carries on with it."""
        password = form.cleaned_data.get("password1")
        user = user_create(
            actor=request.user,
            username=obj.username,
            email=obj.email,
            first_name=obj.first_name,
            last_name=obj.last_name,
            is_service_account=obj.is_service_account,
            password=password if password and obj.has_usable_password() else None,
        )
        obj.pk, obj.password = user.pk, user.password
        obj._state.adding, obj._state.db = False, user._state.db

    def save_related(self, request, form, formsets, change):
        if getattr(request, "user_update_refusal", None):
            return
        super().save_related(request, form, formsets, change)

    def response_change(self, request, obj):
        if getattr(request, "user_update_refusal", None):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "last_seen_at")
    readonly_fields = ("name", "last_seen_at")

    def has_add_permission(self, request):
        return False


class ReadOnlyAdminMixin:
    """Viewable by holders of the view permission; never added, changed or
    deleted in the admin (operational records: the services are their only
    writers). Mix in before ``admin.ModelAdmin`` or an inline class."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
