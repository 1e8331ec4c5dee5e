"""Conditional GETs for the portal's live pages (the board, the incident page).

The pages poll themselves with ``If-None-Match`` (``static/js/app.js``). Each
answer carries an ETag built from:

- what the page shows changes with: the incidents' ``IncidentRevision`` counters
  (bumped by every timeline entry and by ``incidents.services.incident_touch``);
- who is looking (the user's id: what they may see and do differs);
- the request's query string (filters, the timeline's kind);
- the current minute, so relative times ("5m ago", "update overdue") are at most
  a minute old on a page that nothing else changes;
- ``LIVE_VERSION``, raised when the markup changes, so a deploy refreshes pages.

When the browser's ETag still matches, the view answers ``304 Not Modified``
without rendering: one or two small queries instead of a page.

Only polls (``X-Live-Poll: 1``) are answered with ETags and 304s; a page the
person loads or reloads is always rendered (it may carry a message to show once)
and costs no validator query: its first poll is answered in full.

Reusing it for another page: add ``LivePageMixin`` to the view (before the login
mixin) and define ``live_parts()``, the values the page's content depends on
(e.g. ``board_revision()``); or, in a function view, ``etag_for(request, parts)``,
``not_modified(request, etag)`` (the 304 to send, or ``None`` to render) and
``with_etag(response, etag)``. A poll that has lost its session gets ``401`` from
``expired_session_response`` instead of a login page to swap in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db.models import Count, Max, Sum
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers

from incidents.models import Incident, IncidentRevision

LIVE_VERSION = "1"
# The header static/js/app.js sends on its polls.
POLL_HEADER = "X-Live-Poll"


def is_poll(request) -> bool:
    """True for a request made by the page's own live polling."""
    return request.headers.get(POLL_HEADER) == "1"


def incident_revision(incident: Incident) -> int:
    """The incident's revision counter (0 before its first change). One query."""
    return (
        IncidentRevision.objects.filter(incident_id=incident.pk)
        .values_list("revision", flat=True)
        .first()
        or 0
    )


def board_revision() -> tuple:
    """What changes whenever an active incident changes, appears or leaves the
    active set: their number, the sum of their revisions and the latest change.
    One aggregate query over the active incidents (not per user: the content is
    rendered per user; only the validator is shared)."""
    row = Incident.objects.open().aggregate(
        count=Count("pk"),
        revisions=Sum("revision__revision"),
        latest=Max("revision__changed_at"),
    )
    latest = row["latest"].isoformat() if row["latest"] else ""
    return (row["count"], row["revisions"] or 0, latest)


def _minute() -> int:
    """The current minute since the epoch: relative times on a page re-render
    at least this often."""
    return int(timezone.now().timestamp() // 60)


def etag_for(request, parts: Iterable) -> str:
    """A strong ETag (quoted) for ``request``'s user and query string, this
    minute, and ``parts``."""
    minute = _minute()
    key = "|".join(
        str(value)
        for value in (
            LIVE_VERSION,
            request.user.pk,
            request.get_full_path(),
            minute,
            *parts,
        )
    )
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def not_modified(request, etag: str) -> HttpResponse | None:
    """``304 Not Modified`` when the request's ``If-None-Match`` names ``etag``,
    else ``None``."""
    match = request.headers.get("If-None-Match", "")
    if etag in (tag.strip() for tag in match.split(",")):
        response = HttpResponseNotModified()
        return with_etag(response, etag)
    return None


def with_etag(response: HttpResponse, etag: str) -> HttpResponse:
    """Label ``response`` with ``etag``; ``no-cache`` so every poll revalidates and
    ``private`` so no shared cache keeps one user's page for another."""
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ("Cookie", POLL_HEADER))
    return response


def expired_session_response(request) -> JsonResponse:
    """What a poll without a session gets: ``401`` with where to sign in (the
    page then shows a sign-in prompt that returns to it)."""
    return JsonResponse(
        {
            "detail": "Your session has ended. Sign in again.",
            "login": "/accounts/login/",
        },
        status=401,
    )


class LivePageMixin:
    """For a class-based view of a page that polls itself (see the module
    docstring). Put it before ``LoginRequiredMixin``/``IncidentMixin``; define
    ``live_parts()``. Adds ``live_poll`` to the context (the base template shows
    no messages in a poll's answer, so none is consumed unseen)."""

    def dispatch(self, request, *args, **kwargs):
        if is_poll(request) and not request.user.is_authenticated:
            return expired_session_response(request)
        return super().dispatch(request, *args, **kwargs)

    def live_parts(self) -> Iterable:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        if not is_poll(request):
            # A page load costs no validator query; its first poll is answered
            # in full and labelled.
            return super().get(request, *args, **kwargs)
        etag = etag_for(request, self.live_parts())
        unchanged = not_modified(request, etag)
        if unchanged is not None:
            return unchanged
        return with_etag(super().get(request, *args, **kwargs), etag)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["live_poll"] = is_poll(self.request)
        return context
