from __future__ import annotations

from django.urls import path

from treasury import views

app_name = "treasury"
urlpatterns = [
    path("treasury/", views.treasury_page, name="page"),
    path("treasury/wallets", views.wallet_new, name="wallet-new"),
    path("treasury/wallets/<int:pk>/delete", views.wallet_delete, name="wallet-delete"),
    path("treasury/snapshots", views.snapshot_new, name="snapshot-new"),
    path("treasury/review/<int:pk>/", views.review, name="review"),
    path("console/treasury/", views.console, name="console"),
    path("console/treasury/review/<int:pk>/", views.console_review, name="console-review"),
    path("console/treasury/<slug:slug>/", views.console_company, name="console-company"),
]
