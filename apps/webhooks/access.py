"""Only organization admins manage webhooks: others get 403; another organization's webhook is a 404."""

from __future__ import annotations

from typing import Any

from apps.accounts.access import require_org_perm
from apps.accounts.models import Organization, User
from apps.accounts.roles import MANAGE_ORGANIZATION
from apps.core.access import get_in_organization
from apps.core.errors import NotFound, ValidationFailed
from apps.core.ids import is_uuid
from apps.webhooks.models import Webhook, WebhookDelivery

_MESSAGE = "Only organization admins may manage webhooks."


def require_webhook_admin(actor: User) -> Organization:
    organization = require_org_perm(actor, MANAGE_ORGANIZATION, _MESSAGE)
    if organization is None:
        raise ValidationFailed("You belong to no organization.", details={"organization": ["Webhooks belong to one."]})
    return organization


def access_webhook(actor: User, webhook_id: Any) -> Webhook:
    require_org_perm(actor, MANAGE_ORGANIZATION, _MESSAGE)
    return get_in_organization(Webhook.objects.select_related("organization"), actor, webhook_id)


def access_delivery(actor: User, webhook_id: Any, delivery_id: Any) -> WebhookDelivery:
    webhook = access_webhook(actor, webhook_id)
    delivery = (
        WebhookDelivery.objects.filter(webhook=webhook, pk=delivery_id).select_related("event").first()
        if is_uuid(delivery_id)
        else None
    )
    if delivery is None:
        raise NotFound()
    return delivery
