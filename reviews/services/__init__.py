"""Every write about post-incident reviews, one function per verb.

Each service takes keyword arguments only, checks its permission rule
(``reviews.permissions``) and preconditions once, raises a domain error
(``incidentops.exceptions``) with a reason a person can read, records the acting
user in history and logs what matters on the incident's timeline through
``incidents.services.timeline_record``. ``now`` lets history be back-dated (the
demo seed) and the sweep be tested; it defaults to the real time.

The services live in one module per concern and are all importable from here
(``from reviews import services; services.review_submit``):

- ``authoring``: opening a review on resolve, its content, follow-ups;
- ``workflow``: submit, approve, request changes, publish;
- ``batch``: batch reviews and severity changes after resolve;
- ``drafting``: the first draft from the record, redrafts, accepting drafts;
- ``importing``: the completed review of an imported incident;
- ``lessons``: the lessons index filled on publication, adoption into playbooks;
- ``sweep``: reminders, overdue alerts and escalations (``review_sweep``);
- ``base``: the helpers they share.
"""

from __future__ import annotations

from django.contrib.auth.models import Group

from incidentops.exceptions import DomainError, InvalidTransition, NotPermitted
from incidentops.groups import INCIDENT_MANAGERS
from incidents.models import Incident, TimelineEntry
from incidents.services import timeline_record
from reviews.models import (
    CONTENT_FIELDS,
    Approval,
    BatchReview,
    BatchReviewItem,
    ContributingFactor,
    ContributingFactorCategory,
    FiveWhy,
    FollowUp,
    Review,
    ReviewTimelineItem,
)
from reviews.policy import (
    Mode,
    batch_period_of,
    due_after,
    effective_policy,
    escalation_instant,
    individual_policy,
    local_instant,
    org_zone,
    reminder_instants,
)
from reviews.services.authoring import (
    _create_review,
    _file_for_batch,
    follow_up_add,
    follow_up_update,
    review_open_for_incident,
    review_refresh_timeline,
    review_set_answers,
    review_set_factors,
    review_set_five_whys,
    review_set_timeline,
    review_update,
)
from reviews.services.base import (
    FALLBACK_RECIPIENTS,
    FOLLOW_UP_FIELDS,
    KEY_TIMELINE_KINDS,
    REVIEW,
    Status,
    _default_owner,
    _label,
    _local,
    _lock,
    _lock_batch,
    _log,
    _notify,
    _require_editable,
    _review_context,
    _save,
)
from reviews.services.batch import (
    Disposition,
    _reapply_policy,
    _record_decision,
    _require_batch_open,
    batch_complete,
    batch_item_decide,
    review_apply_severity_change,
)
from reviews.services.drafting import (
    drafted_text_sections,
    review_draft,
    review_draft_accept,
    review_draft_dismiss,
    review_draft_take,
    section_labels,
)
from reviews.services.editing import (
    StaleReview,
    review_save,
    review_version,
)
from reviews.services.importing import review_import, review_import_new
from reviews.services.lessons import lesson_adopt, lessons_index, lessons_refile
from reviews.services.sweep import (
    ReviewAlert,
    _batch_context,
    _due_alerts,
    _notify_or_fallback,
    _sweep_batch,
    _sweep_review,
    review_sweep,
)
from reviews.services.workflow import (
    review_approve,
    review_publish,
    review_request_changes,
    review_submit,
)

__all__ = [
    "StaleReview",
    "review_save",
    "review_version",
    "review_import",
    "review_import_new",
    "Approval",
    "BatchReview",
    "BatchReviewItem",
    "CONTENT_FIELDS",
    "ContributingFactor",
    "ContributingFactorCategory",
    "Disposition",
    "DomainError",
    "FALLBACK_RECIPIENTS",
    "FOLLOW_UP_FIELDS",
    "FiveWhy",
    "FollowUp",
    "Group",
    "INCIDENT_MANAGERS",
    "Incident",
    "InvalidTransition",
    "KEY_TIMELINE_KINDS",
    "Mode",
    "NotPermitted",
    "REVIEW",
    "Review",
    "ReviewAlert",
    "ReviewTimelineItem",
    "Status",
    "TimelineEntry",
    "_batch_context",
    "_create_review",
    "_default_owner",
    "_due_alerts",
    "_file_for_batch",
    "_label",
    "_local",
    "_lock",
    "_lock_batch",
    "_log",
    "_notify",
    "_notify_or_fallback",
    "_reapply_policy",
    "_record_decision",
    "_require_batch_open",
    "_require_editable",
    "_review_context",
    "_save",
    "_sweep_batch",
    "_sweep_review",
    "batch_complete",
    "batch_item_decide",
    "batch_period_of",
    "due_after",
    "effective_policy",
    "escalation_instant",
    "follow_up_add",
    "follow_up_update",
    "individual_policy",
    "lesson_adopt",
    "lessons_index",
    "lessons_refile",
    "local_instant",
    "org_zone",
    "reminder_instants",
    "review_apply_severity_change",
    "review_draft",
    "drafted_text_sections",
    "section_labels",
    "review_draft_accept",
    "review_draft_dismiss",
    "review_draft_take",
    "review_approve",
    "review_open_for_incident",
    "review_publish",
    "review_refresh_timeline",
    "review_request_changes",
    "review_set_answers",
    "review_set_factors",
    "review_set_five_whys",
    "review_set_timeline",
    "review_submit",
    "review_sweep",
    "review_update",
    "timeline_record",
]
