from django.urls import path

from apps.catalog import apis

urlpatterns = [
    path("embeddings", apis.EmbeddingListCreateApi.as_view(), name="api-embeddings"),
    path("embeddings/<str:space_id>", apis.EmbeddingDetailApi.as_view(), name="api-embedding-detail"),
    path("embeddings/<str:space_id>/vectors", apis.EmbeddingVectorsApi.as_view(), name="api-embedding-vectors"),
    path("embeddings/<str:space_id>/analyses", apis.EmbeddingAnalysesApi.as_view(), name="api-embedding-analyses"),
    path("embeddings/<str:space_id>/similar", apis.EmbeddingSimilarApi.as_view(), name="api-embedding-similar"),
    path("datasets/<str:dataset_id>/similar", apis.DatasetSimilarApi.as_view(), name="api-dataset-similar"),
    path("datasets/<str:dataset_id>/projection", apis.DatasetProjectionApi.as_view(), name="api-dataset-projection"),
    path("datasets/<str:dataset_id>/outliers", apis.DatasetOutliersApi.as_view(), name="api-dataset-outliers"),
    path("datasets/<str:dataset_id>/drift", apis.DatasetDriftApi.as_view(), name="api-dataset-drift"),
    path("datasets/<str:dataset_id>/embed", apis.DatasetBuiltinEmbedApi.as_view(), name="api-dataset-embed"),
    path("slices", apis.SliceListCreateApi.as_view(), name="api-slices"),
    path("slices/<str:slice_id>", apis.SliceDetailApi.as_view(), name="api-slice-detail"),
    path("slices/<str:slice_id>/send", apis.SliceSendApi.as_view(), name="api-slice-send"),
    path("selection_targets", apis.SelectionTargetsApi.as_view(), name="api-selection-targets"),
    path("data_rows/<str:data_row_id>/lineage", apis.DataRowLineageApi.as_view(), name="api-data-row-lineage"),
]
