from __future__ import annotations

from django.urls import path

from reports import views

app_name = "reports"
urlpatterns = [
    path("reports/", views.reports_page, name="page"),
    path("reports/<int:pk>/", views.report_page, name="report"),
    path("reports/<int:pk>/pdf", views.report_file, {"which": "pdf"}, name="pdf"),
    path("reports/<int:pk>/html", views.report_file, {"which": "html"}, name="html"),
    path("console/reports/", views.console, name="console"),
]
