"""``escalate [--now ISO-8601]``: the escalation sweep Celery beat runs."""

from incidentops.management.sweep_command import SweepCommand
from notifications.oncall.escalation import escalate_sweep


class Command(SweepCommand):
    help = (
        "Page the escalation steps and notification rules due as of --now "
        "(default: the real time) and print the pages sent. Running it twice "
        "pages nobody twice."
    )

    now_example = "2026-03-02T03:10:00+00:00"

    def sweep(self, moment):
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
