from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from incidentops.exceptions import DomainError
from incidentops.services import token_issue, user_create, user_update


class Command(BaseCommand):
    help = (
        "Create a user, or update an existing one (idempotent), and print an API "
        "token for it on one line."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--groups",
            default="",
            help='Comma-separated group names, e.g. "Responders"',
        )
        parser.add_argument(
            "--service-account",
            action="store_true",
            help="Mark as a service account (integrations and automation).",
        )
        parser.add_argument("--password", help="Set this password (humans only).")
        parser.add_argument("--email", help="E-mail address.")

    @transaction.atomic
    def handle(self, *args, username, groups, service_account, password, email, **kw):
        names = [name.strip() for name in groups.split(",") if name.strip()]
        found = {g.name: g for g in Group.objects.filter(name__in=names)}
        missing = [name for name in names if name not in found]
        if missing:
            known = ", ".join(
                Group.objects.order_by("name").values_list("name", flat=True)
            )
            raise CommandError(
                f"Unknown group(s): {', '.join(missing)}. Known: {known}."
            )
        if password and service_account:
            raise CommandError(
                "Service accounts authenticate with tokens, not passwords."
            )

        user = get_user_model().objects.filter(username=username).first()
        try:
            if user is None:
                user = user_create(
                    actor=None,
                    username=username,
                    email=email or "",
                    is_service_account=service_account,
                    password=password,
                    groups=list(found.values()),
                )
            else:
                fields = {}
                if service_account:
                    fields["is_service_account"] = True
                if email is not None:
                    fields["email"] = email
                if password:
                    user.set_password(password)
                # The one write path: it refuses to make a sitting commander
                # non-human (control 1).
                user_update(
                    user=user, actor=None, groups=list(found.values()), **fields
                )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        token = token_issue(user=user, actor=None, keep_existing=True)
        self.stdout.write(token.key)
