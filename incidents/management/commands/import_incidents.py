"""``python manage.py import_incidents FILE [--format native|pagerduty|oncall]
[--dry-run]``: import past incidents keeping their original times.

Prints ``imported N, updated N, unchanged N, refused N`` and one line per refused
row (``line N: reason``); exits 1 when a row was refused or the file could not be
read. Sends nothing, applies no playbook, opens no review. See docs/importing.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.importing import FORMATS, FileError, import_incidents
from incidents.models import IncidentType


class Command(BaseCommand):
    help = "Import past incidents from a file, keeping their original times."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the file to import ('-' for stdin)")
        parser.add_argument("--format", choices=FORMATS, default="native")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and report, store nothing",
        )
        parser.add_argument(
            "--as",
            dest="username",
            help="the person recorded as importing (history, severity "
            "confirmation when no commander is named)",
        )
        parser.add_argument(
            "--default-type",
            help="incident type slug for rows that name none (PagerDuty and "
            "OnCall name none)",
        )
        parser.add_argument(
            "--severity-map",
            help="JSON file mapping PagerDuty priorities and urgencies to "
            'severity codes, e.g. {"P1": "SEV-1", "urgency:high": "SEV-2"}',
        )
        parser.add_argument(
            "--time-zone",
            help="zone for times written without one (default: "
            f"{settings.INCIDENTOPS_TIME_ZONE})",
        )

    def handle(self, *args, **options):
        path = options["file"]
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
        actor = None
        if options["username"]:
            actor = (
                get_user_model().objects.filter(username=options["username"]).first()
            )
            if actor is None:
                raise CommandError(f"no user {options['username']!r}")
        default_type = None
        if options["default_type"]:
            default_type = IncidentType.objects.filter(
                slug=options["default_type"]
            ).first()
            if default_type is None:
                raise CommandError(f"no incident type {options['default_type']!r}")
        severity_map = None
        if options["severity_map"]:
            try:
                severity_map = json.loads(Path(options["severity_map"]).read_text())
            except (OSError, ValueError) as exc:
                raise CommandError(f"--severity-map: {exc}") from None
        try:
            report = import_incidents(
                data,
                format=options["format"],
                actor=actor,
                dry_run=options["dry_run"],
                default_type=default_type,
                severity_map=severity_map,
                time_zone=options["time_zone"],
            )
        except FileError as exc:
            raise CommandError(f"{path}: {exc}; nothing imported") from None
        prefix = "dry run: " if options["dry_run"] else ""
        self.stdout.write(prefix + report.summary())
        for row in report.refused:
            self.stdout.write(f"line {row.line}: {row.reason}")
        if report.refused:
            raise SystemExit(1)
