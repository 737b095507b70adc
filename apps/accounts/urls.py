from django.urls import path

from apps.accounts import alert_apis, apis, audit_apis, token_apis

urlpatterns = [
    path("auth/token", apis.TokenObtainApi.as_view(), name="api-auth-token"),
    path("organizations", apis.OrganizationCreateApi.as_view(), name="api-organizations"),
    path("me", apis.MeApi.as_view(), name="api-me"),
    path("users", apis.UserListCreateApi.as_view(), name="api-users"),
    path("users/<str:user_id>", apis.UserDetailApi.as_view(), name="api-user-detail"),
    path("tokens", token_apis.TokenListCreateApi.as_view(), name="api-tokens"),
    path("tokens/<str:token_id>", token_apis.TokenDetailApi.as_view(), name="api-token-detail"),
    path("organization/tokens", token_apis.OrganizationTokenListApi.as_view(), name="api-organization-tokens"),
    path("jobs/<str:job_id>", audit_apis.JobDetailApi.as_view(), name="api-job-detail"),
    path("audit_events", audit_apis.AuditEventListApi.as_view(), name="api-audit-events"),
    path("audit_events.csv", audit_apis.AuditEventCsvApi.as_view(), name="api-audit-events-csv"),
    path("alerts", alert_apis.AlertListApi.as_view(), name="api-alerts"),
    path("alerts/<str:alert_id>/acknowledge", alert_apis.AlertAcknowledgeApi.as_view(), name="api-alert-acknowledge"),
    path("alert_rules", alert_apis.AlertRuleListCreateApi.as_view(), name="api-alert-rules"),
    path("alert_rules/<str:rule_id>", alert_apis.AlertRuleDetailApi.as_view(), name="api-alert-rule-detail"),
]
