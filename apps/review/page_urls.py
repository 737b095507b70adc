from django.urls import path

from apps.review import views

app_name = "review"
urlpatterns = [
    path("projects/<str:project_id>/review/", views.review_start, name="start"),
    path("projects/<str:project_id>/review/next", views.review_next, name="next"),
    path("reviews/<str:task_id>/", views.review_page, name="review"),
]
