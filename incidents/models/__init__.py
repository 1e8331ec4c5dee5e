"""The incident core: taxonomy, severity policy, roles, playbooks, incidents, the
append-only timeline and alert integrations.

Rules about one object live here (``Incident.can_transition_to``, the timeline's
hash); every write that involves more than one row goes through
``incidents.services``.

One module per part, every model importable from here
(``from incidents.models import Incident``):

- ``taxonomy``: families, incident types, severity levels, roles, playbooks;
- ``integrations``: alert sources and their secrets;
- ``incident``: incidents, role assignments, action items, stakeholder updates;
- ``timeline``: the append-only, hash-chained timeline;
- ``alerts``: every alert an integration delivered (``Alert``) and the
  per-incident ingestion state (``AlertState``);
- ``catalog``: teams, their members and the service catalog, and which
  services an incident affects;
- ``links``: links between incidents (duplicate of, related, caused by);
- ``requests``: asking a person to take a role (``RoleRequest``);
- ``regulatory``: which authority was told, when, by whom and whether in
  time (``RegulatoryNotification``);
- ``triage``: trained versions of the learned triage model.

The ``Historical<Model>`` classes django-simple-history adds are importable
from here too.
"""

from __future__ import annotations

from incidents.models.alerts import Alert, AlertState
from incidents.models.catalog import (
    HistoricalService,
    HistoricalTeam,
    HistoricalTeamMembership,
    IncidentService,
    Service,
    ServiceQuerySet,
    Team,
    TeamMembership,
    alert_labels_problem,
)
from incidents.models.incident import (
    ActionItem,
    HistoricalActionItem,
    HistoricalIncident,
    HistoricalRoleAssignment,
    HistoricalStakeholderUpdate,
    Incident,
    IncidentQuerySet,
    IncidentReferenceCounter,
    PlaybookApplication,
    RoleAssignment,
    StakeholderUpdate,
)
from incidents.models.integrations import (
    HistoricalIntegration,
    Integration,
)
from incidents.models.links import HistoricalIncidentLink, IncidentLink
from incidents.models.regulatory import (
    HistoricalRegulatoryNotification,
    RegulatoryNotification,
)
from incidents.models.requests import RoleRequest
from incidents.models.revision import IncidentRevision
from incidents.models.taxonomy import (
    BUILTIN_ROLES,
    COMMANDER,
    COMMUNICATIONS,
    OPERATIONS,
    SCRIBE,
    HistoricalIncidentFamily,
    HistoricalIncidentType,
    HistoricalPlaybook,
    HistoricalPlaybookStep,
    HistoricalRole,
    HistoricalSeverityLevel,
    IncidentFamily,
    IncidentType,
    Playbook,
    PlaybookStep,
    Role,
    SeverityLevel,
    SeverityLevelQuerySet,
    more_severe_code,
)
from incidents.models.timeline import (
    AppendOnlyError,
    TimelineEntry,
    TimelineEntryQuerySet,
    TimelineHead,
    sign_head,
)
from incidents.models.triage import (
    TriageModel,
    TriageModelQuerySet,
)

__all__ = [
    "HistoricalIncidentLink",
    "IncidentLink",
    "HistoricalRegulatoryNotification",
    "RegulatoryNotification",
    "RoleRequest",
    "HistoricalService",
    "HistoricalTeam",
    "HistoricalTeamMembership",
    "IncidentService",
    "Service",
    "ServiceQuerySet",
    "Team",
    "TeamMembership",
    "alert_labels_problem",
    "HistoricalIncidentFamily",
    "HistoricalIncidentType",
    "HistoricalPlaybook",
    "HistoricalPlaybookStep",
    "HistoricalRole",
    "HistoricalSeverityLevel",
    "HistoricalIntegration",
    "HistoricalActionItem",
    "HistoricalIncident",
    "HistoricalRoleAssignment",
    "HistoricalStakeholderUpdate",
    "ActionItem",
    "Alert",
    "AlertState",
    "AppendOnlyError",
    "BUILTIN_ROLES",
    "COMMANDER",
    "COMMUNICATIONS",
    "Incident",
    "IncidentFamily",
    "IncidentQuerySet",
    "IncidentReferenceCounter",
    "IncidentRevision",
    "IncidentType",
    "Integration",
    "OPERATIONS",
    "Playbook",
    "PlaybookApplication",
    "PlaybookStep",
    "Role",
    "RoleAssignment",
    "SCRIBE",
    "SeverityLevel",
    "SeverityLevelQuerySet",
    "more_severe_code",
    "StakeholderUpdate",
    "TimelineEntry",
    "TimelineEntryQuerySet",
    "TimelineHead",
    "sign_head",
    "TriageModel",
    "TriageModelQuerySet",
]
