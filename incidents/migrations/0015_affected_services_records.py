"""The affected-service tags become records, and the groups get their rights on
teams and services.

Every distinct tag in ``Incident.affected_services`` becomes a ``Service`` (its
slug from the tag; no team yet: configurators give it one), and every incident
is linked to the services its tags name (``IncidentService``, source
``migrated``, at the incident's creation time). The tags themselves stay, as the
slugs and names search and triage read. Configurators manage teams and services;
everyone else who works incidents may look at them. Idempotent: it only adds.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils.text import slugify

CATALOG = ("team", "teammembership", "service")
READERS = ("Responders", "Incident managers", "Reviewers", "Executives")


def _slug(tag: str) -> str:
    return (slugify(tag) or "service")[:100]


def tags_to_records(apps, schema_editor):
    Incident = apps.get_model("incidents", "Incident")
    Service = apps.get_model("incidents", "Service")
    IncidentService = apps.get_model("incidents", "IncidentService")
    by_slug = {service.slug: service for service in Service.objects.all()}
    rows = (
        Incident.objects.exclude(affected_services=[])
        .values_list("pk", "created_at", "affected_services")
        .iterator(chunk_size=2000)
    )
    links = []
    for pk, created_at, tags in rows:
        seen = set()
        for tag in tags or ():
            tag = str(tag).strip()
            if not tag:
                continue
            slug = _slug(tag)
            service = by_slug.get(slug)
            if service is None:
                name = tag[:120]
                if Service.objects.filter(name=name).exists():
                    name = f"{name[:110]} ({slug[:8]})"
                service = Service.objects.create(name=name, slug=slug)
                by_slug[slug] = service
            if service.pk in seen:
                continue
            seen.add(service.pk)
            links.append(
                IncidentService(
                    incident_id=pk,
                    service=service,
                    source="migrated",
                    linked_at=created_at,
                )
            )
        if len(links) >= 2000:
            IncidentService.objects.bulk_create(links, ignore_conflicts=True)
            links = []
    IncidentService.objects.bulk_create(links, ignore_conflicts=True)


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    create_permissions(global_apps.get_app_config("incidents"), apps=apps, verbosity=0)
    rights = {
        "Configurators": [
            f"{verb}_{model}"
            for model in CATALOG
            for verb in ("view", "add", "change", "delete")
        ],
        **{name: [f"view_{model}" for model in CATALOG] for name in READERS},
    }
    for group_name, codenames in rights.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="incidents", codename__in=codenames
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0014_teams_services"),
        ("incidentops", "0002_groups"),
    ]

    operations = [
        migrations.RunPython(tags_to_records, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
