"""Demo channels and stakeholder lists, following the severity framework.

SEV-1: executives and all-hands responders; SEV-2: management and the
cross-team responders; SEV-3: the owning team; SEV-4: nobody beyond the queue.
A triage list is told whenever an incident is declared. Addresses are
example.com; the demo webhook and chat channels are disabled. Only missing
channels and lists are created (and marked as the seed's); a channel or list of
the same name that someone made is never written to.
"""

from django.contrib.auth.models import Group

from incidentops import groups
from incidentops.seed import seed_mark
from incidents.models import SeverityLevel
from notifications.models import Channel, StakeholderList, StakeholderMember

# slug, name, description, on declare, severities, groups, external addresses
LISTS = [
    (
        "triage",
        "Triage desk",
        "Told when any incident is declared, before its severity is confirmed.",
        True,
        [],
        [groups.INCIDENT_MANAGERS],
        ["triage-desk@example.com"],
    ),
    (
        "sev1-executives",
        "SEV-1 executives",
        "Executives hear about every critical incident.",
        False,
        ["SEV-1"],
        [groups.EXECUTIVES],
        ["exec-office@example.com"],
    ),
    (
        "sev1-all-hands",
        "SEV-1 all-hands responders",
        "Every responder and incident manager: all hands.",
        False,
        ["SEV-1"],
        [groups.RESPONDERS, groups.INCIDENT_MANAGERS],
        [],
    ),
    (
        "sev2-management",
        "SEV-2 management",
        "Management hears about high-severity incidents.",
        False,
        ["SEV-2"],
        [groups.INCIDENT_MANAGERS],
        ["ops-management@example.com"],
    ),
    (
        "sev2-cross-team",
        "SEV-2 cross-team responders",
        "The responders of the teams involved.",
        False,
        ["SEV-2"],
        [groups.RESPONDERS],
        [],
    ),
    (
        "sev3-owning-team",
        "SEV-3 owning team",
        "The owning team's on-call address; logged for review.",
        False,
        ["SEV-3"],
        [],
        ["owning-team-oncall@example.com"],
    ),
]


def seed_notifications(*, stdout) -> None:
    """Create the demo channels and lists if missing; never undo admin edits."""
    email, created = Channel.objects.get_or_create(
        name="E-mail", defaults={"kind": Channel.Kind.EMAIL}
    )
    if created:
        seed_mark(email)
    _seed_channel(
        name="Demo webhook",
        defaults={
            "kind": Channel.Kind.WEBHOOK,
            "is_enabled": False,
            "target": "http://127.0.0.1:9/incidentops-demo-webhook",
            "secret": "demo-webhook-secret",
            "events": ["incident_changed"],
        },
    )
    _seed_channel(
        name="Slack #incidents (demo)",
        defaults={
            "kind": Channel.Kind.APPRISE,
            "is_enabled": False,
            "target": "slack://T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX/#incidents",
        },
    )
    created = 0
    for slug, name, description, on_declare, codes, group_names, emails in LISTS:
        stakeholder_list, new = StakeholderList.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "description": description,
                "notify_on_declare": on_declare,
            },
        )
        if not new:
            continue
        seed_mark(stakeholder_list)
        created += 1
        stakeholder_list.severities.set(SeverityLevel.objects.filter(code__in=codes))
        stakeholder_list.channels.set([email])
        for group_name in group_names:
            group, new_group = Group.objects.get_or_create(name=group_name)
            if new_group:
                seed_mark(group)
            StakeholderMember.objects.create(
                stakeholder_list=stakeholder_list, group=group
            )
        for address in emails:
            StakeholderMember.objects.create(
                stakeholder_list=stakeholder_list, email=address
            )
    if created:
        stdout.write(f"Notification lists created: {created}.")


def _seed_channel(**lookup_and_defaults) -> None:
    channel, created = Channel.objects.get_or_create(**lookup_and_defaults)
    if created:
        seed_mark(channel)
