"""Alert ingestion: what monitoring systems post, turned into incidents and alerts.

- ``batch``: the normalised shape (``AlertBatch`` of ``Alert``) and its helpers;
- ``parsers``: one module per sender format (Alertmanager v4 and Grafana,
  generic JSON, PagerDuty Events API v2), each with samples;
- ``body``: the capped body read and the JSON depth check;
- ``severity``: sender words to suggested severities;
- ``ratelimit``: the per-integration budget (fails open);
"""

from incidents.ingestion.batch import (
    ALERT_STATUSES,
    FIRING,
    RESOLVED,
    Alert,
    AlertBatch,
    MalformedAlert,
)
from incidents.ingestion.ratelimit import rate_limit_hit

__all__ = [
    "ALERT_STATUSES",
    "FIRING",
    "RESOLVED",
    "Alert",
    "AlertBatch",
    "MalformedAlert",
    "rate_limit_hit",
]
