from django.urls import path

from apps.exports import apis, video_apis

urlpatterns = [
    path("projects/<str:project_id>/export.ndjson", apis.ProjectExportStreamApi.as_view(), name="api-export-stream"),
    path(
        "projects/<str:project_id>/exports/video", video_apis.ProjectVideoExportApi.as_view(), name="api-video-export"
    ),
    path("projects/<str:project_id>/exports", apis.ProjectExportListCreateApi.as_view(), name="api-project-exports"),
    path("exports/<str:export_id>", apis.ExportDetailApi.as_view(), name="api-export-detail"),
    path("exports/<str:export_id>/retry", apis.ExportRetryApi.as_view(), name="api-export-retry"),
    path("exports/<str:export_id>/download", apis.ExportDownloadApi.as_view(), name="api-export-download"),
    path(
        "projects/<str:project_id>/ground_truth/coco",
        apis.ProjectCocoGroundTruthApi.as_view(),
        name="api-ground-truth-coco",
    ),
    path("schemas/export-ndjson.json", apis.ExportNdjsonSchemaApi.as_view(), name="api-export-ndjson-schema"),
]
