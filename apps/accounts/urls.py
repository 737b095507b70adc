from django.urls import path

from apps.accounts import apis, token_apis

urlpatterns = [
    path("auth/token", apis.TokenObtainApi.as_view(), name="api-auth-token"),
    path("organizations", apis.OrganizationCreateApi.as_view(), name="api-organizations"),
    path("me", apis.MeApi.as_view(), name="api-me"),
    path("users", apis.UserListCreateApi.as_view(), name="api-users"),
    path("users/<str:user_id>", apis.UserDetailApi.as_view(), name="api-user-detail"),
    path("tokens", token_apis.TokenListCreateApi.as_view(), name="api-tokens"),
    path("tokens/<str:token_id>", token_apis.TokenDetailApi.as_view(), name="api-token-detail"),
    path("organization/tokens", token_apis.OrganizationTokenListApi.as_view(), name="api-organization-tokens"),
]
