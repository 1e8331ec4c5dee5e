"""How an alert sender proves which integration it is: one DRF authentication
class shared by every intake endpoint, and the throttle that applies the
integration's delivery budget."""

from __future__ import annotations

from django.conf import settings
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.throttling import BaseThrottle

from incidentops import throttle
from incidents.ingestion.batch import MalformedAlert
from incidents.ingestion.body import decode_json, read_capped_body
from incidents.ingestion.parsers import events_v2
from incidents.ingestion.ratelimit import rate_limit_hit
from incidents.ingestion.sharedcache import first_row
from incidents.models import Integration

REALM = 'Bearer realm="alerts"'


class IntegrationBearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <secret>`` for the integration named in the URL
    (``pk``); an inactive or unknown integration is refused like a wrong secret.

    For ``events-v2`` integrations without that header, the body's
    ``routing_key`` may carry the secret instead, as PagerDuty's senders put it
    there and cannot add headers; the body is then read (capped) and decoded
    here, and kept on the request for the view (``request.ingest_payload``).

    Success: ``request.user`` is the integration's service account and
    ``request.auth`` the ``Integration`` (with its service account and default
    type loaded). Failure: 401 ``not_authenticated`` with
    ``WWW-Authenticate: Bearer realm="alerts"``; the comparison is constant-time
    against the stored hash. Wrong secrets are counted per client address and
    integration (``incidentops.throttle``): past ``INGEST_AUTH_FAILURE_LIMIT``
    in ``INGEST_AUTH_FAILURE_WINDOW`` seconds, 429.
    """

    def authenticate(self, request):
        # Wrong secrets per client address and integration: over
        # INGEST_AUTH_FAILURE_LIMIT in the window, 429 (even for the right one).
        self._subject = f"{throttle.client_address(request)}|" + str(
            request.parser_context["kwargs"].get("pk")
        )
        if throttle.blocked(
            "ingest-secret", self._subject, limit=settings.INGEST_AUTH_FAILURE_LIMIT
        ):
            raise exceptions.Throttled(
                wait=settings.INGEST_AUTH_FAILURE_WINDOW,
                detail="Too many wrong integration secrets from this address; "
                "try again later.",
            )
        pk = request.parser_context["kwargs"].get("pk")
        integration = first_row(
            Integration.objects.filter(pk=pk, is_active=True).select_related(
                "service_account", "default_incident_type"
            )
        )
        if integration is None:
            self._refuse()
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _, secret = header.partition(" ")
            if scheme.lower() == "bearer" and integration.check_secret(secret.strip()):
                return (integration.service_account, integration)
            self._refuse()
        if integration.kind == events_v2.KIND:
            payload = self._payload(request)
            key = payload.get("routing_key") if isinstance(payload, dict) else None
            if isinstance(key, str) and integration.check_secret(key.strip()):
                return (integration.service_account, integration)
        self._refuse()

    def authenticate_header(self, request) -> str:
        return REALM

    @staticmethod
    def _payload(request):
        try:
            payload = decode_json(read_capped_body(request))
        except MalformedAlert:
            return None
        request.ingest_payload = payload
        return payload

    def _refuse(self):
        throttle.count(
            "ingest-secret", self._subject, window=settings.INGEST_AUTH_FAILURE_WINDOW
        )
        raise exceptions.NotAuthenticated(
            "A valid integration secret is required (Authorization: Bearer, or "
            "routing_key for Events API v2)."
        )


class IntegrationRateThrottle(BaseThrottle):
    """The integration's ``rate_limit_per_minute`` (``ratelimit.rate_limit_hit``:
    shared across processes, fails open). Refused: 429 with ``Retry-After``."""

    def allow_request(self, request, view) -> bool:
        self._wait = rate_limit_hit(integration=request.auth)
        return not self._wait

    def wait(self) -> int:
        return self._wait
