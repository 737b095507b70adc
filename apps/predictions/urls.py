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

from apps.predictions import endpoint_apis  # noqa: E402

urlpatterns += [
    path("model_endpoints", endpoint_apis.ModelEndpointListCreateApi.as_view(), name="api-model-endpoints"),
    path(
        "model_endpoints/<str:endpoint_id>",
        endpoint_apis.ModelEndpointDetailApi.as_view(),
        name="api-model-endpoint-detail",
    ),
    path(
        "model_endpoints/<str:endpoint_id>/check",
        endpoint_apis.ModelEndpointCheckApi.as_view(),
        name="api-model-endpoint-check",
    ),
    path(
        "projects/<str:project_id>/model_retrain",
        endpoint_apis.ProjectModelRetrainApi.as_view(),
        name="api-project-model-retrain",
    ),
    path("tasks/<str:task_id>/assist", endpoint_apis.TaskAssistApi.as_view(), name="api-task-assist"),
    path("model_media/<str:token>", endpoint_apis.ModelEndpointMediaApi.as_view(), name="api-model-endpoint-media"),
    path(
        "projects/<str:project_id>/model_status",
        endpoint_apis.ProjectModelStatusApi.as_view(),
        name="api-project-model-status",
    ),
    path(
        "projects/<str:project_id>/model_status/resend",
        endpoint_apis.ProjectModelResendApi.as_view(),
        name="api-project-model-resend",
    ),
]
