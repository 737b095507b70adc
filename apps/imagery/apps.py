from django.apps import AppConfig


class ImageryConfig(AppConfig):
    name = "apps.imagery"
    label = "imagery"

    def ready(self) -> None:
        from apps.imagery import hooks

        hooks.register()
