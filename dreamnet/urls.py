from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dreamnet import views, views_compute
from dreamnet.api import api

admin.site.site_header = "DreamNet operations"
admin.site.site_title = "DreamNet admin"
admin.site.index_title = "Operate the node"

urlpatterns = [
    path("", views.home, name="home"),
    path("status", views.status_page, name="status"),
    path("console/", views.console, name="console"),
    path("console/compute/", views_compute.compute_console, name="compute-console"),
    path("console/compute/<int:pk>/", views_compute.compute_job, name="compute-job"),
    path("console/artifacts/<str:digest>", views_compute.artifact, name="console-artifact"),
    path("", include("mesh.urls")),
    path("", include("commerce.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

handler404 = "dreamnet.views.page_not_found"
handler500 = "dreamnet.views.server_error"
