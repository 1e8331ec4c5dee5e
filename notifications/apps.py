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
        from notifications.oncall.schedule_views import my_shifts_context

        providers.register_panel(
            providers.Slot.MY_WORK,
            providers.Panel(
                key="my-shifts",
                title="My next shifts",
                template="notifications/oncall/_my_shifts.html",
                context=my_shifts_context,
                order=50,
            ),
        )

    def seed_demo(self, *, stdout) -> None:
        """Demo channels and stakeholder lists per severity, on-call schedules
        and escalation policies (idempotent)."""
        from notifications.seed import seed_notifications

        seed_notifications(stdout=stdout)
        from notifications.oncall.schedule_seed import seed_schedules

        seed_schedules(stdout=stdout)
        from notifications.oncall.seed import seed_escalation

        seed_escalation(stdout=stdout)
