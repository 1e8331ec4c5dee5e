"""Demo accounts (one login per group, README lists them) and the seed's marks.

Every app's seed marks the rows it creates (``seed_mark``) and writes, submits,
approves or deletes only rows it marked (``seeded``), so ``seed_demo`` on a
database where people work changes none of their incidents, reviews, lists or
users. A demo username that already belongs to someone is left to them: the
seed does not adopt an account it did not create.
"""

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models

from incidentops import groups
from incidentops.models import SeedMark, User
from incidentops.services import user_create

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


def seed_mark(*objects: models.Model) -> None:
    """Record ``objects`` (saved rows) as created by the demo seed."""
    for obj in objects:
        SeedMark.objects.get_or_create(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        )


def seeded(rows: type[models.Model] | models.QuerySet) -> models.QuerySet:
    """The rows of a model (or of a queryset) that the demo seed created."""
    queryset = (
        rows if isinstance(rows, models.QuerySet) else rows._default_manager.all()
    )
    marks = SeedMark.objects.filter(
        content_type=ContentType.objects.get_for_model(queryset.model)
    )
    return queryset.filter(pk__in=marks.values("object_id"))


def is_seeded(obj: models.Model | None) -> bool:
    """Whether the demo seed created ``obj`` (False for None)."""
    return obj is not None and seeded(type(obj)).filter(pk=obj.pk).exists()


def seed_accounts(*, stdout) -> None:
    """Create the groups and demo users if missing (and mark them as the seed's);
    never reset a changed password, never touch an account the seed did not
    create."""
    for name in groups.ALL_GROUPS:
        group, created = Group.objects.get_or_create(name=name)
        if created:
            seed_mark(group)
    created_any = False
    for username, (first, last), group_names, superuser in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        user = user_create(
            actor=None,
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.com",
            # Configurators configure in the admin; incident managers import
            # history there.
            is_staff=superuser
            or groups.CONFIGURATORS in group_names
            or groups.INCIDENT_MANAGERS in group_names,
            is_superuser=superuser,
            password=DEMO_PASSWORD,
            groups=list(Group.objects.filter(name__in=group_names)),
        )
        seed_mark(user)
        created_any = True
    if not User.objects.filter(username="alertmanager-bot").exists():
        # it authenticates with a token only (no password)
        bot = user_create(
            actor=None, username="alertmanager-bot", is_service_account=True
        )
        seed_mark(bot)
        created_any = True
    if created_any:
        stdout.write(f"Demo users created (password: {DEMO_PASSWORD}).")


def demo_users(usernames) -> dict[str, User]:
    """The active demo accounts among ``usernames`` that the seed created, by
    username (an account of the same name that someone else made is absent)."""
    return {
        user.username: user
        for user in seeded(User).filter(username__in=usernames, is_active=True)
    }
