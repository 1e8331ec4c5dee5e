"""Measure the triage suggestion on a labelled JSON-lines file."""

import json

from django.core.management.base import BaseCommand, CommandError

from incidents.triage_eval import (
    SUGGESTERS,
    LabelledFileError,
    evaluate,
    load_labelled,
    suggester_named,
)


class Command(BaseCommand):
    help = (
        "Suggest a type and severity for every report of a labelled JSON-lines "
        "file and print the accuracy (severity top-1 and within one level, "
        "family, type), the calibration (expected calibration error) and the "
        "latency. Stores nothing. See incidents/triage_eval.py for the format."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file",
            help="JSON lines with title, description, flags "
            "and the expected severity, family and/or incident_type",
        )
        parser.add_argument(
            "--suggester",
            choices=SUGGESTERS,
            default="current",
            help="current: the one in use (default); rules: as with no trained "
            "model; demo-model: a model trained in memory on the demo history",
        )
        parser.add_argument(
            "--by-case",
            action="store_true",
            help="also print severity and type per hard-case kind",
        )
        parser.add_argument(
            "--misses",
            action="store_true",
            help="also print every report with a wrong label (JSON)",
        )

    def handle(
        self,
        *args,
        file,
        suggester="current",
        by_case=False,
        misses=False,
        **options,
    ):
        try:
            rows = load_labelled(file)
        except (OSError, LabelledFileError) as exc:
            raise CommandError(str(exc)) from exc
        if not rows:
            raise CommandError("no labelled reports in the file")
        try:
            chosen = suggester_named(suggester)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        result = evaluate(rows, suggester=chosen)
        for line in result.lines():
            self.stdout.write(line)
        if by_case:
            for kind, measures in sorted(result.by_case.items()):
                figures = ", ".join(
                    f"{name} {m.value:.2f}" for name, m in measures.items() if m.count
                )
                count = max(m.count for m in measures.values())
                self.stdout.write(f"  {kind} (n={count}): {figures}")
        if misses:
            for miss in result.misses:
                self.stdout.write(json.dumps(miss, ensure_ascii=False))
