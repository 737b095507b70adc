from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        from apps.core.events import register_listener
        from apps.webhooks.services import is_listened, on_event

        register_listener(on_event, interested=is_listened)
