from django.urls import path

from apps.predictions import views

app_name = "predictions"

urlpatterns = [
    path("projects/<str:project_id>/prelabels/", views.project_prelabels_page, name="project"),
]
