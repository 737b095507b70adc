from django.apps import AppConfig


class DiagnosticsConfig(AppConfig):
    name = "apps.diagnostics"
    label = "diagnostics"

    def ready(self) -> None:
        from apps.diagnostics import hooks

        hooks.register()
