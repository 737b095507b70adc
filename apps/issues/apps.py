from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "apps.issues"
    label = "issues"

    def ready(self) -> None:
        from apps.issues import hooks

        hooks.register()
