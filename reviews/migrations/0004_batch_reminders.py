"""Batch reviews are reminded and escalated like individual ones: the default
SEV-3 and SEV-4 policies gain reminders and an escalation step.

Only a batch policy still exactly as 0002 made it (no reminders, no escalation
steps) is changed, so an admin's edits are kept.
"""

from django.db import migrations

# severity, reminders (business days before due), [(business days overdue, group)]
BATCH_DEFAULTS = [
    ("SEV-3", [1], [(2, "Executives")]),
    ("SEV-4", [2], [(3, "Incident managers")]),
]


def forwards(apps, schema_editor):
    ReviewPolicy = apps.get_model("reviews", "ReviewPolicy")
    EscalationStep = apps.get_model("reviews", "EscalationStep")
    Group = apps.get_model("auth", "Group")
    for code, reminders, steps in BATCH_DEFAULTS:
        policy = ReviewPolicy.objects.filter(severity__code=code, mode="batch").first()
        if policy is None or policy.reminder_business_days:
            continue
        if EscalationStep.objects.filter(policy=policy).exists():
            continue
        policy.reminder_business_days = reminders
        policy.save(update_fields=["reminder_business_days"])
        for after, name in steps:
            EscalationStep.objects.create(
                policy=policy,
                after_business_days=after,
                group=Group.objects.get_or_create(name=name)[0],
            )


class Migration(migrations.Migration):
    dependencies = [("reviews", "0003_batch_workflow")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
