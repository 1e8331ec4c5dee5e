"""The groups' rights on on-call schedules.

Configurators edit schedules, their layers, participants and overrides; every
role group reads them; incident managers also add overrides (covering for
someone during an incident). Idempotent: it only adds permissions.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

SCHEDULES = ("schedule", "schedulelayer", "layerparticipant", "scheduleoverride")
RECORDS = ("shiftswap", "calendarfeed")
READERS = ("Responders", "Incident managers", "Reviewers", "Executives")

GROUP_PERMISSIONS = {
    "Configurators": [
        f"{verb}_{model}"
        for model in SCHEDULES
        for verb in ("view", "add", "change", "delete")
    ]
    + [f"view_{model}" for model in RECORDS],
    **{group: [f"view_{model}" for model in SCHEDULES] for group in READERS},
}
GROUP_PERMISSIONS["Incident managers"] += ["add_scheduleoverride"]


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
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
    dependencies = [("notifications", "0005_schedules")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
