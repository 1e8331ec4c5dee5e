"""``escalate [--now ISO-8601]``: the escalation sweep Celery beat runs."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from notifications.oncall.escalation import escalate_sweep


class Command(BaseCommand):
    help = (
        "Page the escalation steps and notification rules due as of --now "
        "(default: the real time) and print the pages sent. Running it twice "
        "pages nobody twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="ISO-8601 date-time to run as of, e.g. 2026-03-02T03:10:00+00:00 "
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
        result = escalate_sweep(now=moment)
        for page in result.pages:
            how = page.contact_method.name if page.contact_method else "account e-mail"
            outcome = "queued" if page.notification_id else "nobody to tell"
            self.stdout.write(
                f"Paged {page.user.username} for {page.incident.reference} via "
                f"{how} (step {page.step_index + 1}, round {page.round + 1}): "
                f"{outcome}"
            )
        self.stdout.write(
            f"{len(result.pages)} page(s), {result.steps} step(s) escalated, "
            f"{result.stopped} stopped, {result.exhausted} exhausted as of "
            f"{moment.isoformat()}."
        )
