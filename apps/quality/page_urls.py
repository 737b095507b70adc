from django.urls import path

from apps.quality import views

app_name = "quality"

urlpatterns = [
    path("projects/<str:project_id>/quality/", views.project_quality_page, name="project"),
    path("projects/<str:project_id>/quality/rows/<str:data_row_id>/", views.row_overlay_page, name="row"),
    path("labels/<str:label_id>/benchmark", views.label_benchmark_toggle, name="benchmark"),
]
