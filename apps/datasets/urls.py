from django.urls import path

from apps.datasets import apis, video_apis

urlpatterns = [
    path("datasets", apis.DatasetListCreateApi.as_view(), name="api-datasets"),
    path("datasets/<str:dataset_id>", apis.DatasetDetailApi.as_view(), name="api-dataset-detail"),
    path("datasets/<str:dataset_id>/data_rows", apis.DataRowListImportApi.as_view(), name="api-dataset-data-rows"),
    path(
        "datasets/<str:dataset_id>/data_rows/from_storage",
        apis.DataRowFromStorageApi.as_view(),
        name="api-dataset-data-rows-from-storage",
    ),
    path("datasets/<str:dataset_id>/uploads", apis.DataRowUploadApi.as_view(), name="api-dataset-uploads"),
    path("metadata_fields", apis.MetadataFieldListCreateApi.as_view(), name="api-metadata-fields"),
    path("data_rows", apis.DataRowSearchApi.as_view(), name="api-data-rows"),
    path("data_rows/<str:data_row_id>", apis.DataRowDetailApi.as_view(), name="api-data-row-detail"),
    path("data_rows/<str:data_row_id>/content", apis.DataRowContentApi.as_view(), name="api-data-row-content"),
    path("data_rows/<str:data_row_id>/video", video_apis.DataRowVideoApi.as_view(), name="api-data-row-video"),
    path(
        "data_rows/<str:data_row_id>/video/poster",
        video_apis.DataRowVideoImageApi.as_view(kind="poster"),
        name="api-data-row-video-poster",
    ),
    path(
        "data_rows/<str:data_row_id>/video/stream",
        video_apis.DataRowVideoStreamApi.as_view(),
        name="api-data-row-video-stream",
    ),
    path(
        "data_rows/<str:data_row_id>/video/strip",
        video_apis.DataRowVideoImageApi.as_view(kind="strip"),
        name="api-data-row-video-strip",
    ),
    path("storage_integrations", apis.StorageIntegrationListCreateApi.as_view(), name="api-storage-integrations"),
    path(
        "storage_integrations/<str:integration_id>",
        apis.StorageIntegrationDetailApi.as_view(),
        name="api-storage-integration-detail",
    ),
    path(
        "storage_integrations/<str:integration_id>/validate",
        apis.StorageIntegrationValidateApi.as_view(),
        name="api-storage-integration-validate",
    ),
]
