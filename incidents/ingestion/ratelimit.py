"""The per-integration delivery budget: a fixed one-minute window in the shared
cache (Redis in production), so every process counts against one budget.

It fails open: when the cache cannot be reached, the delivery is accepted and a
warning is logged. Losing an outage's alerts because the rate limiter's store
is down would be the worse failure; the budget exists to shed floods, not to
guard correctness (the database keeps one incident per key regardless).
"""

from __future__ import annotations

import logging
import time

from incidents.ingestion import sharedcache

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
# After a cache failure, this process stops asking for a while rather than make
# every delivery wait for the connection timeout. Local to the process: it only
# decides how soon to ask again, never what the budget is.
RETRY_CACHE_AFTER = 10.0
_cache_down_until = 0.0


def rate_limit_hit(*, integration, now: float | None = None) -> int:
    """Count one delivery against ``integration.rate_limit_per_minute``.

    Returns 0 when within budget (or when the cache is unreachable: fail open,
    logged), else the seconds until the window ends, for ``Retry-After``.
    ``now`` is epoch seconds (default: the real time).
    """
    global _cache_down_until
    now = time.time() if now is None else now
    if time.monotonic() < _cache_down_until:
        return 0
    window = int(now // WINDOW_SECONDS)
    key = f"ingest-rate:{integration.pk}:{window}"
    try:
        count = sharedcache.count(key, expire=WINDOW_SECONDS + 30)
    except Exception as error:  # noqa: BLE001 - any cache failure fails open
        _cache_down_until = time.monotonic() + RETRY_CACHE_AFTER
        logger.warning(
            "Rate limit not checked for integration %s: the cache is unavailable "
            "(%s: %s); deliveries are accepted unchecked for %.0f s.",
            integration.pk,
            type(error).__name__,
            error,
            RETRY_CACHE_AFTER,
        )
        return 0
    if count <= integration.rate_limit_per_minute:
        return 0
    return max(1, (window + 1) * WINDOW_SECONDS - int(now))
