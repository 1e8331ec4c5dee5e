"""factory_boy factories, deterministic (sequences, no random values at import)."""

from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from incidentops.models import User
from incidents.models import (
    COMMANDER,
    ActionItem,
    Incident,
    IncidentFamily,
    IncidentReferenceCounter,
    IncidentType,
    Integration,
    Playbook,
    PlaybookStep,
    Role,
    RoleAssignment,
    Service,
    SeverityLevel,
    Team,
    TeamMembership,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"First{n}")
    last_name = "Tester"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("pass-word-123")
    is_service_account = False

    class Params:
        service_account = factory.Trait(is_service_account=True)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(
                *(Group.objects.get_or_create(name=name)[0] for name in extracted)
            )


# --- incidents ---------------------------------------------------------------

# The integrations' test secret; factories store only its hash, like the service.
INTEGRATION_SECRET = "test-integration-secret"


def severity(code: str) -> SeverityLevel:
    """A level of the framework the data migration created."""
    return SeverityLevel.objects.get(code=code)


def role(slug: str) -> Role:
    """A built-in role (commander, communications, scribe, operations)."""
    return Role.objects.get(slug=slug)


class IncidentFamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentFamily
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"family-{n}")
    name = factory.Sequence(lambda n: f"Family {n}")


class IncidentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentType
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    family = factory.SubFactory(IncidentFamilyFactory)
    slug = factory.Sequence(lambda n: f"type-{n}")
    name = factory.Sequence(lambda n: f"Type {n}")
    keywords = ""
    restricted_by_default = False

    class Params:
        restricted = factory.Trait(restricted_by_default=True)
        gdpr = factory.Trait(
            notification_deadline_hours=72,
            notification_authority="Data-protection authority",
        )

    @factory.post_generation
    def restricted_groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.restricted_groups.add(
                *(Group.objects.get_or_create(name=name)[0] for name in extracted)
            )


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"role-{n}")
    name = factory.Sequence(lambda n: f"Role {n}")

    class Params:
        human = factory.Trait(human_only=True)


class PlaybookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Playbook
        skip_postgeneration_save = True

    incident_type = factory.SubFactory(IncidentTypeFactory)
    severity = None
    name = factory.Sequence(lambda n: f"Playbook {n}")
    guidance = "Stabilise first, then find the cause."

    @factory.post_generation
    def required_roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.required_roles.add(*extracted)


class PlaybookStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaybookStep

    playbook = factory.SubFactory(PlaybookFactory)
    order = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Step {n}")
    due_offset = timedelta(minutes=30)


class IntegrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Integration

    name = factory.Sequence(lambda n: f"integration-{n}")
    kind = Integration.Kind.GENERIC
    service_account = factory.SubFactory(UserFactory, service_account=True)
    secret_hash = Integration.hash_secret(INTEGRATION_SECRET)

    class Params:
        alertmanager = factory.Trait(
            kind=Integration.Kind.ALERTMANAGER,
            severity_label_map={"critical": "SEV-1", "warning": "SEV-3"},
        )


class IncidentFactory(factory.django.DjangoModelFactory):
    """A bare incident row, for tests of readers (lists, API output). Tests of
    behaviour should declare through ``incidents.services`` instead."""

    class Meta:
        model = Incident

    reference = factory.LazyFunction(
        lambda: IncidentReferenceCounter.next_reference(timezone.now().year)
    )
    title = factory.Sequence(lambda n: f"Incident {n}")
    description = "Something is wrong."
    reporter = factory.SubFactory(UserFactory)
    status = Incident.Status.TRIAGE

    class Params:
        secret = factory.Trait(restricted=True)
        confirmed = factory.Trait(
            severity=factory.LazyFunction(lambda: severity("SEV-2")),
            severity_confirmed_at=factory.LazyFunction(timezone.now),
        )
        resolved = factory.Trait(
            status=Incident.Status.RESOLVED,
            severity=factory.LazyFunction(lambda: severity("SEV-2")),
            resolved_at=factory.LazyFunction(timezone.now),
            resolution_summary="Rolled back the release.",
        )


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    incident = factory.SubFactory(IncidentFactory)
    role = factory.LazyFunction(lambda: role(COMMANDER))
    user = factory.SubFactory(UserFactory)


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionItem

    incident = factory.SubFactory(IncidentFactory)
    title = factory.Sequence(lambda n: f"Action {n}")
    status = ActionItem.Status.OPEN


# --- teams and services ------------------------------------------------------


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        for user in extracted or ():
            TeamMembership.objects.get_or_create(team=self, user=user)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("slug",)

    name = factory.LazyAttribute(lambda s: s.slug)
    slug = factory.Sequence(lambda n: f"service-{n}")
    tier = 2
    alert_labels = factory.LazyAttribute(lambda s: {"service": s.slug})
