"""A person's contact methods and notification rules: every write, one function
per verb. The profile page (``/profile/contact-methods/``) and the admin call
these; a person changes only their own (the admin changes anyone's)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from incidentops.exceptions import DomainError, NotPermitted
from notifications.oncall.escalation_models import ContactMethod, NotificationRule

MAX_DELAY_MINUTES = 24 * 60


def _own(method: ContactMethod, actor) -> None:
    if actor is None or method.user_id != actor.pk:
        raise NotPermitted("You can change only your own contact methods.")


def _validated(method: ContactMethod) -> None:
    try:
        method.full_clean(exclude=["user"])
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=field) from exc


@transaction.atomic
def contact_method_add(
    *, actor, kind: str, address: str, label: str = "", delay_minutes: int = 0
) -> ContactMethod:
    """Add a contact method for ``actor`` with one notification rule.

    Changes: a ``ContactMethod`` (``kind`` email, apprise or webhook; ``address``
    an e-mail address, an Apprise URL or an http(s) URL) and a
    ``NotificationRule`` using it ``delay_minutes`` (0..1440) after each page.
    Raises: ``DomainError`` naming the field when the address does not fit the
    kind or the delay is out of range; nothing is stored then.
    """
    _check_delay(delay_minutes)
    method = ContactMethod(user=actor, kind=kind, address=address, label=label)
    _validated(method)
    method.save()
    NotificationRule.objects.create(contact_method=method, delay_minutes=delay_minutes)
    return method


@transaction.atomic
def contact_method_remove(*, actor, method: ContactMethod) -> None:
    """Remove one of ``actor``'s contact methods and its rules (pages already
    written to it fail with "removed"). Raises ``NotPermitted`` for another
    person's."""
    _own(method, actor)
    method.delete()


@transaction.atomic
def notification_rule_add(
    *, actor, method: ContactMethod, delay_minutes: int
) -> NotificationRule:
    """Also use ``method`` ``delay_minutes`` (0..1440) after a page.
    Raises ``DomainError`` if it already has a rule at that delay or the delay is
    out of range; ``NotPermitted`` for another person's method."""
    _own(method, actor)
    _check_delay(delay_minutes)
    if method.rules.filter(delay_minutes=delay_minutes).exists():
        raise DomainError(
            f"{method.name} is already used {delay_minutes} min after a page.",
            field="delay_minutes",
        )
    return NotificationRule.objects.create(
        contact_method=method, delay_minutes=delay_minutes
    )


@transaction.atomic
def notification_rule_remove(*, actor, rule: NotificationRule) -> None:
    """Remove one rule of ``actor``'s. Raises ``NotPermitted`` for another
    person's."""
    _own(rule.contact_method, actor)
    rule.delete()


def _check_delay(delay_minutes: int) -> None:
    if not 0 <= delay_minutes <= MAX_DELAY_MINUTES:
        raise DomainError(
            f"The delay is 0 to {MAX_DELAY_MINUTES} minutes.", field="delay_minutes"
        )
