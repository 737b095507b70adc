from django.urls import path

from apps.core import alert_apis, apis

urlpatterns = [
    path("jobs/<str:job_id>", apis.JobDetailApi.as_view(), name="api-job-detail"),
    path("audit_events", apis.AuditEventListApi.as_view(), name="api-audit-events"),
    path("audit_events.csv", apis.AuditEventCsvApi.as_view(), name="api-audit-events-csv"),
    path("alerts", alert_apis.AlertListApi.as_view(), name="api-alerts"),
    path("alerts/<str:alert_id>/acknowledge", alert_apis.AlertAcknowledgeApi.as_view(), name="api-alert-acknowledge"),
    path("alert_rules", alert_apis.AlertRuleListCreateApi.as_view(), name="api-alert-rules"),
    path("alert_rules/<str:rule_id>", alert_apis.AlertRuleDetailApi.as_view(), name="api-alert-rule-detail"),
]
