from django.urls import path

from apps.analytics import views

app_name = "analytics"

urlpatterns = [
    path("projects/<str:project_id>/analytics/", views.project_dashboard, name="project"),
    path("me/stats/", views.my_stats, name="me"),
]
