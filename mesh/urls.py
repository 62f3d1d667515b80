from __future__ import annotations

from django.urls import path

import mesh.sync.views as sync_views
import mesh.views as views

urlpatterns = [
    path("console/mesh/", views.mesh_console, name="mesh-console"),
    path("console/mesh/peers/", views.peers_console, name="mesh-peers"),
    path("console/mesh/peers/<int:peer_id>/", views.peer_page, name="mesh-peer"),
    path("console/mesh/peers/<int:peer_id>/lift/", views.peer_lift, name="mesh-peer-lift"),
    path("console/mesh/peers/<int:peer_id>/check/", views.peer_check, name="mesh-peer-check"),
    path("console/mesh/peers/<int:peer_id>/remove/", views.peer_remove, name="mesh-peer-remove"),
    path("console/mesh/webhooks/", views.webhooks_console, name="mesh-webhooks"),
    path("console/mesh/webhooks/<int:sub_id>/", views.webhook_page, name="mesh-webhook"),
    path("console/mesh/webhooks/<int:sub_id>/<slug:action>/", views.webhook_action, name="mesh-webhook-action"),
    path("console/sync/", sync_views.sync_console, name="mesh-sync"),
    path("console/sync/<str:portal_id>/close/", sync_views.sync_portal_close, name="mesh-sync-close"),
]
