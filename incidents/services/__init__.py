"""Every write in the incident core, one function per verb.

Each service takes keyword arguments only, checks its permission rule
(``incidents.permissions``) and preconditions once, raises a domain error
(``incidentops.exceptions``) with a reason a person can read, writes its rows with
the acting user recorded in history, appends its timeline entries and publishes
its domain events (``incidents.events``).

``now`` parameters let history be back-dated (the demo seed, imports); they
default to the real time. ``actor=None`` means the system.

The services live in one module per concern and are all importable from here
(``from incidents import services; services.incident_declare``):

- ``timeline``: ``timeline_record``, the one way to write the timeline
  (``timeline_append`` when the caller holds the incident's lock;
  ``timeline_batch`` to write the chain head and revision once for a block);
- ``declare``: declaring an incident and editing its plain fields;
- ``declare_alerts``: the deferred declaration alert ingestion uses
  (``incident_number``, ``incident_complete_declaration``,
  ``incident_detected_earlier``);
- ``severity``: suggestion, confirmation and classification;
- ``actions``: playbooks and action items;
- ``restriction``: restriction follows the type (fail-closed), and
  ``incident_set_restriction`` to restrict or lift by hand;
- ``roles``: role assignment and handover;
- ``acknowledge``: a person acknowledging an incident (stops its paging);
- ``role_requests``: asking a person to take a role, and their answer;
- ``importing``: importing a past incident, keeping its times;
  ``importing_batch``: many new ones at once;
- ``lifecycle``: status transitions;
- ``links``: links between incidents (``incident_link``, ``incident_unlink``)
  and closing a duplicate (``incident_mark_duplicate``);
- ``notes``: notes and stakeholder updates;
- ``regulatory``: recording that an authority was told
  (``regulatory_notification_record``);
- ``times``: correcting an incident's times (impact start, detection,
  acknowledgement, mitigation, resolution);
- ``integrations``: alert integrations and their secrets;
- ``revision``: ``incident_touch``, the counter the live pages poll;
- ``catalog``: teams, services, and the services an incident affects
  (``incident_link_services``, ``incident_set_services``);
- ``base``: the helpers they share (locks, grants, the history actor).
"""

from __future__ import annotations

from incidentops.exceptions import DomainError, InvalidTransition, NotPermitted
from incidents.models import (
    COMMANDER,
    ActionItem,
    Incident,
    IncidentReferenceCounter,
    IncidentType,
    Integration,
    Playbook,
    PlaybookApplication,
    Role,
    RoleAssignment,
    SeverityLevel,
    StakeholderUpdate,
    TimelineEntry,
)
from incidents.services.acknowledge import incident_acknowledge
from incidents.services.actions import (
    ACTION_EDITABLE,
    _action_display,
    _playbook_apply,
    action_complete,
    action_create,
    action_update,
    playbook_apply,
)
from incidents.services.base import (
    DedupRaceLost,
    Kind,
    OpenIncidentExists,
    Status,
    _changed,
    _grant,
    _grant_restricted_access,
    _json,
    _label,
    _lock,
    _refresh_into,
    _require,
    _save,
    _tags,
)
from incidents.services.catalog import (
    alert_link_services,
    incident_link_services,
    incident_set_services,
    service_create,
    service_update,
    services_by_slug,
    services_for_alert_labels,
    services_named,
    services_with_alert_labels,
    team_add_member,
    team_create,
    team_remove_member,
    team_update,
)
from incidents.services.declare import (
    EDITABLE_FIELDS,
    REFUSED_FIELDS,
    _display,
    _incident_update,
    incident_declare,
    incident_update,
)
from incidents.services.declare_alerts import (
    incident_complete_declaration,
    incident_detected_earlier,
    incident_number,
)
from incidents.services.importing import ImportOutcome, import_fields, incident_import
from incidents.services.importing_batch import NewImport, incident_import_new
from incidents.services.integrations import (
    integration_create,
    integration_rotate_secret,
)
from incidents.services.lifecycle import (
    _leave_triage_problems,
    _refuse_second_open_for_alert,
    incident_transition,
)
from incidents.services.links import (
    incident_link,
    incident_mark_duplicate,
    incident_unlink,
)
from incidents.services.notes import (
    incident_add_note,
    stakeholder_update_post,
)
from incidents.services.regulatory import (
    TYPE_DEADLINE,
    regulatory_notification_record,
)
from incidents.services.restriction import incident_set_restriction
from incidents.services.revision import incident_touch
from incidents.services.role_requests import (
    role_request_accept,
    role_request_create,
    role_request_decline,
)
from incidents.services.roles import incident_assign_role
from incidents.services.severity import (
    _KEEP,
    _incident_confirm_severity,
    incident_classify,
    incident_confirm_severity,
    incident_record_suggestion,
)
from incidents.services.timeline import (
    timeline_append,
    timeline_batch,
    timeline_hold_lock,
    timeline_record,
)
from incidents.services.times import (
    CORRECTABLE_TIMES,
    incident_correct_times,
    times_order_problem,
)
from incidents.triage import suggest_for

__all__ = [
    "incident_complete_declaration",
    "incident_detected_earlier",
    "incident_number",
    "ACTION_EDITABLE",
    "ActionItem",
    "ImportOutcome",
    "NewImport",
    "CORRECTABLE_TIMES",
    "COMMANDER",
    "DomainError",
    "EDITABLE_FIELDS",
    "Incident",
    "IncidentReferenceCounter",
    "IncidentType",
    "Integration",
    "InvalidTransition",
    "Kind",
    "NotPermitted",
    "OpenIncidentExists",
    "DedupRaceLost",
    "Playbook",
    "PlaybookApplication",
    "REFUSED_FIELDS",
    "Role",
    "RoleAssignment",
    "SeverityLevel",
    "StakeholderUpdate",
    "Status",
    "TimelineEntry",
    "_KEEP",
    "_action_display",
    "_changed",
    "_display",
    "_grant",
    "_grant_restricted_access",
    "_incident_confirm_severity",
    "_incident_update",
    "_json",
    "_label",
    "_leave_triage_problems",
    "_lock",
    "_playbook_apply",
    "_refresh_into",
    "_refuse_second_open_for_alert",
    "_require",
    "_save",
    "_tags",
    "action_complete",
    "action_create",
    "action_update",
    "incident_acknowledge",
    "incident_add_note",
    "incident_assign_role",
    "incident_classify",
    "incident_confirm_severity",
    "incident_correct_times",
    "incident_declare",
    "import_fields",
    "incident_import",
    "incident_import_new",
    "incident_link_services",
    "alert_link_services",
    "incident_set_services",
    "service_create",
    "service_update",
    "services_by_slug",
    "services_for_alert_labels",
    "services_with_alert_labels",
    "services_named",
    "team_add_member",
    "team_create",
    "team_remove_member",
    "team_update",
    "incident_record_suggestion",
    "incident_set_restriction",
    "regulatory_notification_record",
    "TYPE_DEADLINE",
    "incident_transition",
    "incident_touch",
    "incident_link",
    "incident_mark_duplicate",
    "incident_unlink",
    "incident_update",
    "integration_create",
    "integration_rotate_secret",
    "playbook_apply",
    "role_request_accept",
    "role_request_create",
    "role_request_decline",
    "stakeholder_update_post",
    "suggest_for",
    "timeline_append",
    "timeline_batch",
    "timeline_hold_lock",
    "timeline_record",
    "times_order_problem",
]
