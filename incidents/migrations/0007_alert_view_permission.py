"""The groups that read incidents' timelines may read their alert records too
(the read-only alert list in the admin)."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

READERS = ["Responders", "Incident managers", "Reviewers", "Executives"]


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # As in 0002: this app's permissions exist only after post_migrate otherwise.
    create_permissions(global_apps.get_app_config("incidents"), apps=apps, verbosity=0)
    view_alert = Permission.objects.filter(
        content_type__app_label="incidents", codename="view_alert"
    )
    for group in Group.objects.filter(name__in=READERS):
        group.permissions.add(*view_alert)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view_alert = Permission.objects.filter(
        content_type__app_label="incidents", codename="view_alert"
    )
    for group in Group.objects.filter(name__in=READERS):
        group.permissions.remove(*view_alert)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0006_alert_records"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
