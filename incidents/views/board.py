"""The status board of active incidents (``/``), and the favicon redirect."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.utils import timezone
from django.views.generic import TemplateView

from incidents import permissions
from incidents.forms import BoardFilterForm
from incidents.live import LivePageMixin, board_revision, is_poll
from incidents.models import (
    ActionItem,
    Incident,
    RoleAssignment,
    SeverityLevel,
)

OPEN_ACTION_STATUSES = (ActionItem.Status.OPEN, ActionItem.Status.IN_PROGRESS)


def favicon(request):
    """``/favicon.ico``, which browsers ask for on pages that name no icon (the
    admin, printable pages): a redirect to the static SVG. The static URL is
    resolved per request, since the storage's manifest is not read at import;
    temporary (302), because the hashed name changes with each deploy."""
    return HttpResponseRedirect(static("favicon.svg"))


def board_incidents(user, filters: dict | None = None):
    """Active incidents ``user`` may see, filtered, with what the board shows
    annotated (open actions, last stakeholder update) in a fixed number of
    queries however many incidents there are."""
    filters = filters or {}
    incidents = (
        Incident.objects.visible_to(user)
        .open()
        .for_list()
        .with_last_update()
        .annotate(
            open_actions=Count(
                "actions",
                filter=Q(actions__status__in=OPEN_ACTION_STATUSES),
                distinct=True,
            ),
        )
    )
    severity = filters.get("severity")
    if severity == BoardFilterForm.UNCONFIRMED:
        incidents = incidents.filter(severity__isnull=True)
    elif severity:
        incidents = incidents.filter(severity__code=severity)
    if filters.get("incident_type"):
        incidents = incidents.filter(incident_type=filters["incident_type"])
    if filters.get("status"):
        incidents = incidents.filter(status=filters["status"])
    if filters.get("mine"):
        incidents = incidents.filter(
            Q(reporter=user)
            | Q(
                pk__in=RoleAssignment.objects.filter(
                    user=user, ended_at__isnull=True
                ).values("incident")
            )
            | Q(
                pk__in=ActionItem.objects.filter(
                    owner=user, status__in=OPEN_ACTION_STATUSES
                ).values("incident")
            )
        )
    if filters.get("q"):
        term = filters["q"].strip()
        incidents = incidents.filter(
            Q(title__icontains=term) | Q(reference__icontains=term)
        )
    return incidents.order_by("-created_at", "-pk")


# How many rows a group shows before collapsing the rest into "N more": the
# board must stay fast and small with thousands of active incidents (an alert
# storm). Lower severities collapse sooner; a severity filter shows up to the
# larger number.
BOARD_GROUP_ROWS = 100
BOARD_LOWER_ROWS = 25
BOARD_FILTERED_ROWS = 500
LOWER_RANKS = 3  # SEV-3 and below


def _rows_for(group: dict, filtered_by_severity: bool) -> int:
    if filtered_by_severity:
        return BOARD_FILTERED_ROWS
    level = group["level"]
    if level is not None and level.rank >= LOWER_RANKS:
        return BOARD_LOWER_ROWS
    return BOARD_GROUP_ROWS


def board_groups(
    incidents, *, now: datetime, filtered_by_severity: bool = False
) -> list[dict]:
    """Rows grouped for the board: those without a confirmed severity first
    ("Unconfirmed — in triage"), then by confirmed severity, most severe first,
    whatever their status (a confirmed SEV-1 still in triage is a SEV-1; its
    status column says "Triage"). Each group
    shows its newest rows up to ``_rows_for`` (``total`` counts them all,
    ``more`` how many are collapsed)."""
    triage: list = []
    by_level: dict[int, dict] = {}
    for incident in incidents:
        if incident.severity is None:
            triage.append(incident)
            continue
        group = by_level.setdefault(
            incident.severity.rank,
            {
                "key": f"sev-{incident.severity.rank}",
                "level": incident.severity,
                "incidents": [],
            },
        )
        group["incidents"].append(incident)
    groups = []
    if triage:
        groups.append(
            {
                "key": "triage",
                "level": None,
                "title": "Unconfirmed — in triage",
                "incidents": triage,
            }
        )
    groups.extend(by_level[rank] for rank in sorted(by_level))
    for group in groups:
        rows = group["incidents"]
        shown = rows[: _rows_for(group, filtered_by_severity)]
        group.update(incidents=shown, total=len(rows), more=len(rows) - len(shown))
        for incident in shown:  # only what is shown needs its due time
            due = incident.next_update_due_at()
            incident.update_due_at = due
            incident.update_overdue = bool(due and due < now)
    return groups


class BoardView(LivePageMixin, LoginRequiredMixin, TemplateView):
    """``/``: active incidents grouped by severity. The page polls itself every
    five seconds (``X-Live-Poll``, ETag from ``incidents.live.board_revision``):
    ``304`` while nothing changed, else only ``incidents/_board.html``."""

    template_name = "incidents/board.html"
    partial_template_name = "incidents/_board.html"

    def get_template_names(self):
        if self.request.htmx or is_poll(self.request):
            return [self.partial_template_name]
        return [self.template_name]

    def live_parts(self):
        return board_revision()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        severities = list(SeverityLevel.objects.all())
        form = BoardFilterForm(self.request.GET or None, severities=severities)
        filters = form.cleaned_data if form.is_valid() else {}
        now = timezone.now()
        incidents = list(board_incidents(self.request.user, filters))
        context.update(
            filter_form=form,
            filtered=any(filters.values()),
            # Without the global view permission (e.g. Configurators) only
            # incidents granted to the user show: an empty board must not read
            # "nothing is happening". It says why, and counts nothing.
            sees_all_incidents=self.request.user.has_perm(permissions.VIEW),
            groups=board_groups(
                incidents, now=now, filtered_by_severity=bool(filters.get("severity"))
            ),
            incident_count=len(incidents),
            now=now,
            query=self.request.GET.urlencode(),
        )
        return context
