"""The data a fresh database needs: the severity framework (SEV-1..SEV-4), the
built-in roles, the four incident families and the groups' model permissions.

Idempotent (get_or_create): it never overwrites what an admin has edited since.
"""

from datetime import timedelta

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

SEVERITIES = [
    (
        "SEV-1",
        "Critical",
        1,
        "Customer-facing outage, data breach or regulatory event.",
        "all_hands",
        "Executives",
        timedelta(minutes=30),
    ),
    (
        "SEV-2",
        "High",
        2,
        "Degraded service, SLA breach or process failure.",
        "cross_team",
        "Management",
        timedelta(minutes=60),
    ),
    (
        "SEV-3",
        "Medium",
        3,
        "Internal disruption, near miss or minor process deviation.",
        "team",
        "Logged for review",
        timedelta(hours=4),
    ),
    (
        "SEV-4",
        "Low",
        4,
        "Cosmetic issue, minor delay or documentation gap.",
        "standard",
        "Batch review",
        None,
    ),
]

ROLES = [
    (
        "commander",
        "Incident commander",
        "Leads the response and makes the decisions. Always a person.",
        True,
    ),
    (
        "communications",
        "Communications lead",
        "Keeps stakeholders informed on the severity's update cadence.",
        False,
    ),
    ("scribe", "Scribe", "Keeps the timeline complete and accurate.", False),
    (
        "operations",
        "Operations lead",
        "Coordinates the hands-on technical or operational work.",
        False,
    ),
]

FAMILIES = [
    ("service-outage", "Service outage", "Unavailable or degraded services."),
    (
        "security-data-breach",
        "Security and data breach",
        "Attacks, intrusions and exposure of personal or confidential data.",
    ),
    (
        "supply-chain-disruption",
        "Supply-chain disruption",
        "Supplier failures, logistics delays and shortages.",
    ),
    (
        "compliance-event",
        "Compliance event",
        "Breaches of regulation, policy or contractual obligations.",
    ),
]

TAXONOMY = [
    "incidentfamily",
    "incidenttype",
    "severitylevel",
    "role",
    "playbook",
    "playbookstep",
]
READ = [f"view_{model}" for model in TAXONOMY]
RESPONDER = [
    "view_incident",
    "add_incident",
    "add_note",
    "view_actionitem",
    "add_actionitem",
    "change_actionitem",
    "view_stakeholderupdate",
    "add_stakeholderupdate",
    "view_timelineentry",
    "view_roleassignment",
    *READ,
]
GROUP_PERMISSIONS = {
    "Responders": RESPONDER,
    "Incident managers": [
        *RESPONDER,
        "change_incident",
        "confirm_severity",
        "assign_role",
        "view_integration",
    ],
    "Reviewers": [
        "view_incident",
        "view_actionitem",
        "view_stakeholderupdate",
        "view_timelineentry",
        "view_roleassignment",
        *READ,
    ],
    "Executives": [
        "view_incident",
        "view_actionitem",
        "view_stakeholderupdate",
        "view_timelineentry",
        "view_roleassignment",
        *READ,
    ],
    "Configurators": [
        f"{verb}_{model}"
        for model in [*TAXONOMY, "integration"]
        for verb in ("view", "add", "change", "delete")
    ],
}


def seed(apps, schema_editor):
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    Role = apps.get_model("incidents", "Role")
    IncidentFamily = apps.get_model("incidents", "IncidentFamily")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    for code, name, rank, description, response, notified, cadence in SEVERITIES:
        SeverityLevel.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "rank": rank,
                "description": description,
                "response": response,
                "notified": notified,
                "update_cadence": cadence,
            },
        )
    for slug, name, description, human_only in ROLES:
        Role.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "human_only": human_only,
                "is_builtin": True,
            },
        )
    for slug, name, description in FAMILIES:
        IncidentFamily.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )

    # Permissions are normally created in post_migrate, after every migration;
    # create this app's now so that the groups can be given them.
    # The installed app's config is passed because the migration state's stub
    # has no models module, which create_permissions takes to mean "no models";
    # the models themselves are read from the migration state (apps=apps).
    create_permissions(global_apps.get_app_config("incidents"), apps=apps, verbosity=0)
    for group_name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="incidents", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0001_initial"),
        ("incidentops", "0002_groups"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
