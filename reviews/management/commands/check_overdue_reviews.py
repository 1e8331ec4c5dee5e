"""``check_overdue_reviews [--now ISO-8601]``: the review sweep Celery beat runs."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reviews.services import review_sweep


class Command(BaseCommand):
    help = (
        "Send the post-incident review reminders, overdue alerts and escalations "
        "due as of --now (default: the real time) and print what was sent. "
        "Running it twice sends nothing new."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="ISO-8601 date-time to run as of, e.g. 2026-03-02T09:30:00+00:00 "
            "(a time without offset is read in UTC).",
        )

    def handle(self, *args, now=None, **options):
        if now:
            try:
                moment = datetime.fromisoformat(now)
            except ValueError as exc:
                raise CommandError(
                    f"--now is not an ISO-8601 date-time: {now}"
                ) from exc
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=UTC)
        else:
            moment = timezone.now()
        alerts = review_sweep(now=moment)
        for alert in alerts:
            self.stdout.write(f"Sent {alert.describe()}")
        self.stdout.write(
            f"{len(alerts)} review alert(s) sent as of {moment.isoformat()}."
        )
