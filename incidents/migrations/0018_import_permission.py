from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

IMPORTERS = ["Incident managers"]


def grant(apps, schema_editor):
    # Importing history is the incident managers' right (and superusers').
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    create_permissions(global_apps.get_app_config("incidents"), apps=apps, verbosity=0)
    permission = Permission.objects.filter(
        content_type__app_label="incidents", codename="import_incidents"
    )
    for group in Group.objects.filter(name__in=IMPORTERS):
        group.permissions.add(*permission)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0017_role_requests"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="incident",
            options={
                "ordering": ["-created_at", "-pk"],
                "permissions": [
                    (
                        "confirm_severity",
                        "Can confirm or change an incident's severity",
                    ),
                    ("assign_role", "Can assign incident roles"),
                    ("add_note", "Can add notes to incidents they can see"),
                    (
                        "view_insights",
                        "Can see the insights page (counts what they may see)",
                    ),
                    (
                        "import_incidents",
                        "Can import past incidents (admin upload)",
                    ),
                ],
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
