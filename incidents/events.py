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
    "status_changed", "stakeholder_update", "action_changed", "playbook_applied";
    ``data`` is a small JSON-able dict describing the change.
``incident_updated``             incident, changes ({field: {"from", "to"}}), actor
``incident_severity_confirmed``  incident, previous_severity (or None), actor
``incident_role_assigned``       assignment, previous_assignment (or None), actor
``incident_status_changed``      incident, previous_status, actor
``incident_resolved``            incident, actor  (also after incident_status_changed)
``stakeholder_update_posted``    update, actor
``action_changed``               action, actor, created (bool)
``playbook_applied``             application, actions (list), actor

``actor`` is the acting user, or None for the system.
"""

from django.dispatch import Signal

incident_declared = Signal()
incident_changed = Signal()
incident_updated = Signal()
incident_severity_confirmed = Signal()
incident_role_assigned = Signal()
incident_status_changed = Signal()
incident_resolved = Signal()
stakeholder_update_posted = Signal()
action_changed = Signal()
playbook_applied = Signal()
