"""Helpers the review services share: locks, the history actor, timeline logging, notifications."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from incidentops.exceptions import InvalidTransition, NotPermitted
from incidentops.groups import INCIDENT_MANAGERS
from incidentops.services import actor_label, save_as
from incidentops.timezones import org_zone
from incidents import timeline_entries as entries
from incidents.models import Incident, TimelineEntry
from incidents.services import timeline_record
from reviews import permissions
from reviews.models import (
    BatchReview,
    Review,
)

Status = Review.Status
REVIEW = TimelineEntry.Kind.REVIEW
# Who is told when an alert's own recipients cannot be reached.
FALLBACK_RECIPIENTS = f"{INCIDENT_MANAGERS} (nobody else reachable)"

# The entries a generated review timeline includes to begin with; every other
# entry is offered too, excluded, so the author can add it.
KEY_TIMELINE_KINDS = frozenset(
    {
        TimelineEntry.Kind.DECLARED,
        TimelineEntry.Kind.STATUS,
        TimelineEntry.Kind.SEVERITY_CONFIRMED,
        TimelineEntry.Kind.ROLE,
        TimelineEntry.Kind.STAKEHOLDER_UPDATE,
        TimelineEntry.Kind.ALERT,
    }
)
FOLLOW_UP_FIELDS = ("title", "description", "owner", "due_at", "status", "ticket_url")


_save = save_as  # the services' short names for the shared helpers
_label = actor_label


def _log(review: Review, *, actor, summary: str, now: datetime, data: dict) -> None:
    timeline_record(
        incident=review.incident,
        actor=actor,
        occurred_at=now,
        entry=entries.review(summary=summary, review=review.pk, **data),
    )


def _lock(review: Review) -> Review:
    return (
        Review.objects.select_for_update().select_related("incident").get(pk=review.pk)
    )


def _require_editable(actor, review: Review) -> None:
    if not permissions.can_edit(actor, review):
        raise NotPermitted("You may not edit this review.")
    if not review.is_editable:
        raise InvalidTransition(
            f"The review is {review.get_status_display().lower()}; only a draft "
            "can be edited (request changes to reopen it)."
        )


def _default_owner(incident: Incident):
    commander = incident.commander
    if commander is not None and commander.is_human:
        return commander
    reporter = incident.reporter
    return reporter if reporter is not None and reporter.is_human else None


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(org_zone()):%a %d %b %Y %H:%M %Z}"


def _notify(**kwargs):
    # Imported here: notifications sits below reviews (reviews -> notifications
    # -> incidents) and its services import much; loading them only when a
    # message is sent keeps migrations and the admin light.
    from notifications.services import notification_send

    return notification_send(**kwargs)


def _review_context(review: Review, **extra) -> dict:
    return {
        "review_url": review.get_absolute_url(),
        "review_link": settings.SITE_URL + review.get_absolute_url(),
        "review_status": review.get_status_display(),
        "review_due_at": _local(review.due_at),
        "review_owner": _label(review.owner) if review.owner else "nobody",
        **extra,
    }


def _lock_batch(batch: BatchReview) -> BatchReview:
    return (
        BatchReview.objects.select_for_update(of=("self",))
        .select_related("severity", "owner_group")
        .get(pk=batch.pk)
    )
