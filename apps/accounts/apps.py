from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Organizations and users"

    def ready(self) -> None:
        from apps.accounts import auth_audit

        auth_audit.connect()
