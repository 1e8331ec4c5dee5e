from pathlib import Path

from django.apps import AppConfig


class IncidentOpsConfig(AppConfig):
    name = "incidentops"
    verbose_name = "Accounts and system"

    def ready(self) -> None:
        from django.conf import settings

        # The embedded broker is a pair of folders; make them at start-up (not at
        # import) so the web server, the worker and beat can all use it at once.
        if settings.CELERY_BROKER_URL == "filesystem://":
            options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
            for key in (
                "data_folder_in",
                "data_folder_out",
                "processed_folder",
                "control_folder",
            ):
                if options.get(key):
                    Path(options[key]).mkdir(parents=True, exist_ok=True)

    def seed_demo(self, *, stdout) -> None:
        from incidentops.seed import seed_accounts

        seed_accounts(stdout=stdout)
