from django.urls import path

from apps.issues import views

app_name = "issues"
urlpatterns = [
    path("inbox/", views.inbox_page, name="inbox"),
    path("projects/<str:project_id>/issues/", views.project_issues_page, name="project"),
    path("issues/<str:issue_id>/", views.issue_page, name="issue"),
    path("issues/<str:issue_id>/crop.png", views.issue_crop, name="crop"),
    path("issues/<str:issue_id>/resolve", views.issue_state, {"action": "resolve"}, name="resolve"),
    path("issues/<str:issue_id>/reopen", views.issue_state, {"action": "reopen"}, name="reopen"),
]
