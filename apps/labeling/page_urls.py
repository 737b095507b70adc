from django.urls import path

from apps.labeling import views

app_name = "labeling"
urlpatterns = [
    path("projects/<str:project_id>/", views.project_page, name="project"),
    path("projects/<str:project_id>/next", views.next_task, name="next"),
    path("tasks/<str:task_id>/label", views.label_page, name="label"),
    path("tasks/<str:task_id>/skip", views.skip_task, name="skip"),
    path("labels/<str:label_id>/edit", views.edit_label_page, name="edit-label"),
]
