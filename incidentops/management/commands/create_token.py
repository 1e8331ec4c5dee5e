from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from incidentops.exceptions import DomainError
from incidentops.services import token_issue


class Command(BaseCommand):
    help = (
        "Print a fresh API token for an existing user. The user's previous token "
        "stops working."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    @transaction.atomic
    def handle(self, *args, username, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        try:
            token = token_issue(user=user, actor=None)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(token.key)
