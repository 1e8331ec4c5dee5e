"""factory_boy factories, deterministic (sequences, no random values at import)."""

import factory
from django.contrib.auth.models import Group

from incidentops.models import User


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
