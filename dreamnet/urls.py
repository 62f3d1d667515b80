from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from agents.dreamstar import views as dreamstar_views
from agents.foundry import views as foundry_views
from dreamnet import views, views_site
from dreamnet.api import api
from dreamnet.forms import AdminLoginForm, LoginForm
from dreamnet.sitemaps import PagesSitemap, ProductSitemap

admin.site.site_header = "DreamNet operations"
admin.site.site_title = "DreamNet admin"
admin.site.index_title = "Operate the node"
admin.site.login_form = AdminLoginForm  # the sign-in lockout applies to the admin too

urlpatterns = [
    path("", views.home, name="home"),
    path("status", views.status_page, name="status"),
    path("status/coherence", views.status_coherence, name="status-coherence"),
    path("dreamsnail", views_site.dreamsnail, name="dreamsnail"),
    path("dreamstar", dreamstar_views.dreamstar_page, name="dreamstar"),
    path("foundry", foundry_views.foundry_page, name="foundry"),
    path("contact", views_site.contact, name="contact"),
    path("contact/thanks", views_site.contact_thanks, name="contact-thanks"),
    path("waitlist", views_site.waitlist, name="waitlist"),
    path("waitlist/confirm/<str:token>", views_site.waitlist_confirmed, name="waitlist-confirm"),
    path("changelog", views_site.changelog_page, name="changelog"),
    path("privacy", views_site.privacy, name="privacy"),
    path("terms", views_site.terms, name="terms"),
    path("robots.txt", views_site.robots, name="robots"),
    path("sitemap.xml", sitemap, {"sitemaps": {"pages": PagesSitemap, "products": ProductSitemap}}, name="sitemap"),
    path("console/", views.console, name="console"),
    # The buyer pages first: Django records every pattern an include tried before the match, and the console
    # includes below hold about fifty.
    path("", include("commerce.urls")),
    path("", include("computejobs.urls")),
    path("", include("mesh.urls")),
    path("", include("agents.urls")),
    path("", include("treasury.urls")),
    path("", include("reports.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]

handler400 = "dreamnet.views.bad_request"
handler404 = "dreamnet.views.page_not_found"
handler500 = "dreamnet.views.server_error"
