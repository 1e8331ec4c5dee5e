from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def seed_demo(self, *, stdout) -> None:
        from incidents.seed import seed_demo

        seed_demo(stdout=stdout)
