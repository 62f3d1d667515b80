from __future__ import annotations

from django.urls import path

from agents import views
from agents.foundry import views as foundry_views

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
    path("console/foundry/", foundry_views.foundry_console, name="foundry"),
    path("console/foundry/hybrids/<int:hybrid_id>/evaluate", foundry_views.foundry_evaluate, name="foundry-evaluate"),
    path("console/foundry/hybrids/<int:hybrid_id>/promote", foundry_views.foundry_promote, name="foundry-promote"),
]
