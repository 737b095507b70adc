"""Model endpoints: create, change, delete, the encrypted auth secret, the health/setup check.

The secret is encrypted with Fernet (`TDP_ENDPOINT_SECRET_KEYS`, else a key derived from SECRET_KEY) and decrypted
only to build the outgoing header; audit records list which fields changed, never their values."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.audit import audit_record
from apps.core.errors import Conflict, ValidationFailed
from apps.core.url_safety import validate_outbound_url
from apps.ontologies.models import Ontology, OntologyVersion
from apps.predictions.models import EndpointKind, EndpointProtocol, Model, ModelEndpoint

NEEDS_ONTOLOGY = (EndpointKind.DETECTOR, EndpointKind.CLASSIFIER, EndpointKind.INTERACTIVE)
_HEADER = re.compile(r"^[A-Za-z0-9-]{1,100}$")
LIMITS = {"timeout_seconds": (0.1, 300.0), "batch_size": (1, 1000), "max_concurrency": (1, 64)}
EDITABLE = (
    "name",
    "url",
    "kind",
    "protocol",
    "ontology",
    "class_map",
    "secret",
    "secret_header",
    "timeout_seconds",
    "batch_size",
    "max_concurrency",
)


def _fernet() -> MultiFernet:
    keys = list(getattr(settings, "TDP_ENDPOINT_SECRET_KEYS", []) or [])
    if not keys:
        digest = hashlib.sha256(b"tdp.model-endpoint-secrets:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode() if secret else ""


def secret_decrypt(endpoint: ModelEndpoint) -> str:
    if not endpoint.secret_encrypted:
        return ""
    try:
        return _fernet().decrypt(endpoint.secret_encrypted.encode()).decode()
    except InvalidToken:
        raise ValidationFailed(
            "The endpoint's secret cannot be decrypted with the configured keys (TDP_ENDPOINT_SECRET_KEYS); set it "
            "again.",
            code="secret_unreadable",
        ) from None


def ontology_features(ontology: Ontology | None) -> list[dict[str, Any]]:
    """The current version's tools and top-level classifications, as the protocols describe them."""
    if ontology is None or not ontology.current_version:
        return []
    version = OntologyVersion.objects.get(ontology_id=ontology.pk, number=ontology.current_version)
    tree = version.tree or {}
    features: list[dict[str, Any]] = []
    for tool in tree.get("tools", []):
        if not tool.get("archived"):
            features.append({"name": tool["name"], "schema_id": str(tool.get("schema_id", "")), "tool": tool["tool"]})
    for question in tree.get("classifications", []):
        if not question.get("archived"):
            options = [o.get("value") for o in question.get("options", []) if not o.get("archived")]
            features.append(
                {
                    "name": question["name"],
                    "schema_id": str(question.get("schema_id", "")),
                    "tool": question.get("type"),
                    "options": options,
                }
            )
    return features


def _error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={field: [message]})


def model_endpoint_validate(values: dict[str, Any], endpoint: ModelEndpoint, organization_id: Any) -> None:
    """Apply and check `values` on `endpoint` (not saved). Raises ValidationFailed (UnsafeURL for the URL)."""
    if "name" in values:
        name = str(values["name"] or "").strip()
        if not name or len(name) > 200:
            raise _error("name", "A name of 1 to 200 characters is required.")
        endpoint.name = name
    if "url" in values:
        url = str(values["url"] or "").strip().rstrip("/")
        validate_outbound_url(url)  # refused at save: private addresses unless allow-listed (UnsafeURL is a 400)
        endpoint.url = url
    if "kind" in values:
        if values["kind"] not in EndpointKind.values:
            raise _error("kind", f"One of {', '.join(EndpointKind.values)}.")
        endpoint.kind = values["kind"]
    if "protocol" in values:
        if values["protocol"] not in EndpointProtocol.values:
            raise _error("protocol", f"One of {', '.join(EndpointProtocol.values)}.")
        endpoint.protocol = values["protocol"]
    if "ontology" in values:
        ontology = values["ontology"]
        if ontology is not None and ontology.organization_id != organization_id:
            raise _error("ontology", "No such ontology in your organization.")
        endpoint.ontology = ontology
    for field, (low, high) in LIMITS.items():
        if field in values:
            value = values[field]
            integer = field != "timeout_seconds"
            ok = isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high
            if not ok or (integer and int(value) != value):
                kind = "an integer" if integer else "a number"
                raise _error(field, f"Must be {kind} from {low:g} to {high:g}.")
            setattr(endpoint, field, int(value) if integer else float(value))
    if "secret_header" in values:
        header = str(values["secret_header"] or "")
        if not _HEADER.match(header):
            raise _error("secret_header", "A header name of letters, digits and dashes.")
        endpoint.secret_header = header
    if "secret" in values:
        secret = values["secret"] or ""
        if not isinstance(secret, str) or len(secret) > 4096 or any(c in secret for c in "\r\n\0"):
            raise _error("secret", "At most 4096 characters on one line.")
        endpoint.secret_encrypted = secret_encrypt(secret)
    if endpoint.kind in NEEDS_ONTOLOGY and endpoint.ontology is None:
        raise _error("ontology", f"A {endpoint.kind} endpoint answers in an ontology's features: name one.")
    if "class_map" in values or "ontology" in values:
        _check_class_map(values.get("class_map", endpoint.class_map), endpoint)


