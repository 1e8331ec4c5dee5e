"""What a fresh database needs for reviews: the default review policy per severity
(SEV-1/2 reviewed individually in 5/10 business days; SEV-3 weekly and SEV-4
monthly batch review), the contributing-factor taxonomy and the groups' rights.

Idempotent (get_or_create): it never overwrites what an admin has edited since.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations

# severity, mode, due business days, batch period, batch owner group,
# reminders (business days before due), approvals [(group, count)],
# escalations [(business days overdue, group)]
POLICIES = [
    (
        "SEV-1",
        "individual",
        5,
        "week",
        None,
        [2, 0],
        [("Executives", 1), ("Reviewers", 1)],
        [(1, "Incident managers"), (3, "Executives")],
    ),
    (
        "SEV-2",
        "individual",
        10,
        "week",
        None,
        [3, 0],
        [("Reviewers", 1)],
        [(2, "Incident managers"), (5, "Executives")],
    ),
    ("SEV-3", "batch", 5, "week", "Incident managers", [], [], []),
    ("SEV-4", "batch", 10, "month", "Reviewers", [], [], []),
]

CATEGORIES = [
    ("people", "People", "Training, staffing, fatigue, hand-overs, communication."),
    ("process", "Process", "Missing, unclear or unfollowed procedures and checks."),
    ("technology", "Technology", "Software defects, capacity, configuration, design."),
    ("monitoring", "Monitoring and detection", "Alerts missing, late or noisy."),
    (
        "change",
        "Change management",
        "Deployments and changes, their review and rollback.",
    ),
    (
        "external",
        "External",
        "Events outside the organisation: weather, attacks, outages of public services.",
    ),
    ("supplier", "Supplier", "A supplier's or partner's failure or delay."),
    (
        "compliance",
        "Compliance and policy",
        "Regulatory or contractual requirements not met.",
    ),
]

GROUP_PERMISSIONS = {
    "Responders": ["view_review", "view_followup", "change_followup"],
    "Incident managers": [
        "view_review",
        "change_review",
        "view_followup",
        "change_followup",
        "view_batchreview",
        "change_batchreview",
    ],
    "Reviewers": [
        "view_review",
        "change_review",
        "view_followup",
        "change_followup",
        "view_batchreview",
        "change_batchreview",
    ],
    "Executives": ["view_review", "view_followup", "view_batchreview"],
    "Configurators": [
        f"{verb}_{model}"
        for model in (
            "reviewpolicy",
            "approvalrequirement",
            "escalationstep",
            "contributingfactorcategory",
        )
        for verb in ("view", "add", "change", "delete")
    ],
}


def seed(apps, schema_editor):
    SeverityLevel = apps.get_model("incidents", "SeverityLevel")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ReviewPolicy = apps.get_model("reviews", "ReviewPolicy")
    ApprovalRequirement = apps.get_model("reviews", "ApprovalRequirement")
    EscalationStep = apps.get_model("reviews", "EscalationStep")
    Category = apps.get_model("reviews", "ContributingFactorCategory")

    def group(name):
        return Group.objects.get_or_create(name=name)[0]

    for code, mode, days, period, owner, reminders, approvals, steps in POLICIES:
        severity = SeverityLevel.objects.filter(code=code).first()
        if severity is None:
            continue
        policy, created = ReviewPolicy.objects.get_or_create(
            severity=severity,
            defaults={
                "mode": mode,
                "due_business_days": days,
                "batch_period": period,
                "batch_owner_group": group(owner) if owner else None,
                "reminder_business_days": reminders,
            },
        )
        if not created:
            continue
        for name, count in approvals:
            ApprovalRequirement.objects.create(
                policy=policy, group=group(name), count=count
            )
        for after, name in steps:
            EscalationStep.objects.create(
                policy=policy, after_business_days=after, group=group(name)
            )
    for slug, name, description in CATEGORIES:
        Category.objects.get_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )

    # Permissions are normally created after all migrations; create them now so
    # the groups can be given them (see incidents 0002 for why the app config).
    create_permissions(global_apps.get_app_config("reviews"), apps=apps, verbosity=0)
    for group_name, codenames in GROUP_PERMISSIONS.items():
        group(group_name).permissions.add(
            *Permission.objects.filter(
                content_type__app_label="reviews", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0001_initial"),
        ("incidents", "0002_severity_roles_permissions"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
