from __future__ import annotations

from django.urls import path

from agents import views
from agents.codegen import views as codegen_views
from agents.dreamstar import views as dreamstar_views
from agents.foundry import views as foundry_views
from agents.media import views as media_views
from agents.watcher import views as watcher_views

app_name = "agents"

urlpatterns = [
    path("console/missions/", views.missions_console, name="missions"),
    path("console/missions/forecast", views.mission_forecast, name="forecast"),
    path("console/missions/approvals/", views.approvals, name="approvals"),
    path("console/missions/<int:mission_id>/", views.mission_page, name="mission"),
    path("console/missions/<int:mission_id>/cancel", views.mission_cancel_view, name="cancel"),
    path("console/missions/<int:mission_id>/approve", views.mission_approve_view, name="approve"),
    path("console/agents/", views.agents_console, name="agents"),
    path("console/budget/", views.budget_console, name="budget"),
    path("console/requests/", watcher_views.requests_console, name="requests"),
    path("console/codegen/", codegen_views.codegen_console, name="codegen"),
    path("console/codegen/<int:mission_id>/", codegen_views.codegen_run_page, name="codegen-run"),
    path("console/codegen/<int:mission_id>/patch.mbox", codegen_views.codegen_mbox, name="codegen-mbox"),
    path("console/dreamstar/", dreamstar_views.dreamstar_console, name="dreamstar"),
    path("console/dreamstar/generate", dreamstar_views.dreamstar_generate, name="dreamstar-generate"),
    path("console/dreamstar/loom-corpus", dreamstar_views.dreamstar_loom_corpus_view, name="dreamstar-loom-corpus"),
    path(
        "console/dreamstar/ingestions/<int:ingestion_id>/",
        dreamstar_views.dreamstar_ingestion,
        name="dreamstar-ingestion",
    ),
    path(
        "console/dreamstar/generations/<int:generation_id>/",
        dreamstar_views.dreamstar_generation,
        name="dreamstar-generation",
    ),
    path("console/media/", media_views.media_console, name="media"),
    path("console/media/<int:mission_id>/", media_views.media_page, name="media-mission"),
    path("console/media/<int:mission_id>/files/<str:digest>", media_views.media_file, name="media-file"),
    path("console/media/<int:mission_id>/attach", media_views.media_attach_view, name="media-attach"),
    path("console/foundry/", foundry_views.foundry_console, name="foundry"),
    path("console/foundry/hybrids/<int:hybrid_id>/evaluate", foundry_views.foundry_evaluate, name="foundry-evaluate"),
    path("console/foundry/hybrids/<int:hybrid_id>/promote", foundry_views.foundry_promote, name="foundry-promote"),
]
