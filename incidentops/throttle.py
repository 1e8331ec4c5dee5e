"""Counting attempts per client address or account, for what a brute-forcer
would hammer besides the login forms (which django-axes guards): wrong API
tokens, wrong ingestion secrets and password-reset requests.

Counts live in the shared cache (Redis in production), one fixed window per
key. Like the ingestion budget it fails open: when the cache cannot be reached
nothing is refused and a warning is logged, since locking everyone out while
Redis is down would be the worse failure.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.core.cache import cache

from incidentops import sharedcache

logger = logging.getLogger(__name__)
# After a cache failure this process stops asking for a while rather than make
# every request wait for the connection timeout (it decides only how soon to
# ask again, never a count).
RETRY_CACHE_AFTER = 10.0
_cache_down_until = 0.0


def _cache_down(scope: str, error: Exception) -> None:
    global _cache_down_until
    _cache_down_until = time.monotonic() + RETRY_CACHE_AFTER
    logger.warning(
        "Throttle %s not applied: the cache is unavailable (%s); not limiting "
        "for %.0f s.",
        scope,
        type(error).__name__,
        RETRY_CACHE_AFTER,
    )


def _key(scope: str, subject: str) -> str:
    digest = hashlib.sha256(subject.encode("utf-8", "replace")).hexdigest()[:32]
    return f"throttle:{scope}:{digest}"


def client_address(request) -> str:
    """The client's address as the server saw it (``REMOTE_ADDR``; behind a
    proxy, configure it to set that header)."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def blocked(scope: str, subject: str, *, limit: int) -> bool:
    """Whether ``subject`` reached ``limit`` attempts in its current window
    (False when the cache is unreachable)."""
    if time.monotonic() < _cache_down_until:
        return False
    try:
        return sharedcache.get_count(_key(scope, subject)) >= limit
    except Exception as error:  # noqa: BLE001 - any cache failure fails open
        _cache_down(scope, error)
        return False


def count(scope: str, subject: str, *, window: int) -> int:
    """Count one attempt for ``subject`` in a window of ``window`` seconds that
    starts with its first attempt; returns the count (0 when the cache is
    unreachable)."""
    if time.monotonic() < _cache_down_until:
        return 0
    key = _key(scope, subject)
    try:
        if cache.add(key, 1, timeout=window):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window)
            return 1
    except Exception as error:  # noqa: BLE001 - any cache failure fails open
        _cache_down(scope, error)
        return 0
