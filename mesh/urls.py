from __future__ import annotations

from django.urls import path

from mesh import views

urlpatterns = [
    path("console/mesh/", views.mesh_console, name="mesh-console"),
]
