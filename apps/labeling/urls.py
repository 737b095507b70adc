from django.urls import path

from apps.labeling import apis

urlpatterns = [
    path("projects", apis.ProjectListCreateApi.as_view(), name="api-projects"),
    path("projects/<str:project_id>", apis.ProjectDetailApi.as_view(), name="api-project-detail"),
    path("projects/<str:project_id>/ontology/upgrade", apis.ProjectOntologyUpgradeApi.as_view()),
    path("projects/<str:project_id>/members", apis.ProjectMembersApi.as_view(), name="api-project-members"),
    path("projects/<str:project_id>/members/<str:user_id>", apis.ProjectMemberDetailApi.as_view()),
    path("projects/<str:project_id>/batches", apis.ProjectBatchesApi.as_view(), name="api-project-batches"),
    path("batches/<str:batch_id>", apis.BatchDetailApi.as_view(), name="api-batch-detail"),
    path("projects/<str:project_id>/overview", apis.ProjectOverviewApi.as_view(), name="api-project-overview"),
    path("projects/<str:project_id>/queue/next", apis.QueueNextApi.as_view(), name="api-queue-next"),
    path("projects/<str:project_id>/labels", apis.ProjectLabelsApi.as_view(), name="api-project-labels"),
    path("tasks/<str:task_id>/labels", apis.TaskLabelsApi.as_view(), name="api-task-labels"),
    path("tasks/<str:task_id>/skip", apis.TaskSkipApi.as_view(), name="api-task-skip"),
    path("tasks/<str:task_id>/draft", apis.TaskDraftApi.as_view(), name="api-task-draft"),
    path("labels/<str:label_id>", apis.LabelDetailApi.as_view(), name="api-label-detail"),
]
