from django.urls import path

from apps.webhooks import apis

urlpatterns = [
    path("webhooks", apis.WebhookListApi.as_view(), name="api-webhooks"),
    path("webhooks/<str:webhook_id>", apis.WebhookDetailApi.as_view(), name="api-webhook"),
    path("webhooks/<str:webhook_id>/deliveries", apis.WebhookDeliveriesApi.as_view(), name="api-webhook-deliveries"),
    path("webhooks/<str:webhook_id>/test", apis.WebhookTestApi.as_view(), name="api-webhook-test"),
    path(
        "webhooks/<str:webhook_id>/deliveries/<str:delivery_id>/redeliver",
        apis.WebhookRedeliverApi.as_view(),
        name="api-webhook-redeliver",
    ),
]
