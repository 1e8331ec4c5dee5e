import json

from django.core.management.base import BaseCommand, CommandError

from incidents.models import Incident
from incidents.timeline import export_timeline, verify_timeline


class Command(BaseCommand):
    help = (
        "Verify the hash chain of incident timelines (tamper evidence). Exits 1 "
        "when a chain is broken, naming its first broken entry."
    )

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="*", help="e.g. INC-2026-0042")
        parser.add_argument(
            "--all", action="store_true", help="Verify every incident's timeline."
        )
        parser.add_argument(
            "--export",
            metavar="FILE",
            help="Also write the evidence document (JSON) of the one incident named.",
        )

    def handle(self, *args, references, all, export, **options):
        if all == bool(references):
            raise CommandError("Name incident references, or pass --all.")
        incidents = Incident.objects.order_by("pk")
        if references:
            incidents = incidents.filter(reference__in=references)
            missing = set(references) - set(
                incidents.values_list("reference", flat=True)
            )
            if missing:
                raise CommandError(f"No incident {', '.join(sorted(missing))}.")
        if export and len(references) != 1:
            raise CommandError("--export takes exactly one incident reference.")
        broken = 0
        for incident in incidents.iterator():
            result = verify_timeline(incident)
            if result.ok:
                self.stdout.write(
                    f"{incident.reference}: ok ({result.entries} entries)"
                )
            else:
                broken += 1
                self.stdout.write(f"{incident.reference}: BROKEN — {result.reason}")
        if export:
            with open(export, "w", encoding="utf-8") as out:
                json.dump(export_timeline(incidents.get()), out, indent=2)
            self.stdout.write(f"Evidence written to {export}.")
        if broken:
            raise CommandError(f"{broken} timeline(s) broken.", returncode=1)
