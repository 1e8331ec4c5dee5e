"""Domain events: the one list of what ``incidents`` announces.

Plain Django signals, sent by ``incidents.services`` (never by model saves) with
``sender=Incident``. Other apps connect receivers in ``AppConfig.ready()``.
Receivers run inside the publishing service's transaction: they write rows and
register ``transaction.on_commit`` work, so an event and its consequences commit
or fail together. A receiver that raises aborts the service. ``incidents`` never
imports the apps that listen.

Arguments (besides ``sender``), all keyword:

``incident_declared``            incident, actor
``incident_changed``             incident, change, actor, data
    Generic, for outbound webhooks: sent after every other incident event, with
    ``change`` one of "declared", "updated", "severity_confirmed", "role_assigned",
    "status_changed", "acknowledged", "stakeholder_update", "action_changed",
    "playbook_applied", "services", "regulatory_notification" (``CHANGES``);
    ``data`` is a small JSON-able dict describing the change.
``incident_updated``             incident, changes ({field: {"from", "to"}}), actor
``incident_severity_confirmed``  incident, previous_severity (or None), actor
``incident_role_assigned``       assignment, previous_assignment (or None), actor
``incident_status_changed``      incident, previous_status, actor
``incident_acknowledged``        incident, actor
    A person acknowledged it (``incident_acknowledge``: a page's link, the
    portal's button or the API); ``incident.acknowledged_by`` is ``actor``.
    Escalations stop on it.
``incident_resolved``            incident, actor  (also after incident_status_changed)
``incident_marked_duplicate``    incident, primary, actor
    ``incident`` was closed as a duplicate of ``primary`` (before
    ``incident_status_changed``; never ``incident_resolved``). Its reporter and
    role holders are told.
``stakeholder_update_posted``    update, actor
``action_changed``               action, actor, created (bool)
``playbook_applied``             application, actions (list), actor
``severity_suggestion_raised``   incident, severity, previous (or None), reason,
                                 alert (dict: fingerprint, name, labels, or None),
                                 actor
    The *suggested* severity rose (a worse alert fired): a person should look and
    confirm; the confirmed severity is unchanged.
``role_requested``               request (``RoleRequest``), actor
    A person was asked to take a role ("Ask Sam to take command"); nothing is
    assigned until they accept.
``incident_imported``            incident, created (bool), review (dict or None),
                                 actor
    A past incident was imported or its record changed (``incident_import``).
    It is a record, not news: receivers send nothing and start nothing (no
    review is opened); ``review`` is the file's completed review, if any:
    ``{"summary", "root_cause", "lessons", "follow_ups": [{"title", "status",
    "owner" (a user or None)}]}``.
``incidents_imported``           imported (list of (incident, review dict or
                                 None)), actor
    Many new past incidents imported at once (``incident_import_new``, an
    import's batch): what ``incident_imported`` with ``created`` True says for
    each, sent once so receivers can write their records in bulk.

``actor`` is the acting user, or None for the system.

What other apps contribute to ``incidents``' pages and suggestions (panels, role
suggestions) goes through the registry in ``incidents.providers``, not through
events.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.dispatch import Signal

# ``incident_changed``'s ``change`` values (webhook channels may pick some).
CHANGES = (
    "declared",
    "updated",
    "severity_confirmed",
    "role_assigned",
    "status_changed",
    "acknowledged",
    "stakeholder_update",
    "action_changed",
    "playbook_applied",
    "services",
    "regulatory_notification",
)

incident_declared = Signal()
incident_changed = Signal()
incident_updated = Signal()
incident_severity_confirmed = Signal()
incident_role_assigned = Signal()
incident_status_changed = Signal()
incident_acknowledged = Signal()
incident_resolved = Signal()
incident_marked_duplicate = Signal()
stakeholder_update_posted = Signal()
action_changed = Signal()
playbook_applied = Signal()
severity_suggestion_raised = Signal()
incident_imported = Signal()
incidents_imported = Signal()
role_requested = Signal()

# --- Importing history -------------------------------------------------------
# Past incidents brought in from another tool (or the demo's history) go through
# the same services and events, so every rule and record applies; but nobody is
# paged about the past. Receivers that send communications are decorated with
# ``silent_during_import`` (it asks ``importing_history()``) and stay silent; receivers that only keep records (such
# as creating a review) carry on.

_importing_history: ContextVar[bool] = ContextVar("importing_history", default=False)


@contextmanager
def history_import() -> Iterator[None]:
    """Within this block, events describe the past: no communications go out."""
    token = _importing_history.set(True)
    try:
        yield
    finally:
        _importing_history.reset(token)


def importing_history() -> bool:
    """True inside ``history_import()``."""
    return _importing_history.get()


def silent_during_import(receiver: Callable[..., None]) -> Callable[..., None]:
    """Decorate a receiver that sends communications (or pages): inside
    ``history_import()`` it returns at once without running. Apply it where the
    receiver is defined (signals hold receivers by weak reference)."""

    @functools.wraps(receiver)
    def live_only(sender, **kwargs) -> None:
        if _importing_history.get():
            return None
        return receiver(sender, **kwargs)

    return live_only
