from django.urls import path

from apps.quality import apis

urlpatterns = [
    path("labels/<str:label_id>/benchmark", apis.LabelBenchmarkApi.as_view(), name="api-label-benchmark"),
    path("projects/<str:project_id>/quality", apis.ProjectQualityApi.as_view(), name="api-project-quality"),
    path("projects/<str:project_id>/quality/rows", apis.ConsensusRowsApi.as_view(), name="api-project-quality-rows"),
    path(
        "projects/<str:project_id>/quality/recompute",
        apis.ProjectQualityRecomputeApi.as_view(),
        name="api-project-quality-recompute",
    ),
    path(
        "projects/<str:project_id>/data_rows/<str:data_row_id>/consensus",
        apis.RowConsensusApi.as_view(),
        name="api-row-consensus",
    ),
]
