"""The groups' rights on notification configuration.

Configurators manage channels and stakeholder lists (with their members) in the
admin; incident managers may look at them and at the outbox, and resend a failed
delivery. Idempotent: it only adds permissions.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

CONFIGURATION = ("channel", "stakeholderlist", "stakeholdermember")
OUTBOX = ("notification", "delivery")

GROUP_PERMISSIONS = {
    "Configurators": [
        f"{verb}_{model}"
        for model in CONFIGURATION
        for verb in ("view", "add", "change", "delete")
    ]
    + [f"view_{model}" for model in OUTBOX],
    "Incident managers": [f"view_{model}" for model in CONFIGURATION + OUTBOX]
    + ["change_delivery"],
}


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # Permissions are created in post_migrate; make this app's now (see the
    # incidents data migration for why the installed app config is passed).
    create_permissions(
        global_apps.get_app_config("notifications"), apps=apps, verbosity=0
    )
    for group_name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="notifications", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("incidentops", "0002_groups"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
