from django.apps import AppConfig


class PredictionsConfig(AppConfig):
    name = "apps.predictions"
    label = "predictions"

    def ready(self) -> None:
        from apps.predictions import hooks

        hooks.register()
