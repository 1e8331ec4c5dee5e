"""The staff portal: status board, declare, incident page, my work.

Views read through ``Incident.objects.visible_to(user)`` and
``permissions.get_visible_incident_or_404`` and write only through
``incidents.services``; a ``DomainError`` from a service becomes a form error with
its reason, a success a message.

One module per page (``board``, ``declare``, ``incident``, ``commands``,
``my_work``, ``insights``, ``past``); every view is importable from here (``incidents.views.BoardView``).
"""

from __future__ import annotations

from incidentops.exceptions import DomainError
from incidents.forms import (
    UPDATE_PLACEHOLDERS,
    ActionCreateForm,
    ActionUpdateForm,
    AssignRoleForm,
    BoardFilterForm,
    ConfirmSeverityForm,
    DeclareForm,
    IncidentTypeForm,
    NoteForm,
    StakeholderUpdateForm,
    TransitionForm,
)
from incidents.models import (
    COMMANDER,
    ActionItem,
    Incident,
    IncidentType,
    Role,
    RoleAssignment,
    SeverityLevel,
    TimelineEntry,
)
from incidents.triage import suggest_for, visible_rationale
from incidents.views.board import (
    OPEN_ACTION_STATUSES,
    BoardView,
    board_groups,
    board_incidents,
    favicon,
)
from incidents.views.commands import (
    AcknowledgeView,
    ActionCreateView,
    ActionTrackerMixin,
    ActionUpdateView,
    AssignRoleView,
    ConfirmSeverityView,
    CorrectTimesView,
    IncidentCommandView,
    IncidentTypeView,
    LinkView,
    MarkDuplicateView,
    NoteView,
    RegulatoryNotificationView,
    RestrictionView,
    RoleRequestAnswerView,
    RoleRequestView,
    StakeholderUpdateView,
    TransitionView,
    UnlinkView,
)
from incidents.views.declare import (
    DeclareView,
    SuggestView,
)
from incidents.views.incident import (
    IncidentDetailView,
    IncidentMixin,
    _stakeholder_template,
    incident_page_context,
    timeline_entries,
)
from incidents.views.insights import InsightsView
from incidents.views.my_work import MyWorkView
from incidents.views.past import PastIncidentsView

__all__ = [
    "ActionCreateForm",
    "ActionCreateView",
    "ActionItem",
    "ActionTrackerMixin",
    "ActionUpdateForm",
    "ActionUpdateView",
    "AssignRoleForm",
    "AcknowledgeView",
    "AssignRoleView",
    "BoardFilterForm",
    "BoardView",
    "COMMANDER",
    "ConfirmSeverityForm",
    "ConfirmSeverityView",
    "CorrectTimesView",
    "RegulatoryNotificationView",
    "DeclareForm",
    "DeclareView",
    "DomainError",
    "Incident",
    "IncidentCommandView",
    "IncidentDetailView",
    "IncidentMixin",
    "IncidentType",
    "IncidentTypeForm",
    "IncidentTypeView",
    "InsightsView",
    "MyWorkView",
    "NoteForm",
    "NoteView",
    "LinkView",
    "MarkDuplicateView",
    "UnlinkView",
    "OPEN_ACTION_STATUSES",
    "PastIncidentsView",
    "RestrictionView",
    "Role",
    "RoleRequestAnswerView",
    "RoleRequestView",
    "RoleAssignment",
    "SeverityLevel",
    "StakeholderUpdateForm",
    "StakeholderUpdateView",
    "SuggestView",
    "TimelineEntry",
    "TransitionForm",
    "TransitionView",
    "UPDATE_PLACEHOLDERS",
    "_stakeholder_template",
    "board_groups",
    "board_incidents",
    "favicon",
    "incident_page_context",
    "suggest_for",
    "timeline_entries",
    "visible_rationale",
]
