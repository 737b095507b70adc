from django.contrib.auth import views as auth_views
from django.urls import path

from apps.accounts import token_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("settings/tokens/", token_views.tokens_page, name="settings_tokens"),
    path("settings/tokens/<str:token_id>/revoke/", token_views.token_revoke, name="settings_token_revoke"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="password_change_done",
    ),
]
