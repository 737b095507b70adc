from django.urls import path

from apps.diagnostics import setup_views, views

app_name = "diagnostics"

urlpatterns = [
    path("model_runs/", views.model_runs_page, name="runs"),
    path("model_runs/compare/", views.compare_page, name="compare"),
    path("model_runs/new/", setup_views.new_run_page, name="new-run"),
    path("model_runs/<str:run_id>/setup/", setup_views.run_setup_page, name="setup"),
    path("model_runs/<str:run_id>/diagnostics/", views.model_run_page, name="run"),
    path("model_runs/<str:run_id>/diagnostics/send/", views.send_to_labeling_page, name="send"),
    path("model_runs/<str:run_id>/diagnostics/mine/", views.mine_similar_page, name="mine"),
]
