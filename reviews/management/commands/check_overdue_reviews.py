"""``check_overdue_reviews [--now ISO-8601]``: the review sweep Celery beat runs."""

from incidentops.management.sweep_command import SweepCommand
from reviews.services import review_sweep


class Command(SweepCommand):
    help = (
        "Send the post-incident review reminders, overdue alerts and escalations "
        "due as of --now (default: the real time) and print what was sent. "
        "Running it twice sends nothing new."
    )

    def sweep(self, moment):
        alerts = review_sweep(now=moment)
        for alert in alerts:
            self.stdout.write(f"Sent {alert.describe()}")
        self.stdout.write(
            f"{len(alerts)} review alert(s) sent as of {moment.isoformat()}."
        )
