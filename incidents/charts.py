"""Charts drawn on the server as SVG: no script, no outside library, nothing to
load from elsewhere (the CSP allows none). Each chart is readable in greyscale
(series differ by fill pattern, not only by colour, and every bar carries its
value as text) and scales to a phone's width (a ``viewBox``, width 100%). Each
is shown beside a table of the same numbers."""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Greyscale-safe series: a solid, a hatched and an outlined bar.
SERIES_CLASSES = ("chart__bar", "chart__bar--hatched", "chart__bar--outline")
_HATCH = (
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" class="chart__hatch-bg"/>'
    '<line x1="0" y1="0" x2="0" y2="6" class="chart__hatch-line"/></pattern></defs>'
)


def format_seconds(value: float | None) -> str:
    """``95`` → ``1m 35s``, ``5400`` → ``1h 30m``, ``None`` → ``–``."""
    if value is None:
        return "–"
    seconds = int(round(value))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s" if seconds else f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def hbar_chart(
    rows: list[dict],
    *,
    label: str,
    series: list[tuple[str, str]],
    title: str,
    seconds: bool = False,
    percent: bool = False,
) -> SafeString:
    """Horizontal bars, one group of bars per row: ``series`` is
    ``[(key, legend)]`` read from each row; the longest bar spans the width."""
    if not rows:
        return mark_safe("")
    values = [row.get(key) or 0 for row in rows for key, _ in series]
    top = max(values) or 1
    bar, gap, label_width, width = 14, 10, 170, 640
    plot = width - label_width - 80
    group = bar * len(series) + gap
    height = group * len(rows) + 30
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        _HATCH,
    ]
    for index, row in enumerate(rows):
        y = index * group
        name = str(row.get(label) if row.get(label) is not None else "(none)")
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar * len(series) / 2 + 4}" '
            f'text-anchor="end" class="chart__label">{escape(name[:28])}</text>'
        )
        for position, (key, _legend) in enumerate(series):
            value = row.get(key)
            length = 0 if not value else max(1.0, plot * value / top)
            top_y = y + position * bar
            parts.append(
                f'<rect x="{label_width}" y="{top_y}" width="{length:.1f}" '
                f'height="{bar - 2}" class="{SERIES_CLASSES[position % 3]}"/>'
            )
            parts.append(
                f'<text x="{label_width + length + 4:.1f}" y="{top_y + bar - 4}" '
                f'class="chart__value">{escape(_shown(value, seconds, percent))}</text>'
            )
    legend_y = group * len(rows) + 14
    x = label_width
    for position, (_key, legend) in enumerate(series):
        parts.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="12" height="10" '
            f'class="{SERIES_CLASSES[position % 3]}"/>'
            f'<text x="{x + 16}" y="{legend_y}" class="chart__label">'
            f"{escape(legend)}</text>"
        )
        x += 24 + 8 * len(legend)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text is escaped above)


def column_chart(points: list[tuple[str, int]], *, title: str) -> SafeString:
    """Vertical columns, one per period (``[(label, count)]``)."""
    if not points:
        return mark_safe("")
    width, height, bottom = 640, 220, 30
    top = max(count for _, count in points) or 1
    step = width / len(points)
    column = max(2.0, step * 0.7)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    every = max(1, math.ceil(len(points) / 10))
    for index, (label, count) in enumerate(points):
        length = (height - bottom - 16) * count / top
        x = index * step + (step - column) / 2
        y = height - bottom - length
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{column:.1f}" height="{length:.1f}" '
            f'class="chart__bar"><title>{escape(label)}: {count}</title></rect>'
        )
        if count and len(points) <= 26:
            parts.append(
                f'<text x="{x + column / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                f'class="chart__value">{count}</text>'
            )
        if index % every == 0:
            parts.append(
                f'<text x="{x + column / 2:.1f}" y="{height - 12}" text-anchor="middle" '
                f'class="chart__label">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text is escaped above)


def _shown(value, seconds: bool, percent: bool) -> str:
    if value is None:
        return "–"
    if seconds:
        return format_seconds(value)
    if percent:
        return f"{value:.0%}"
    return str(value)
