from django.urls import path

from apps.analytics import apis

urlpatterns = [
    path("projects/<str:project_id>/performance", apis.ProjectPerformanceApi.as_view(), name="api-project-performance"),
    path(
        "projects/<str:project_id>/performance.csv",
        apis.ProjectPerformanceCsvApi.as_view(),
        name="api-project-performance-csv",
    ),
]
