from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = (
        "Load the demo: severity framework, taxonomy, playbooks, notification lists, "
        "demo users and historical incidents. Idempotent: a second run changes nothing."
    )

    def handle(self, *args, **options):
        # Each app seeds its own data through ``AppConfig.seed_demo(stdout)``, in
        # INSTALLED_APPS order, so the project never imports upward.
        with transaction.atomic():
            for config in apps.get_app_configs():
                seed = getattr(config, "seed_demo", None)
                if callable(seed):
                    seed(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data is in place."))
