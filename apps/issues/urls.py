from django.urls import path

from apps.issues import apis

urlpatterns = [
    path("labels/<str:label_id>/issues", apis.LabelIssuesApi.as_view(), name="api-label-issues"),
    path("tasks/<str:task_id>/issues", apis.TaskIssuesApi.as_view(), name="api-task-issues"),
    path("projects/<str:project_id>/issues", apis.ProjectIssuesApi.as_view(), name="api-project-issues"),
    path("projects/<str:project_id>/issues/open_by_task", apis.ProjectOpenIssuesByTaskApi.as_view()),
    path("issues/<str:issue_id>", apis.IssueDetailApi.as_view(), name="api-issue-detail"),
    path("issues/<str:issue_id>/comments", apis.IssueCommentsApi.as_view(), name="api-issue-comments"),
    path("issues/<str:issue_id>/resolve", apis.IssueResolveApi.as_view(), name="api-issue-resolve"),
    path("issues/<str:issue_id>/reopen", apis.IssueReopenApi.as_view(), name="api-issue-reopen"),
    path("inbox", apis.InboxApi.as_view(), name="api-inbox"),
]
