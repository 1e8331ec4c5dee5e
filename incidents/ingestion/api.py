"""The intake endpoint: ``POST /api/v1/integrations/<id>/alerts/``.

Authentication (``IntegrationBearerAuthentication``) and the delivery budget
(``IntegrationRateThrottle``) are shared DRF classes; the body is read capped
(``body.read_capped_body``) and decoded with a depth limit before the
integration's parser (``parsers``) reads it; ``alert_ingest`` stores it.
"""

from __future__ import annotations

from drf_spectacular.utils import (
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from incidentops.api import ERROR
from incidents.ingestion import parsers
from incidents.ingestion.auth import (
    IntegrationBearerAuthentication,
    IntegrationRateThrottle,
)
from incidents.ingestion.body import decode_json, read_capped_body
from incidents.ingestion.parsers import events_v2
from incidents.ingestion.service import alert_ingest


class AlertAcceptedSerializer(serializers.Serializer):
    incident = serializers.CharField(
        allow_null=True,
        help_text="The incident's reference; null for a resolve or acknowledge "
        "of a key that never had an incident.",
    )
    created = serializers.BooleanField()
    status = serializers.CharField(
        required=False, help_text='Events API v2 only: "success".'
    )
    message = serializers.CharField(
        required=False, help_text='Events API v2 only: "Event processed".'
    )
    dedup_key = serializers.CharField(
        required=False, help_text="Events API v2 only: the event's dedup key."
    )


# PagerDuty's own words for its refusals, for senders that read them.
_EVENTS_V2_STATUS = {400: "invalid event", 429: "throttle event"}


class AlertIngestView(APIView):
    """``POST /api/v1/integrations/<id>/alerts/``: one delivery from a sender."""

    authentication_classes = [IntegrationBearerAuthentication]
    permission_classes = [AllowAny]  # the authentication refuses strangers
    throttle_classes = [IntegrationRateThrottle]
    parser_classes: list = []

    @extend_schema(
        operation_id="alerts_ingest",
        summary="Deliver alerts from an integration",
        description="The body is the integration's format: the Prometheus "
        "Alertmanager webhook body (version 4) or Grafana's alerting webhook "
        "(version 1) for `alertmanager` integrations; the generic shape for "
        "`generic`; a PagerDuty Events API v2 event for `events-v2` (which may "
        "carry the secret as `routing_key` instead of the header). One open "
        "incident per group key / dedup key, the whole key. Bodies over "
        "INGEST_MAX_BODY_BYTES (default 10 MiB) get 413, refusals store nothing.",
        auth=[{"integrationBearer": []}],
        request=PolymorphicProxySerializer(
            component_name="AlertDelivery",
            serializers=[m.PayloadSerializer for m in parsers.PARSERS.values()],
            resource_type_field_name=None,
        ),
        responses={
            202: AlertAcceptedSerializer,
            400: ERROR,
            401: ERROR,
            413: ERROR,
            429: ERROR,
        },
    )
    def post(self, request, pk: int):
        integration = request.auth
        payload = getattr(request, "ingest_payload", None)
        if payload is None:
            payload = decode_json(read_capped_body(request))
        batch = parsers.parse(integration.kind, payload)
        result = alert_ingest(integration=integration, batch=batch)
        body = {
            "incident": result.incident.reference if result.incident else None,
            "created": result.created,
        }
        if integration.kind == events_v2.KIND:
            body = {
                "status": "success",
                "message": "Event processed",
                "dedup_key": batch.group_key,
                **body,
            }
        return Response(body, status=status.HTTP_202_ACCEPTED)

    def throttled(self, request, wait):
        raise exceptions.Throttled(
            wait,
            detail=f"Over {request.auth.rate_limit_per_minute} deliveries a minute.",
        )

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        integration = getattr(self.request, "auth", None)
        label = _EVENTS_V2_STATUS.get(response.status_code)
        if label and getattr(integration, "kind", None) == events_v2.KIND:
            detail = response.data.get("detail", "")
            response.data = {"status": label, "message": detail, **response.data}
        return response
