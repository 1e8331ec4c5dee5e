"""Small shared-cache and database helpers for the intake's hot path.

The shared cache is Redis in production (``REDIS_URL``); on the hot path this
module talks to it through one client per connection pool
(``incidentops.sharedcache.redis_client``), and falls back to the plain cache
API for any other backend.
"""

from __future__ import annotations

from django.core.cache import cache

from incidentops.sharedcache import redis_client

__all__ = ["add_flag", "count", "delete", "first_row", "redis_client"]


def count(key: str, *, expire: int) -> int:
    """Add one to ``key`` and return the count; the key expires ``expire``
    seconds after its first count. On Redis one round trip (INCR, then EXPIRE
    only if the key has none)."""
    full_key = cache.make_and_validate_key(key)
    client = redis_client()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, expire, nx=True)
        value, _ = pipe.execute()
        return int(value)
    try:
        return cache.incr(key)
    except ValueError:  # not there yet, or expired between the calls
        if cache.add(key, 1, timeout=expire):
            return 1
        return cache.incr(key)


def add_flag(key: str, *, seconds: int) -> bool:
    """Set ``key`` for ``seconds`` unless it is set; True if this call set it."""
    client = redis_client()
    if client is not None:
        return bool(
            client.set(cache.make_and_validate_key(key), 1, nx=True, ex=seconds)
        )
    return cache.add(key, 1, timeout=seconds)


def delete(key: str) -> None:
    cache.delete(key)


def first_row(queryset):
    """The first row without an ORDER BY (``first()`` adds one): for lookups
    that match one row at most, on every delivery."""
    return next(iter(queryset.order_by()[:1]), None)
