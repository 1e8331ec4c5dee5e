"""Writes to accounts: the one path that changes who a user is."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

from incidentops.exceptions import DomainError
from incidentops.models import User
from incidentops.signals import user_becoming_non_human

UPDATABLE_FIELDS = (
    "is_service_account",
    "is_active",
    "email",
    "first_name",
    "last_name",
)


@transaction.atomic
def user_update(
    *, user: User, actor, groups: list[Group] | None = None, **fields: Any
) -> User:
    """Change a user's account kind, activity, e-mail or names, and add groups.

    Changes: the given fields on ``user`` (history records ``actor``); adds
    ``groups``. A change that makes a human non-human (a service account, or
    inactive) is first offered to ``user_becoming_non_human`` receivers.
    Sends: ``user_becoming_non_human`` for such a change.
    Raises: ``DomainError`` for any other field, or from a receiver (e.g. the
    user commands an open incident); nothing is saved then.
    """
    for name in fields:
        if name not in UPDATABLE_FIELDS:
            raise DomainError(f"{name} cannot be changed here.", field=name)
    changes = {
        name: value for name, value in fields.items() if getattr(user, name) != value
    }
    was_human = user.pk is not None and User.objects.get(pk=user.pk).is_human
    for name, value in changes.items():
        setattr(user, name, value)
    if was_human and not user.is_human:
        user_becoming_non_human.send(
            sender=User, user=user, actor=actor, changes=changes
        )
    user._history_user = actor
    user.save()
    if groups:
        user.groups.add(*groups)
    return user
