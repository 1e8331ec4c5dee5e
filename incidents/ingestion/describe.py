"""The description of an incident opened by alerts: every alert of the first
delivery by name, what it says and what sets it apart, bounded for big groups."""

from __future__ import annotations

from collections import Counter

from incidents.ingestion.batch import FIRING, TEXT_LIMIT, Alert, AlertBatch, clip

LISTED_ALERTS = 50  # alerts named one by one; the rest are counted by name
_LINE_LIMIT = 300


def _distinct_labels(alert: Alert, common: dict[str, str]) -> str:
    own = {
        k: v for k, v in alert.labels.items() if k != "alertname" and common.get(k) != v
    }
    return ", ".join(f"{k}={v}" for k, v in sorted(own.items()))


def _line(alert: Alert, common: dict[str, str]) -> str:
    line = f"- {alert.name or alert.fingerprint}"
    labels = _distinct_labels(alert, common)
    if labels:
        line += f" [{labels}]"
    if alert.status != FIRING:
        line += f" ({alert.status})"
    if alert.text:
        line += f": {alert.text}"
    return clip(" ".join(line.split()), _LINE_LIMIT)


def _common_labels(alerts: tuple[Alert, ...]) -> dict[str, str]:
    if not alerts:
        return {}
    common = dict(alerts[0].labels)
    for alert in alerts[1:]:
        common = {k: v for k, v in common.items() if alert.labels.get(k) == v}
    return common


def alert_list(batch: AlertBatch) -> str:
    """One line per alert (at most ``LISTED_ALERTS``), then a count by name of
    the rest and of the alerts the sender left out (``truncatedAlerts``)."""
    alerts = batch.alerts
    common = _common_labels(alerts) if len(alerts) > 1 else {}
    firing = sum(1 for a in alerts if a.status == FIRING)
    lines = [f"Alerts in the first notification: {len(alerts)} ({firing} firing)."]
    lines += [_line(a, common) for a in alerts[:LISTED_ALERTS]]
    rest = alerts[LISTED_ALERTS:]
    if rest:
        by_name = Counter(a.name or "unnamed" for a in rest)
        named = ", ".join(f"{n} × {name}" for name, n in by_name.most_common(10))
        more = len(by_name) - 10
        lines.append(
            f"… and {len(rest)} more: {named}"
            + (f" and {more} other names" if more > 0 else "")
            + ". Every alert is in the incident's alert table."
        )
    if batch.truncated_alerts:
        lines.append(
            f"… and {batch.truncated_alerts} more not sent by Alertmanager "
            "(its max_alerts setting)."
        )
    return "\n".join(lines)


def incident_description(batch: AlertBatch) -> str:
    """The sender's own text, then the alert list; at most ``TEXT_LIMIT``
    characters. A single alert that only repeats the title is not listed."""
    parts = [batch.description.strip()] if batch.description.strip() else []
    single = len(batch.alerts) == 1 and not batch.truncated_alerts
    if not single or batch.alerts[0].labels:
        parts.append(alert_list(batch))
    return clip("\n\n".join(parts), TEXT_LIMIT)
