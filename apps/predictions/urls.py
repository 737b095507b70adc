from django.urls import path

from apps.predictions import apis

urlpatterns = [
    path("models", apis.ModelListCreateApi.as_view(), name="api-models"),
    path("models/<str:model_id>", apis.ModelDetailApi.as_view(), name="api-model-detail"),
    path("models/<str:model_id>/runs", apis.ModelRunsApi.as_view(), name="api-model-runs"),
    path("model_runs/<str:run_id>", apis.ModelRunDetailApi.as_view(), name="api-model-run-detail"),
    path("model_runs/<str:run_id>/data_rows", apis.ModelRunDataRowsApi.as_view(), name="api-model-run-rows"),
    path(
        "model_runs/<str:run_id>/predictions", apis.ModelRunPredictionsApi.as_view(), name="api-model-run-predictions"
    ),
    path("projects/<str:project_id>/prelabels", apis.ProjectPrelabelsApi.as_view(), name="api-project-prelabels"),
    path(
        "projects/<str:project_id>/prelabels/stats",
        apis.ProjectPrelabelStatsApi.as_view(),
        name="api-project-prelabel-stats",
    ),
    path(
        "projects/<str:project_id>/prelabels/imports",
        apis.ProjectPrelabelImportsApi.as_view(),
        name="api-project-prelabel-imports",
    ),
    path(
        "projects/<str:project_id>/expert_tasks", apis.ProjectExpertTasksApi.as_view(), name="api-project-expert-tasks"
    ),
    path("projects/<str:project_id>/queue/order", apis.ProjectQueueOrderApi.as_view(), name="api-project-queue-order"),
    path("labels/<str:label_id>/provenance", apis.LabelProvenanceApi.as_view(), name="api-label-provenance"),
]
