from django.apps import AppConfig


class IncidentOpsConfig(AppConfig):
    name = "incidentops"
    verbose_name = "Accounts and system"

    def seed_demo(self, *, stdout) -> None:
        from incidentops.seed import seed_accounts

        seed_accounts(stdout=stdout)
