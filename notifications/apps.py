from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from incidents import providers
        from notifications import receivers, services

        receivers.connect()
        from notifications.oncall import escalation

        escalation.connect()
        providers.register_update_audience(services.update_audience)
        from notifications.role_suggestions import OnCallRoleSuggestions

        providers.register_role_suggestion_provider("oncall", OnCallRoleSuggestions())
        from incidentops import metrics
        from notifications.metrics import collect

        metrics.register("notifications", collect)

    def seed_demo(self, *, stdout) -> None:
        """Demo channels and stakeholder lists per severity (idempotent)."""
        from notifications.seed import seed_notifications

        seed_notifications(stdout=stdout)
        from notifications.oncall.seed import seed_escalation

        seed_escalation(stdout=stdout)
