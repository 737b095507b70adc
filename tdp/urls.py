from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from apps.core.health import healthz, liveness, readiness

api_v1 = [
    path("", include("apps.accounts.urls")),
    path("", include("apps.ontologies.urls")),
    path("", include("apps.datasets.urls")),
    path("", include("apps.labeling.urls")),
    path("", include("apps.review.urls")),
    path("", include("apps.issues.urls")),
    path("", include("apps.catalog.urls")),
    path("", include("apps.quality.urls")),
    # diagnostics first: its `model_runs/compare` would otherwise be taken for a run id by `model_runs/<id>`.
    path("", include("apps.diagnostics.urls")),
    path("", include("apps.predictions.urls")),
    path("", include("apps.analytics.urls")),
    path("", include("apps.exports.urls")),
    path("", include("apps.webhooks.urls")),
    path("", include("apps.imagery.urls")),
]

urlpatterns = [
    # Browsers ask for /favicon.ico on pages without an icon link (the API docs, raw files): no 404 there either.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=False)),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("healthz/live", liveness, name="healthz-live"),
    path("healthz/ready", readiness, name="healthz-ready"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("", include("apps.labeling.page_urls")),
    path("", include("apps.labeling.import_urls")),
    path("", include("apps.review.page_urls")),
    path("", include("apps.issues.page_urls")),
    path("", include("apps.catalog.page_urls")),
    path("", include("apps.quality.page_urls")),
    path("", include("apps.predictions.page_urls")),
    path("", include("apps.diagnostics.page_urls")),
    path("", include("apps.analytics.page_urls")),
    path("", include("apps.exports.page_urls")),
    path("", include("apps.accounts.page_urls")),
]

handler400 = "apps.core.exceptions.handler400"
handler403 = "apps.core.exceptions.handler403"
handler404 = "apps.core.exceptions.handler404"
handler500 = "apps.core.exceptions.handler500"
