from django.urls import path

from apps.predictions import endpoint_views, views

app_name = "predictions"

urlpatterns = [
    path("projects/<str:project_id>/prelabels/", views.project_prelabels_page, name="project"),
    path(
        "projects/<str:project_id>/prelabels/resend",
        endpoint_views.project_resend_action,
        name="project-resend",
    ),
    path("projects/<str:project_id>/prelabels/retrain", endpoint_views.project_retrain_action, name="project-retrain"),
    path("model-endpoints/", endpoint_views.endpoints_page, name="endpoints"),
    path("model-endpoints/<str:endpoint_id>/", endpoint_views.endpoint_page, name="endpoint"),
    path("model-endpoints/<str:endpoint_id>/check", endpoint_views.endpoint_check_action, name="endpoint-check"),
]
