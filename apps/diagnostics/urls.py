from django.urls import path

from apps.diagnostics import apis

urlpatterns = [
    path("model_runs/compare", apis.CompareApi.as_view(), name="api-model-runs-compare"),
    path("model_runs/compare/flipped", apis.FlippedRowsApi.as_view(), name="api-model-runs-compare-flipped"),
    path("model_runs/<str:run_id>/training_data", apis.TrainingDataApi.as_view(), name="api-model-run-training-data"),
    path("training_data/<str:token>", apis.TrainingDataLinkApi.as_view(), name="api-training-data-link"),
    path("model_runs/<str:run_id>/mine_similar", apis.MineSimilarApi.as_view(), name="api-model-run-mine-similar"),
    path("model_runs/<str:run_id>/ground_truth", apis.GroundTruthApi.as_view(), name="api-model-run-ground-truth"),
    path("model_runs/<str:run_id>/metrics", apis.MetricsApi.as_view(), name="api-model-run-metrics"),
    path("model_runs/<str:run_id>/rows", apis.RowsApi.as_view(), name="api-model-run-match-rows"),
    path("model_runs/<str:run_id>/errors", apis.ErrorsApi.as_view(), name="api-model-run-errors"),
    path(
        "model_runs/<str:run_id>/send_to_labeling",
        apis.SendToLabelingApi.as_view(),
        name="api-model-run-send-to-labeling",
    ),
]
