"""Template helpers for the portal: severity and status badges, compact durations.

Severity is always shown as text ("SEV-1 Critical") with a shape; colour only
reinforces it (WCAG 1.4.1)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from incidentops.text import neutralise_bidi

register = template.Library()

# One shape per rank, so that levels differ in form as well as colour.
SHAPES = {1: "▲", 2: "◆", 3: "●", 4: "○"}


def _rank_from_code(code: str) -> int | None:
    digits = "".join(ch for ch in code or "" if ch.isdigit())
    return int(digits) if digits else None


@register.simple_tag
def severity_badge(level, suggested: bool = False):
    """A ``SeverityLevel`` as a labelled badge; ``None`` reads "Unconfirmed"."""
    if level is None:
        return mark_safe(
            '<span class="badge sev-none"><span class="badge__shape" '
            'aria-hidden="true">?</span>Unconfirmed</span>'
        )
    shape = SHAPES.get(level.rank, "■")
    if suggested:
        return format_html(
            '<span class="badge badge--suggested" title="Suggested, not confirmed">'
            '<span class="badge__shape" aria-hidden="true">{}</span>'
            "Suggested {} {}</span>",
            shape,
            level.code,
            level.name,
        )
    return format_html(
        '<span class="badge sev-{}"><span class="badge__shape" aria-hidden="true">'
        "{}</span>{} {}</span>",
        level.rank,
        shape,
        level.code,
        level.name,
    )


@register.simple_tag
def severity_code_badge(code: str | None):
    """A badge from a bare code (e.g. in a stored suggestion's similar list)."""
    if not code:
        return mark_safe('<span class="badge sev-none">Unconfirmed</span>')
    rank = _rank_from_code(code)
    return format_html(
        '<span class="badge sev-{}"><span class="badge__shape" aria-hidden="true">'
        "{}</span>{}</span>",
        rank or "none",
        SHAPES.get(rank, "■"),
        code,
    )


@register.simple_tag
def status_badge(value: str, label: str = ""):
    return format_html(
        '<span class="badge status status-{}">{}</span>',
        value,
        label or value.replace("_", " ").capitalize(),
    )


@register.filter
def without_bidi(value) -> str:
    """Recorded text (a timeline summary, written before titles were kept
    plain and never rewritten: the timeline is hash-chained) shown without
    bidirectional controls."""
    return neutralise_bidi(str(value or ""))


@register.filter
def compact_duration(value: timedelta | None) -> str:
    """``timedelta`` as "2d 4h", "3h 12m" or "7m"."""
    if value is None:
        return ""
    minutes = int(abs(value.total_seconds()) // 60)
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


@register.filter
def since(value: datetime | None) -> str:
    """Compact time elapsed since ``value``: "3h 12m"."""
    if value is None:
        return ""
    return compact_duration(timezone.now() - value)


@register.filter
def time_left(value: datetime | None) -> str:
    """ "3h 12m left" or "overdue by 5m" until ``value``."""
    if value is None:
        return ""
    delta = value - timezone.now()
    if delta.total_seconds() < 0:
        return f"overdue by {compact_duration(delta)}"
    return f"{compact_duration(delta)} left"


@register.filter
def is_past(value: datetime | None) -> bool:
    return bool(value and value < timezone.now())


@register.filter
def as_list(value) -> list:
    """A JSON value as a list, for rendering recipients and channels."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


@register.filter
def channel_rows(data: dict) -> list[tuple[str, str]]:
    """A communication entry's channels as (name, what happened) pairs.

    The notifications app logs a queued message with
    ``channels=[{"channel", "deliveries"}]`` and its settled outcome with
    ``channels={name: {"sent", "failed"}}``; a resend names one ``channel``."""
    channels = (data or {}).get("channels")
    rows: list[tuple[str, str]] = []
    if isinstance(channels, dict):
        for name, counts in channels.items():
            if isinstance(counts, dict):
                parts = [f"{counts.get('sent', 0)} sent"]
                if counts.get("failed"):
                    parts.append(f"{counts['failed']} failed")
                rows.append((name, ", ".join(parts)))
            else:
                rows.append((name, str(counts)))
    elif isinstance(channels, list):
        for item in channels:
            if isinstance(item, dict):
                count = item.get("deliveries")
                rows.append(
                    (
                        str(item.get("channel", "")),
                        f"{count} queued" if count is not None else "",
                    )
                )
            else:
                rows.append((str(item), ""))
    elif (data or {}).get("channel"):
        rows.append((str(data["channel"]), str(data.get("recipient", ""))))
    return rows


@register.filter
def may_declare(user) -> bool:
    """Whether to offer "Declare incident" (``permissions.can_declare``)."""
    from incidents.permissions import can_declare

    return can_declare(user)


@register.filter
def may_see_insights(user) -> bool:
    """Whether to offer "Insights" (``permissions.can_view_insights``)."""
    from incidents.permissions import can_view_insights

    return can_view_insights(user)


@register.filter
def person(user) -> str:
    """A person as every picker shows them: "Full Name (username)"."""
    from incidents.forms import person_label

    return person_label(user) if user is not None else ""


@register.filter
def with_type_name(text: str, incident_type) -> str:
    """Triage's rationale names the suggested type by its slug; say its name.

    ``incident_type`` is the ``IncidentType`` the text is about (or None)."""
    if not text or incident_type is None or not incident_type.slug:
        return text or ""
    return text.replace(f"type {incident_type.slug}", f"type “{incident_type.name}”")


@register.filter
def link_references(text: str, references) -> str:
    """``text`` (escaped) with each incident reference among ``references``
    (e.g. a triage rationale's similar incidents the viewer may see) as a link
    to that incident's page; other references stay plain text."""
    from incidents.triage import REFERENCE

    linkable = set(references or ())

    def link(match) -> str:
        reference = match.group(0)
        if reference not in linkable:
            return reference
        url = reverse("incidents:detail", args=[reference])
        return format_html('<a class="ref" href="{}">{}</a>', url, reference)

    return mark_safe(REFERENCE.sub(link, str(conditional_escape(text or ""))))


@register.filter
def duration(seconds) -> str:
    """Seconds as ``1h 30m`` (``–`` for none): the insights tables."""
    from incidents.charts import format_seconds

    return format_seconds(seconds)
