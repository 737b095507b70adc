from django.urls import path

from apps.exports import views

app_name = "exports"
urlpatterns = [
    path("projects/<str:project_id>/exports/", views.project_exports_page, name="project"),
]