def _check_class_map(class_map: Any, endpoint: ModelEndpoint) -> None:
    if not isinstance(class_map, dict) or len(class_map) > 5000:
        raise _error("class_map", 'An object {"model class": "feature name"} (at most 5000 entries).')
    names = {f["name"] for f in ontology_features(endpoint.ontology)}
    bad = [v for k, v in class_map.items() if not isinstance(v, str) or len(str(k)) > 200 or v not in names]
    if bad:
        raise _error("class_map", f"Not a feature of the ontology: {', '.join(map(str, bad[:5]))}.")
    endpoint.class_map = class_map


def _changed_fields(values: dict[str, Any]) -> list[str]:
    return sorted(k for k in values if k in EDITABLE)


def _model_for(endpoint: ModelEndpoint, actor: User | None) -> None:
    """Predictions of the endpoint go to runs of a model named after it (created once, on its ontology)."""
    if endpoint.ontology is None or (endpoint.model is not None and endpoint.model.ontology_id == endpoint.ontology_id):
        return
    name = f"{endpoint.name} (endpoint)"
    model = Model.objects.filter(organization_id=endpoint.organization_id, name=name).first()
    if model is None or model.ontology_id != endpoint.ontology_id:
        suffix = "" if model is None else f" {timezone.now():%Y%m%d%H%M%S}"
        model = Model.objects.create(
            organization_id=endpoint.organization_id,
            name=f"{name}{suffix}"[:200],
            ontology=endpoint.ontology,
            description=f"Predictions of the model endpoint {endpoint.name}.",
            created_by=actor,
        )
    endpoint.model = model


@transaction.atomic
def model_endpoint_create(*, actor: User, values: dict[str, Any]) -> ModelEndpoint:
    if actor.organization_id is None:
        raise ValidationFailed("Only members of an organization may add model endpoints.")
    missing = [f for f in ("name", "url") if not values.get(f)]
    if missing:
        raise ValidationFailed("Name and URL are required.", details={f: ["Required."] for f in missing})
    endpoint = ModelEndpoint(organization_id=actor.organization_id, created_by=actor)
    model_endpoint_validate(values, endpoint, actor.organization_id)
    return _endpoint_save(actor, endpoint, values, "model_endpoint.created")


@transaction.atomic
def model_endpoint_update(*, actor: User, endpoint: ModelEndpoint, values: dict[str, Any]) -> ModelEndpoint:
    model_endpoint_validate(values, endpoint, endpoint.organization_id)
    return _endpoint_save(actor, endpoint, values, "model_endpoint.updated")


def _endpoint_save(actor: User, endpoint: ModelEndpoint, values: dict[str, Any], action: str) -> ModelEndpoint:
    """Save a validated endpoint (its model record with it) and audit which fields changed, never their values."""
    try:
        with transaction.atomic():
            _model_for(endpoint, actor)
            endpoint.save()
    except IntegrityError:
        raise Conflict(f"A model endpoint named {endpoint.name!r} exists.", code="model_endpoint_exists") from None
    audit_record(
        action=action,
        actor=actor,
        organization=endpoint.organization,
        target=endpoint,
        extra={"fields": _changed_fields(values)},
    )
    return endpoint


@transaction.atomic
def model_endpoint_delete(*, actor: User, endpoint: ModelEndpoint) -> None:
    audit_record(action="model_endpoint.deleted", actor=actor, organization=endpoint.organization, target=endpoint)
    endpoint.delete()
