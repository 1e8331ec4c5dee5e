"""Small shared-cache and database helpers for the intake's hot path.

The shared cache is Redis in production (``REDIS_URL``). Django's Redis cache
builds a new redis-py client object, with its table of response callbacks, for
every operation, which costs more than the round trip itself; on the hot path
this module keeps one client per connection pool instead, and falls back to the
plain cache API for any other backend.
"""

from __future__ import annotations

from django.core.cache import cache

_redis_clients: dict[int, object] = {}


def redis_client():
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
