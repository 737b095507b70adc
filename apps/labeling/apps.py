from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "apps.labeling"
    label = "labeling"

    def ready(self) -> None:
        from apps.labeling import hooks

        hooks.register()
