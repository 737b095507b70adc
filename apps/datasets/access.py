"""Who may do what with datasets. Any member of the organization reads; MANAGE_DATASETS writes; storage
integrations are the organization admin's. Another organization's object is a 404, like a missing one."""

from __future__ import annotations

from apps.accounts.access import require_org_perm
from apps.accounts.models import User
from apps.accounts.roles import MANAGE_DATASETS, MANAGE_ORGANIZATION
from apps.core.access import get_in_organization
from apps.datasets.models import DataRow, Dataset, StorageIntegration


def require_manage_datasets(actor: User) -> None:
    require_org_perm(actor, MANAGE_DATASETS, "Only admins and team managers may change datasets.")


def require_manage_storage(actor: User) -> None:
    require_org_perm(actor, MANAGE_ORGANIZATION, "Only organization admins may manage storage integrations.")


def access_dataset(actor: User, dataset_id: object, *, manage: bool = False) -> Dataset:
    dataset = get_in_organization(Dataset.objects.select_related("organization"), actor, dataset_id)
    if manage:
        require_manage_datasets(actor)
    return dataset


def access_data_row(actor: User, data_row_id: object, *, manage: bool = False) -> DataRow:
    data_row = get_in_organization(
        DataRow.objects.select_related("organization").prefetch_related("attachments"), actor, data_row_id
    )
    if manage:
        require_manage_datasets(actor)
    return data_row


def access_storage_integration(actor: User, integration_id: object) -> StorageIntegration:
    integration = get_in_organization(StorageIntegration.objects.select_related("organization"), actor, integration_id)
    require_manage_storage(actor)
    return integration


def access_storage_integration_for_import(actor: User, integration_id: object) -> StorageIntegration:
    """Reading rows from an integration's bucket (not changing the integration) is for those who change datasets:
    a dataset import may already name `s3://` rows served through the integration."""
    integration = get_in_organization(StorageIntegration.objects.select_related("organization"), actor, integration_id)
    require_manage_datasets(actor)
    return integration
