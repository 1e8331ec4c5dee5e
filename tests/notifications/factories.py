"""Factories for channels and stakeholder lists (deterministic)."""

import factory
from django.contrib.auth.models import Group

from incidents.models import SeverityLevel
from notifications.models import Channel, StakeholderList, StakeholderMember


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"channel-{n}")
    kind = Channel.Kind.EMAIL

    class Params:
        webhook = factory.Trait(kind=Channel.Kind.WEBHOOK, secret="test-signing-secret")
        apprise = factory.Trait(kind=Channel.Kind.APPRISE)


class StakeholderListFactory(factory.django.DjangoModelFactory):
    """``severities`` (codes), ``incident_types``, ``channels``, ``users``,
    ``groups`` (names) and ``emails`` are taken as lists."""

    class Meta:
        model = StakeholderList
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"list-{n}")
    name = factory.Sequence(lambda n: f"List {n}")

    class Params:
        triage = factory.Trait(notify_on_declare=True)

    @factory.post_generation
    def severities(self, create, extracted, **kwargs):
        if create and extracted:
            self.severities.set(SeverityLevel.objects.filter(code__in=extracted))

    @factory.post_generation
    def incident_types(self, create, extracted, **kwargs):
        if create and extracted:
            self.incident_types.set(extracted)

    @factory.post_generation
    def channels(self, create, extracted, **kwargs):
        if create and extracted:
            self.channels.set(extracted)

    @factory.post_generation
    def users(self, create, extracted, **kwargs):
        for user in extracted or ():
            StakeholderMember.objects.create(stakeholder_list=self, user=user)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        for name in extracted or ():
            group, _ = Group.objects.get_or_create(name=name)
            StakeholderMember.objects.create(stakeholder_list=self, group=group)

    @factory.post_generation
    def emails(self, create, extracted, **kwargs):
        for address in extracted or ():
            StakeholderMember.objects.create(stakeholder_list=self, email=address)
