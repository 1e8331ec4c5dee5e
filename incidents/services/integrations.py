"""Alert integrations: creation and secret rotation."""

from __future__ import annotations

from django.db import transaction

from incidentops.exceptions import DomainError
from incidents import permissions
from incidents.ingestion.severity import default_label_map
from incidents.models import (
    IncidentType,
    Integration,
    SeverityLevel,
)
from incidents.services.base import (
    _require,
    _save,
)


@transaction.atomic
def integration_create(
    *,
    actor,
    name: str,
    kind: str,
    service_account,
    default_incident_type: IncidentType | None = None,
    severity_label_map: dict[str, str] | None = None,
    resolve_moves_to_mitigated: bool = False,
    rate_limit_per_minute: int = 1200,
) -> tuple[Integration, str]:
    """Create an alert integration; returns it and its secret, shown only now.

    Changes: a new ``Integration`` storing only the secret's hash; its label map
    is ``severity_label_map`` with its words lower-cased (None: the default
    words, ``ingestion.severity.DEFAULT_SEVERITY_LABEL_MAP``). Sends nothing.
    Raises: ``NotPermitted`` unless ``actor`` may manage integrations
    (``actor=None``: the system, e.g. a management command); ``DomainError`` for
    an unknown kind, a duplicate name, an account that is not a service account
    or a label map naming unknown severities.
    """
    if actor is not None:
        _require(
            permissions.can_manage_integrations(actor),
            "You may not manage integrations.",
        )
    if kind not in Integration.Kind.values:
        raise DomainError(f"Unknown integration kind {kind!r}.", field="kind")
    if not service_account.is_service_account:
        raise DomainError(
            "An integration acts through a service account.", field="service_account"
        )
    if Integration.objects.filter(name=name).exists():
        raise DomainError(f"An integration named {name!r} exists.", field="name")
    if severity_label_map is None:
        severity_label_map = default_label_map()
    label_map = {str(k).strip().lower(): v for k, v in severity_label_map.items()}
    unknown = set(label_map.values()) - set(
        SeverityLevel.objects.values_list("code", flat=True)
    )
    if unknown:
        raise DomainError(
            "Unknown severities in the label map: " + ", ".join(sorted(unknown)),
            field="severity_label_map",
        )
    secret = Integration.generate_secret()
    integration = Integration(
        name=name,
        kind=kind,
        service_account=service_account,
        default_incident_type=default_incident_type,
        severity_label_map=label_map,
        resolve_moves_to_mitigated=resolve_moves_to_mitigated,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    integration.set_secret(secret)
    _save(integration, actor)
    return integration, secret


@transaction.atomic
def integration_rotate_secret(*, integration: Integration, actor) -> str:
    """Replace an integration's secret; returns the new one, shown only now.

    Changes: ``secret_hash``. Sends nothing. Raises ``NotPermitted`` unless
    ``actor`` may manage integrations (``None``: the system).
    """
    if actor is not None:
        _require(
            permissions.can_manage_integrations(actor),
            "You may not manage integrations.",
        )
    secret = Integration.generate_secret()
    integration.set_secret(secret)
    _save(integration, actor)
    return secret
