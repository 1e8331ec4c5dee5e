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

from django.core.cache import cache

logger = logging.getLogger(__name__)
WINDOW_SECONDS = 60
# After a cache failure, this process stops asking for a while rather than make
# every delivery wait for the connection timeout. Local to the process: it only
# decides how soon to ask again, never what the budget is.
RETRY_CACHE_AFTER = 10.0
_cache_down_until = 0.0


# One redis-py client per connection pool: Django's Redis cache builds a new
# client object (and its table of response callbacks) for every operation,
# which costs more than the round trip itself.
_redis_clients: dict[int, object] = {}


def _redis(full_key: str):
    """A redis-py client for Django's Redis cache backend, or None for any
    other backend. (It reads that backend's connection pool, a private detail
    of ``django.core.cache.backends.redis``; anything unexpected means None.)"""
    backend = getattr(cache, "_cache", None)
    get_pool = getattr(backend, "_get_connection_pool", None)
    factory = getattr(backend, "_client", None)
    if get_pool is None or factory is None:
        return None
    pool = get_pool(write=True)
    client = _redis_clients.get(id(pool))
    if client is None:
        client = _redis_clients[id(pool)] = factory(connection_pool=pool)
    return client


def _count(key: str) -> int:
    """Add one to the window's counter and return it: on Redis one round trip
    (INCR, then EXPIRE only if the key has none), elsewhere ``incr``/``add``."""
    full_key = cache.make_and_validate_key(key)
    client = _redis(full_key)
    if client is not None:
        pipe = client.pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, WINDOW_SECONDS + 30, nx=True)
        count, _ = pipe.execute()
        return int(count)
    try:
        return cache.incr(key)
    except ValueError:  # not there yet, or expired between the calls
        if cache.add(key, 1, timeout=WINDOW_SECONDS + 30):
            return 1
        return cache.incr(key)


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
        count = _count(key)
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
