"""Who may see and change models, runs and imports. Models and runs are for organization admins and team managers
(MANAGE_PROJECTS): anyone else is a 403; another organization's model or run is a 404. Pre-label imports and their
figures follow the project (`manage` to import, `view_work` to read the figures)."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.accounts.access import require_org_perm
from apps.accounts.models import User
from apps.accounts.roles import MANAGE_PROJECTS
from apps.core.access import get_in_organization
from apps.predictions.models import Model, ModelEndpoint, ModelRun

_MESSAGE = "Only organization admins and team managers may work with models."


def require_model_manager(actor: User) -> None:
    require_org_perm(actor, MANAGE_PROJECTS, _MESSAGE)


def models_visible_to(actor: User) -> QuerySet[Model]:
    require_model_manager(actor)
    queryset = Model.objects.select_related("ontology")
    if actor.is_superuser:
        return queryset
    return queryset.filter(organization_id=actor.organization_id or "")


def access_model(actor: User, model_id: object) -> Model:
    require_model_manager(actor)
    return get_in_organization(Model.objects.select_related("ontology"), actor, model_id)


def access_model_run(actor: User, run_id: object) -> ModelRun:
    require_model_manager(actor)
    queryset = ModelRun.objects.select_related("model", "model__organization", "ontology_version")
    return get_in_organization(queryset, actor, run_id, organization_field="model__organization")


def endpoints_visible_to(actor: User) -> QuerySet[ModelEndpoint]:
    require_model_manager(actor)
    queryset = ModelEndpoint.objects.select_related("ontology").order_by("name", "id")
    if actor.is_superuser:
        return queryset
    return queryset.filter(organization_id=actor.organization_id or "")


def access_model_endpoint(actor: User, endpoint_id: object) -> ModelEndpoint:
    require_model_manager(actor)
    return get_in_organization(ModelEndpoint.objects.select_related("ontology", "model"), actor, endpoint_id)
