"""The groups' rights on escalation policies and contact methods.

Configurators edit escalation policies and their steps and anyone's contact
methods and notification rules, and read the running escalations and pages;
every role group reads the policies; incident managers also read the running
escalations and pages. Idempotent: it only adds permissions.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

CONFIGURATION = (
    "escalationpolicy",
    "escalationstep",
    "contactmethod",
    "notificationrule",
)
RECORDS = ("escalation", "page")
READERS = ("Responders", "Incident managers", "Reviewers", "Executives")

GROUP_PERMISSIONS = {
    "Configurators": [
        f"{verb}_{model}"
        for model in CONFIGURATION
        for verb in ("view", "add", "change", "delete")
    ]
    + [f"view_{model}" for model in RECORDS],
    **{group: ["view_escalationpolicy", "view_escalationstep"] for group in READERS},
}
GROUP_PERMISSIONS["Incident managers"] += [f"view_{model}" for model in RECORDS]


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
    dependencies = [("notifications", "0010_escalation_targets")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
