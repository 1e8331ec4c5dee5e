import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils.text import slugify

from incidentops.exceptions import DomainError
from incidentops.services import user_create
from incidents import services
from incidents.ingestion.severity import default_label_map
from incidents.models import IncidentType, Integration


def _label_map(raw: str) -> dict[str, str]:
    mapping = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        label, sep, code = pair.partition("=")
        if not sep or not label.strip() or not code.strip():
            raise CommandError(f"Expected label=SEV-n, got {pair!r}.")
        mapping[label.strip().lower()] = code.strip()
    return mapping


class Command(BaseCommand):
    help = (
        "Create an alert integration with its own service account and print one "
        'line of JSON: {"url": <ingest URL>, "secret": <bearer secret>}. The '
        "secret is stored hashed and shown only now."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--kind", required=True, choices=Integration.Kind.values)
        parser.add_argument(
            "--type", dest="type_slug", help="Default incident type (slug)."
        )
        parser.add_argument(
            "--severity-map",
            help="Alert severity words to SUGGESTED severities, e.g. "
            '"critical=SEV-1,warning=SEV-3" (case does not matter). Default: the '
            "common words (critical/page/emergency/p1 SEV-1, error/high/major/p2 "
            "SEV-2, warning/medium/p3 SEV-3, info/low/p4/p5 SEV-4); pass an empty "
            "string for none.",
        )
        parser.add_argument(
            "--resolve-moves-to-mitigated",
            action="store_true",
            help="A resolved alert moves an investigating incident to mitigated.",
        )
        parser.add_argument(
            "--rate-limit",
            type=int,
            default=1200,
            help="Deliveries accepted per minute (default 1200).",
        )

    @transaction.atomic
    def handle(self, *args, name, kind, type_slug, severity_map, **options):
        incident_type = None
        if type_slug:
            incident_type = IncidentType.objects.filter(slug=type_slug).first()
            if incident_type is None:
                raise CommandError(f"Unknown incident type {type_slug!r}.")
        if severity_map is None:
            label_map = default_label_map()
        else:
            label_map = _label_map(severity_map)
        if options["rate_limit"] < 1:
            raise CommandError("--rate-limit must be at least 1.")

        username = f"integration-{slugify(name)}"[:150]
        account = get_user_model().objects.filter(username=username).first()
        if account is None:
            account = user_create(
                actor=None, username=username, is_service_account=True
            )
        elif not account.is_service_account:
            raise CommandError(f"{username} exists and is not a service account.")
        try:
            integration, secret = services.integration_create(
                actor=None,
                name=name,
                kind=kind,
                service_account=account,
                default_incident_type=incident_type,
                severity_label_map=label_map,
                resolve_moves_to_mitigated=options["resolve_moves_to_mitigated"],
                rate_limit_per_minute=options["rate_limit"],
            )
        except DomainError as error:
            raise CommandError(error.message) from None
        path = reverse("alert-ingest", kwargs={"pk": integration.pk})
        self.stdout.write(
            json.dumps({"url": settings.SITE_URL + path, "secret": secret})
        )
