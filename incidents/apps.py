from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents"

    def ready(self) -> None:
        from incidentops.signals import user_becoming_non_human
        from incidents.receivers import refuse_non_human_role_holder

        user_becoming_non_human.connect(
            refuse_non_human_role_holder,
            dispatch_uid="incidents.refuse_non_human_role_holder",
        )
        from incidents.ingestion import configcache

        configcache.connect()
        from incidentops import metrics
        from incidents.metrics import collect, triage_seconds

        metrics.register("incidents", collect)
        metrics.register_process_metric("triage_seconds", triage_seconds)
        from django.conf import settings

        if getattr(settings, "TRIAGE_WARM_UP", True):
            # Train the triage prior in the background now, so the first
            # reporter of this process does not wait for it (about a second).
            from incidents.triage_prior import warm_up

            warm_up()

    def seed_demo(self, *, stdout) -> None:
        from incidents.seed import seed_demo

        seed_demo(stdout=stdout)
