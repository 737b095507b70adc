from django.urls import path

from apps.core import apis

urlpatterns = [
    path("jobs/<str:job_id>", apis.JobDetailApi.as_view(), name="api-job-detail"),
    path("audit_events", apis.AuditEventListApi.as_view(), name="api-audit-events"),
]
