from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Post-incident reviews"

    def ready(self) -> None:
        from incidents import events
        from reviews import insights, panels, receivers

        events.incident_resolved.connect(
            receivers.on_incident_resolved, dispatch_uid="reviews.incident_resolved"
        )
        events.incident_severity_confirmed.connect(
            receivers.on_incident_severity_confirmed,
            dispatch_uid="reviews.incident_severity_confirmed",
        )
        events.incident_imported.connect(
            receivers.on_incident_imported, dispatch_uid="reviews.incident_imported"
        )
        events.incidents_imported.connect(
            receivers.on_incidents_imported, dispatch_uid="reviews.incidents_imported"
        )
        events.incident_updated.connect(
            receivers.on_incident_updated, dispatch_uid="reviews.incident_updated"
        )
        panels.register()
        insights.register()
        from incidentops import metrics
        from reviews.metrics import collect

        metrics.register("reviews", collect)

    def seed_demo(self, *, stdout) -> None:
        from reviews.seed import seed_reviews

        seed_reviews(stdout=stdout)
