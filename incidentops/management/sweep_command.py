"""The base of the commands that run a periodic sweep as of a moment
(``check_overdue_reviews``, ``escalate``): ``--now`` parsing in one place."""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class SweepCommand(BaseCommand):
    """A sweep command: ``--now ISO-8601`` (default: the real time; a time
    without offset is read in UTC), then ``sweep(moment)``. Subclasses set
    ``help`` and ``now_example`` and implement ``sweep``."""

    now_example = "2026-03-02T09:30:00+00:00"

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help=f"ISO-8601 date-time to run as of, e.g. {self.now_example} "
            "(a time without offset is read in UTC).",
        )

    def handle(self, *args, now=None, **options):
        self.sweep(self.moment(now))

    @staticmethod
    def moment(now: str | None) -> datetime:
        """``--now`` as an aware datetime; ``CommandError`` if it is not ISO-8601."""
        if not now:
            return timezone.now()
        try:
            moment = datetime.fromisoformat(now)
        except ValueError as exc:
            raise CommandError(f"--now is not an ISO-8601 date-time: {now}") from exc
        return moment.replace(tzinfo=UTC) if timezone.is_naive(moment) else moment

    def sweep(self, moment: datetime) -> None:  # pragma: no cover - abstract
        raise NotImplementedError
