"""The demo seed on a database where people already work: it creates its own
demo, and changes none of their rows (users, incidents, the draft review of a
resolved incident, follow-ups, lists, channels, an edited severity level, an
open batch review), even where they share the demo's names."""

from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from incidentops import groups
from incidentops.models import SeedMark, User
from incidentops.seed import seeded
from incidents import services as incident_services
from incidents.models import (
    Incident,
    IncidentReferenceCounter,
    Service,
    SeverityLevel,
)
from notifications.models import Channel, StakeholderList, StakeholderMember
from reviews import services as review_services
from reviews.models import BatchReview, Review
from tests.factories import UserFactory, role, severity

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def every_row() -> dict[tuple[str, object], dict]:
    """Every column of every row of every table (many-to-many links are rows of
    their own tables), by model and primary key.

    Left out: the seed's own marks, and the yearly reference counters, a
    sequence every declaration advances (the demo's incidents take the next
    numbers, as any new incident does)."""
    rows = {}
    for model in apps.get_models(include_auto_created=True):
        if model in (SeedMark, IncidentReferenceCounter):
            continue
        names = [field.attname for field in model._meta.concrete_fields]
        for values in model._default_manager.values(*names):
            rows[(model._meta.label, values[model._meta.pk.attname])] = values
    return rows


def rows_naming(user, *, made_after: dict) -> list[str]:
    """Rows made since the snapshot ``made_after`` that point at ``user``
    (their own history rows aside)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.label.startswith("incidentops.Historical"):
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is User:
                for pk in model._default_manager.filter(
                    **{field.attname: user.pk}
                ).values_list("pk", flat=True):
                    if (model._meta.label, pk) not in made_after:
                        found.append(f"{model._meta.label} #{pk} {field.name}")
    return found


def resolve(incident, *, actor, code, at):
    incident_services.incident_assign_role(
        incident=incident, actor=actor, role=role("commander"), user=actor, now=at
    )
    incident_services.incident_confirm_severity(
        incident=incident, actor=actor, severity=severity(code), reason="impact", now=at
    )
    for status in ("investigating", "mitigated", "resolved"):
        incident_services.incident_transition(
            incident=incident, actor=actor, status=status, now=at
        )


def changed_rows(before: dict, after: dict) -> list[str]:
    return sorted(
        f"{label} #{pk}"
        for (label, pk), values in before.items()
        if after.get((label, pk)) != values
    )


def peoples_work(*, manager, reviewer, now) -> Review:
    """What people do: a resolved SEV-1 with a blank draft review and a
    follow-up, a SEV-3 resolved this week (in the open batch), an open incident.
    Returns the SEV-1's review."""
    sev1 = incident_services.incident_declare(
        actor=manager, title="Checkout down for every customer", now=now
    )
    resolve(sev1, actor=manager, code="SEV-1", at=now)
    review = Review.objects.get(incident=sev1)
    assert review.status == Review.Status.DRAFT and not review.whys.exists()
    review_services.follow_up_add(
        review=review, actor=manager, title="Add a checkout canary", owner=reviewer
    )
    sev3 = incident_services.incident_declare(
        actor=manager, title="Nightly report late", now=now
    )
    resolve(sev3, actor=manager, code="SEV-3", at=now)
    assert BatchReview.objects.filter(status=BatchReview.Status.OPEN).exists()
    incident_services.incident_declare(actor=manager, title="Printer on fire")
    return review


def test_seeding_changes_no_row_that_people_made(db):
    # given people's own accounts, incidents, review, follow-up, a list, a
    # channel and a service of the demo's names, a severity level whose
    # criteria they cleared
    now = timezone.now()
    nadia = UserFactory(
        username="nadia", groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS]
    )
    theo = UserFactory(username="theo", groups=[groups.REVIEWERS])
    theirs = peoples_work(manager=nadia, reviewer=theo, now=now - timedelta(days=3))
    triage = StakeholderList.objects.create(
        slug="triage", name="Our triage rota", notify_on_declare=False
    )
    StakeholderMember.objects.create(stakeholder_list=triage, email="rota@ours.test")
    Channel.objects.create(name="E-mail", kind=Channel.Kind.EMAIL, is_enabled=False)
    # as the catalog's data migration leaves a tag of theirs
    Service.objects.create(slug="checkout-api", name="checkout-api")
    SeverityLevel.objects.filter(code="SEV-4").update(description="", notified="")
    before = every_row()

    # when the demo is loaded, then people work as the demo's Mia and Rob ...
    call_command("seed_demo", stdout=StringIO())
    assert seeded(Incident).count() > 300
    mia, rob = seeded(User).get(username="mia"), seeded(User).get(username="rob")
    hers = peoples_work(manager=mia, reviewer=rob, now=timezone.now())
    middle = every_row()
    # ... and the next two starts seed again
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    # then every row that was there is still there, unchanged
    after = every_row()
    assert changed_rows(before, after) == []
    assert changed_rows(middle, after) == []
    for review in (theirs, hers):
        now_review = Review.objects.get(pk=review.pk)
        assert now_review.status == Review.Status.DRAFT
        assert now_review.summary == review.summary
        assert not now_review.whys.exists() and now_review.follow_ups.count() == 1


def test_an_account_the_seed_did_not_create_is_not_adopted(db):
    # given a person whose username is a demo name
    mia = UserFactory(
        username="mia", groups=[groups.INCIDENT_MANAGERS, groups.RESPONDERS]
    )
    peoples_work(manager=mia, reviewer=mia, now=timezone.now() - timedelta(days=3))
    before = every_row()

    # when
    out = StringIO()
    call_command("seed_demo", stdout=out)

    # then no demo incident is declared in her name (the history waits for
    # demo accounts the seed can use), and nothing the seed made names her: no
    # team, escalation step, contact method or assignment
    assert "Demo users missing" in out.getvalue()
    assert rows_naming(mia, made_after=before) == []
    assert not seeded(Incident).exists()
    assert Incident.objects.count() == 3
    assert not seeded(User).filter(username="mia").exists()
