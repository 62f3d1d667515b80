from __future__ import annotations

from django.urls import path

from computejobs import views

urlpatterns = [
    path("showcase/<slug:kind>", views.showcase_frame, name="showcase-frame"),
    path("console/compute/", views.compute_console, name="compute-console"),
    path("console/compute/<int:pk>/", views.compute_job, name="compute-job"),
    path("console/artifacts/<str:digest>", views.artifact, name="console-artifact"),
]
