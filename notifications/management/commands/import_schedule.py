"""``python manage.py import_schedule --format ical|pagerduty FILE``.

Creates or updates one on-call schedule from a PagerDuty REST API v2 schedule
(JSON) or an iCalendar file (Grafana OnCall's export, or any calendar), matching
people by e-mail (iCal also by username). Prints what it did; on people it
cannot match it prints each of them, stores nothing and exits 1.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from incidentops.exceptions import DomainError
from notifications.oncall import schedule_import


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not an ISO 8601 time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Import an on-call schedule from PagerDuty (REST API v2 schedule JSON) or "
        "iCal (Grafana OnCall export), matching people by e-mail."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=["ical", "pagerduty"], required=True)
        parser.add_argument("--name", default="", help="iCal: the schedule's name")
        parser.add_argument(
            "--time-zone", default="", help="iCal: the schedule's zone (IANA)"
        )
        parser.add_argument(
            "--from", dest="start", default="", help="iCal: first instant (ISO; now)"
        )
        parser.add_argument(
            "--days", type=int, default=90, help="iCal: days of events to import"
        )
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        try:
            if options["format"] == "pagerduty":
                try:
                    document = json.loads(raw)
                except ValueError as error:
                    raise CommandError(f"{path} is not JSON: {error}") from None
                report = schedule_import.import_pagerduty(
                    document, dry_run=options["dry_run"]
                )
            else:
                start = (
                    _moment(options["start"]) if options["start"] else timezone.now()
                )
                if options["days"] < 1:
                    raise CommandError("--days must be at least 1.")
                report = schedule_import.import_ical(
                    raw,
                    start=start,
                    end=start + timedelta(days=options["days"]),
                    name=options["name"],
                    time_zone=options["time_zone"],
                    dry_run=options["dry_run"],
                )
        except schedule_import.UnmatchedPeople as error:
            self.stderr.write("Nothing imported. No user matches:")
            for person in error.unmatched:
                self.stderr.write(f"  unmatched: {person}")
            raise CommandError(
                f"{len(error.unmatched)} unmatched; create those users (same "
                "e-mail) or correct the file."
            ) from None
        except DomainError as error:
            raise CommandError(f"Nothing imported: {error.message}") from None
        prefix = "(dry run) " if options["dry_run"] else ""
        for line in report.lines():
            self.stdout.write(prefix + line)
