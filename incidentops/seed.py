"""Demo accounts: one login per group (README lists them)."""

from django.contrib.auth.models import Group

from incidentops import groups
from incidentops.models import User

DEMO_PASSWORD = "incidentops-demo"

# username, full name, groups, e-mail
DEMO_USERS = [
    ("admin", ("Ada", "Admin"), [groups.CONFIGURATORS], True),
    ("rita", ("Rita", "Responder"), [groups.RESPONDERS], False),
    ("omar", ("Omar", "Okafor"), [groups.RESPONDERS], False),
    ("mia", ("Mia", "Manager"), [groups.INCIDENT_MANAGERS, groups.RESPONDERS], False),
    ("carl", ("Carl", "Comms"), [groups.RESPONDERS], False),
    ("rob", ("Rob", "Reviewer"), [groups.REVIEWERS], False),
    ("eve", ("Eve", "Executive"), [groups.EXECUTIVES], False),
    ("cora", ("Cora", "Configurator"), [groups.CONFIGURATORS], False),
]


def seed_accounts(*, stdout) -> None:
    """Create the groups and demo users if missing; never reset a changed password."""
    for name in groups.ALL_GROUPS:
        Group.objects.get_or_create(name=name)
    created_any = False
    for username, (first, last), group_names, superuser in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.com",
                "is_staff": superuser or groups.CONFIGURATORS in group_names,
                "is_superuser": superuser,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            user.groups.set(Group.objects.filter(name__in=group_names))
            created_any = True
    if not User.objects.filter(username="alertmanager-bot").exists():
        bot = User(username="alertmanager-bot", is_service_account=True)
        bot.set_unusable_password()  # it authenticates with a token only
        bot.save()
        created_any = True
    if created_any:
        stdout.write(f"Demo users created (password: {DEMO_PASSWORD}).")
