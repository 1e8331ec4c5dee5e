"""Users in the admin: humans and service accounts."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from incidentops.models import Heartbeat, User


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


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "last_seen_at")
    readonly_fields = ("name", "last_seen_at")

    def has_add_permission(self, request):
        return False
