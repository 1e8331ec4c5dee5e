"""Train the triage model now and print its held-out metrics."""

from django.core.management.base import BaseCommand

from incidents.models import TriageModel
from incidents.triage_model import MIN_TRAINING_SAMPLES, triage_model_train


def _percent(value) -> str:
    return "n/a" if value is None else f"{value:.1%}"


class Command(BaseCommand):
    help = (
        "Train the triage model on resolved incidents with a confirmed type and "
        "severity, store a new version and print model vs baseline metrics."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Train even if no labelled incident changed since the latest version.",
        )

    def handle(self, *args, force=False, **options):
        model = triage_model_train(force=force)
        if model is None:
            latest = TriageModel.objects.without_pipeline().first()
            if latest is not None and not force:
                self.stdout.write(
                    f"Nothing new since triage model v{latest.version}; "
                    "use --force to retrain."
                )
            else:
                self.stdout.write(
                    "Not enough labelled incidents to train a triage model "
                    f"(needs {MIN_TRAINING_SAMPLES} resolved incidents with a "
                    "confirmed type and severity, at least two types)."
                )
            return
        metrics = model.metrics
        lines = [
            f"Triage model v{model.version} trained in "
            f"{model.training_seconds:.1f} s on {model.sample_count} incidents "
            f"({model.train_count} train / {model.test_count} held out).",
            f"  type:     model {_percent(model.type_accuracy)}, keywords "
            f"{_percent(model.baseline_type_accuracy)}, macro-F1 "
            f"{_percent(metrics['type']['macro_f1'])} vs "
            f"{_percent(metrics['type']['baseline_macro_f1'])}, as served "
            f"{_percent(metrics['type'].get('served_accuracy'))}"
            f" -> {'used' if model.type_usable else 'not used'}",
        ]
        severity = metrics.get("severity")
        if severity:
            lines.append(
                f"  severity: model+floors {_percent(model.severity_accuracy)} "
                f"(model alone {_percent(severity['accuracy_without_floors'])}), "
                f"rules {_percent(model.baseline_severity_accuracy)}, as served "
                f"{_percent(severity.get('served_accuracy'))}"
                f" -> {'used' if model.severity_usable else 'not used'}"
            )
        else:
            lines.append("  severity: a single level in the data; rules used")
        if metrics.get("types_left_out"):
            lines.append(
                "  left out (too few examples): "
                + ", ".join(f"{k} ({v})" for k, v in metrics["types_left_out"].items())
            )
        self.stdout.write("\n".join(lines))
