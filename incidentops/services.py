"""Writes to accounts: the one path that creates a user, changes who a user is,
or issues an API token. The management commands and the admin call these."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from incidentops.exceptions import DomainError
from incidentops.models import User
from incidentops.signals import user_becoming_non_human

SYSTEM_LABEL = "IncidentOps"  # who acted when no person did (a sweep, a task)


def save_as(instance, actor, **kwargs) -> None:
    """Save ``instance`` (``kwargs`` go to ``save()``) with ``actor`` as the
    person django-simple-history records: outside a request (tasks, commands,
    one service called from another) it reads the actor from here."""
    instance._history_user = actor
    instance.save(**kwargs)


def actor_label(user) -> str:
    """How an actor is named on timelines and in messages: their display name,
    or "IncidentOps" for None (the system)."""
    return SYSTEM_LABEL if user is None else user.display_name


def model_update(instance, fields: dict, *, shown=None) -> dict[str, dict]:
    """Diff, set, record: set each of ``fields`` whose value differs on
    ``instance`` (unsaved; the caller saves it with ``save_as``) and return what
    changed as ``{name: {"from": old, "to": new}}``, the shape timeline entries
    record, each value passed through ``shown`` when given (for JSON)."""
    shown = shown or (lambda value: value)
    changes = {}
    for name, value in fields.items():
        current = getattr(instance, name)
        if current != value:
            changes[name] = {"from": shown(current), "to": shown(value)}
            setattr(instance, name, value)
    return changes


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


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    is_service_account: bool = False,
    is_staff: bool = False,
    is_superuser: bool = False,
    password: str | None = None,
    groups: list[Group] | None = None,
) -> User:
    """Create an account: a person, or a service account for an integration or
    automation.

    Changes: a new ``User`` (history records ``actor``) with ``password``, or an
    unusable one when None (it then signs in only with a token); ``groups``
    added. ``is_staff`` opens the admin, ``is_superuser`` gives every right.
    Sends nothing.
    Raises: ``DomainError`` for a blank username or one already taken; nothing
    is saved then.
    """
    username = (username or "").strip()
    if not username:
        raise DomainError("A user needs a username.", field="username")
    if User.objects.filter(username=username).exists():
        raise DomainError(f"The username {username!r} is taken.", field="username")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        is_service_account=is_service_account,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user._history_user = actor
    user.save()
    if groups:
        user.groups.add(*groups)
    return user


@transaction.atomic
def token_issue(*, user: User, actor, keep_existing: bool = False) -> Token:
    """The API token of ``user`` (DRF's ``Authorization: Token <key>``).

    ``keep_existing``: return the user's token if there is one. Otherwise a
    fresh token replaces it, and the previous one stops working at once.
    Changes: the user's ``Token`` row (replaced, or created when missing).
    Sends nothing. ``actor`` is who asked (None: the command line).
    Raises: ``DomainError`` if a fresh token is asked for a deactivated user.
    """
    if keep_existing:
        token, _created = Token.objects.get_or_create(user=user)
        return token
    if not user.is_active:
        raise DomainError(f"User {user.username!r} is deactivated.", field="user")
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
