"""Factories for the reviews app's rows, deterministic (sequences only).

Reviews themselves are made by resolving incidents through the services (see
``conftest.resolve``); these make the parts a test adds on top.
"""

import factory

from reviews.models import ContributingFactorCategory, FiveWhy, FollowUp


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContributingFactorCategory
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class FiveWhyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FiveWhy

    order = factory.Sequence(lambda n: n + 1)
    why = factory.Sequence(lambda n: f"Why did step {n} happen?")
    because = factory.Sequence(lambda n: f"Because of cause {n}.")


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    title = factory.Sequence(lambda n: f"Follow-up {n}")
    status = FollowUp.Status.OPEN
