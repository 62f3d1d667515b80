from __future__ import annotations

from django.urls import path

from computejobs import loom_views, views

urlpatterns = [
    path("showcase/<slug:kind>", views.showcase_frame, name="showcase-frame"),
    path("console/compute/", views.compute_console, name="compute-console"),
    path("console/compute/<int:pk>/", views.compute_job, name="compute-job"),
    path("console/artifacts/<str:digest>", views.artifact, name="console-artifact"),
    path("console/loom/", loom_views.loom_console, name="loom-console"),
    path("console/loom/<str:blake3>/", loom_views.loom_chat, name="loom-chat"),
]
