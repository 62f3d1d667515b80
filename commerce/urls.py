from __future__ import annotations

from django.urls import path

from commerce import views

app_name = "commerce"
urlpatterns = [
    path("metals", views.catalog, name="catalog"),
    path("metals/intelligence", views.intelligence, name="intelligence"),
    path("metals/intelligence/subscribe/<slug:slug>", views.subscribe, name="subscribe"),
    path("metals/intelligence/billing", views.billing_portal, name="billing-portal"),
    path("metals/<slug:sku>", views.product, name="product"),
    path("metals/<slug:sku>/image", views.product_image, name="product-image"),
    path("cart/", views.cart, name="cart"),
    path("cart/badge/", views.cart_badge, name="cart-badge"),
    path("cart/<slug:sku>", views.cart_update, name="cart-update"),
    path("checkout/lock", views.checkout_lock, name="lock"),
    path("quotes/<int:pk>/", views.quote_page, name="quote"),
    path("quotes/<int:pk>/approve", views.quote_approve_view, name="approve"),
    path("quotes/<int:pk>/execute", views.quote_execute_view, name="execute"),
    path("orders/", views.orders, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("orders/<str:number>/pay", views.order_pay, name="order-pay"),
    path("checkout/return/<str:number>/", views.checkout_return, name="checkout-return"),
    path("stripe/webhook/", views.stripe_webhook, name="stripe-webhook"),
    path("payments/lemonsqueezy/webhook", views.lemonsqueezy_webhook, name="lemonsqueezy-webhook"),
    path("company/", views.company_page, name="company"),
    path("accounts/signup/", views.signup, name="signup"),
]
