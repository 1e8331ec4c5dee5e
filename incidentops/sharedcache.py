"""One redis-py client per connection pool of the shared cache, for paths that
ask the cache on every request (the throttles, alert intake).

Django's Redis cache builds a new redis-py client object, with its table of
response callbacks, for every operation, which costs more than the round trip
itself. ``redis_client()`` keeps one client per connection pool instead; for
any other cache backend it answers None and callers use the plain cache API.
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


def get_count(key: str) -> int:
    """The integer stored at cache key ``key`` (0 when absent), as
    ``cache.incr`` / ``cache.add`` of an integer left it. Django's Redis
    serializer stores integers as their decimal text."""
    client = redis_client()
    if client is None:
        return int(cache.get(key) or 0)
    value = client.get(cache.make_and_validate_key(key))
    return int(value) if value is not None else 0
