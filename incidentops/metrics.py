"""``GET /metrics``: operational figures in the Prometheus text format, written
by the official ``prometheus-client`` library.

Every figure is read from the database at scrape time (a custom collector), so
it is the same whichever process answers: nothing is counted in one process's
memory. Apps add their figures with ``register(key, collect)`` in
``AppConfig.ready()``, where ``collect()`` yields ``prometheus_client`` metric
families (``GaugeMetricFamily``, ``CounterMetricFamily``); this module imports
no app above it.

Access: with ``METRICS_TOKEN`` set, a request must carry ``Authorization:
Bearer <token>`` (401 otherwise); without it, only clients in
``METRICS_ALLOWED_NETWORKS`` (default loopback) are answered (403 otherwise).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.http import require_GET

_collectors: dict[str, Callable[[], Iterable]] = {}
_process_metrics: dict[str, Callable[[], object]] = {}


def register(key: str, collect: Callable[[], Iterable]) -> None:
    """Add ``collect`` under ``key`` (replacing one registered under it)."""
    _collectors[key] = collect


def register_process_metric(key: str, metric: Callable[[], object]) -> None:
    """A metric measured in the processes themselves (a ``Histogram`` of
    latencies): ``metric()`` returns it, or None when ``prometheus-client`` is
    missing. With ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn, several
    processes) every process's values are summed from that directory, as
    ``prometheus-client``'s multiprocess mode does; without it, the answering
    process's own values are shown."""
    _process_metrics[key] = metric


class _DatabaseCollector:
    def collect(self):
        for collect in list(_collectors.values()):
            yield from collect()


def _allowed(request) -> int | None:
    """None when the request may read the metrics, else the status to answer."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        ok = given.startswith("Bearer ") and hmac.compare_digest(
            given[7:].strip().encode(), token.encode()
        )
        return None if ok else 401
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return 403
    for network in settings.METRICS_ALLOWED_NETWORKS:
        if address in ipaddress.ip_network(network, strict=False):
            return None
    return 403


@require_GET
def metrics_view(request):
    """The registered figures, ``text/plain; version=0.0.4``."""
    refused = _allowed(request)
    if refused is not None:
        response = HttpResponse(
            "Not allowed.\n", status=refused, content_type="text/plain"
        )
        if refused == 401:
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        generate_latest,
    )

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_DatabaseCollector())
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        for metric in _process_metrics.values():
            collector = metric()
            if collector is not None:
                registry.register(collector)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
