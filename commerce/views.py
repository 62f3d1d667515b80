"""Buyer pages: catalog with live spot, product, cart, lock and execute, orders, company, sign-up."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from commerce import selectors
from commerce.forms import ExecuteForm, LockForm, QuantityForm, SignupForm
from commerce.models import ONLINE_METHODS, Membership, Metal, Order, Plan, Quote
from commerce.payments import (
    EU,
    WebhookRejected,
    checkout_start,
    payment_options,
    webhook_receive,
)
from commerce.pricing import line_total, tier_for, unit_ask
from commerce.services import CommerceError, cart_set, company_create, quote_approve, quote_execute, quote_lock
from commerce.subscriptions import company_has_intelligence, plan_provider_for, portal_url, subscription_checkout
from dreamnet.http import AuthenticatedHtmxRequest, HtmxHttpRequest


def member_required(view):
    """Require a signed-in member of a company; pass the membership to the view."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        membership = selectors.membership_for(request.user)
        if membership is None:
            return render(request, "commerce/no_company.html", status=403)
        return view(request, membership, *args, **kwargs)

    return wrapped


# A whole catalog or product page, as a visitor who is not signed in sees it, changes only with the spot ticks (and
# whether they are stale), the catalog's version and the URL: it is kept per such state and served with this
# request's CSRF token put in. The hole is a SafeString with angle brackets, which escaped content never holds.
CSRF_HOLE = mark_safe("<csrf-token-hole>")
PUBLIC_PAGE_PARAMS = {"metal"}


def _is_public(request: HtmxHttpRequest) -> bool:
    """A visitor with no session and no pending message, asking for a URL with no other parameters."""
    return (
        request.method in ("GET", "HEAD")
        and not request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        and not request.COOKIES.get("messages")
        and set(request.GET) <= PUBLIC_PAGE_PARAMS
        and not request.user.is_authenticated
    )


def _priced_page(request: HtmxHttpRequest, render_page) -> HttpResponse:
    """Serve ``render_page(spots, version, extra_context)``; for a public request, the page as kept for this URL,
    the spot ticks (shared, at most a second old) and the catalog's version, with this request's CSRF token put in.
    Everyone else gets a fresh render from the latest ticks."""
    version = selectors.catalog_version()
    if not (version and _is_public(request)):
        return render_page(selectors.spot_latest(), version, {})
    spots = selectors.spot_latest_shared()
    state = "-".join(f"{s.tick_id}{'s' if s.stale else ''}" for s in spots.values())
    key = selectors.per_tick_key("page", request.scheme, request.get_host(), request.get_full_path(), state, version)
    html = selectors.per_tick_get(key)
    if html is None:
        response = render_page(spots, version, {"csrf_token": CSRF_HOLE})
        html = response.content.decode()
        if response.status_code == 200:
            selectors.per_tick_set(key, html)
    else:
        response = HttpResponse(content_type="text/html; charset=utf-8")
    response.content = html.replace(CSRF_HOLE, get_token(request))
    return response


def catalog(request: HtmxHttpRequest) -> HttpResponse:
    metal = request.GET.get("metal") if request.GET.get("metal") in Metal.values else None

    def render_page(spots: dict, version: str | None, extra: dict) -> HttpResponse:
        # The priced rows change only with a spot tick or a catalog edit: rendered once per (ticks, catalog version).
        ticks = "-".join(str(s.tick_id) for s in spots.values())
        key = selectors.per_tick_key("catalog-rows", metal or "all", ticks, version)
        rows_html = selectors.per_tick_get(key) if version else None
        if rows_html is None:
            rows = []
            for product in selectors.catalog(metal=metal):
                prices = selectors.product_prices(product, spots.get(product.metal))
                tiers = prices["tiers"]
                rows.append(
                    {
                        "product": product,
                        "price": tiers[0].unit_ask if tiers else None,
                        "from_price": tiers[-1].unit_ask if tiers else None,
                        "bid": prices["bid"],
                    }
                )
            rows_html = render_to_string("commerce/catalog.html#rows", {"rows": rows, "metal": metal})
            if version:
                selectors.per_tick_set(key, rows_html)
        # Rendered by our own template, every value escaped there.
        context = {"rows_html": mark_safe(rows_html), "spots": spots, "metals": Metal.choices, "metal": metal}  # noqa: S308
        return render(request, "commerce/catalog.html", context | extra)

    return _priced_page(request, render_page)


def product(request: HtmxHttpRequest, sku: str) -> HttpResponse:
    def render_page(spots: dict, _version: str | None, extra: dict) -> HttpResponse:
        item = get_object_or_404(selectors.catalog(), sku=sku)
        spot = spots.get(item.metal)
        context = {
            "product": item,
            "prices": selectors.product_prices(item, spot),
            "spot": spot,
            "chart": selectors.spot_chart_cached(item.metal, spot),
            "form": QuantityForm(initial={"quantity": item.min_quantity}),
        }
        return render(request, "commerce/product.html", context | extra)

    return _priced_page(request, render_page)


def product_image(request: HtmxHttpRequest, sku: str) -> HttpResponse:
    """The product's picture (an image artifact, often a generated one), served from the artifact store."""
    from mesh.services import artifact_read

    item = get_object_or_404(selectors.catalog().select_related("image"), sku=sku, image__isnull=False)
    response = HttpResponse(artifact_read(item.image), content_type=item.image.media_type)
    response["Cache-Control"] = "public, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    # Only the browser's own image viewer (inline styles) may run, sandboxed, if the picture is opened alone.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    return response


def _cart_context(request, membership: Membership) -> dict:
    spots = selectors.spot_latest()
    lines, total = [], 0
    for line in selectors.cart_lines(user=request.user, company=membership.company):
        spot = spots.get(line.product.metal)
        unit = None
        if spot is not None:
            unit = unit_ask(
                spot_ask=spot.ask,
                fine_oz=line.product.fine_oz,
                tier=tier_for(line.product.price_tiers(), line.quantity),
            )
            total += line_total(unit=unit, quantity=line.quantity)
        lines.append(
            {"line": line, "unit": unit, "total": line_total(unit=unit, quantity=line.quantity) if unit else None}
        )
    return {
        "lines": lines,
        "total": total,
        "membership": membership,
        "lock_form": LockForm(),
        "payment_options": payment_options(country=membership.company.country),
        "stale": any(s.stale for s in spots.values()),
    }


@member_required
def cart(request: AuthenticatedHtmxRequest, membership: Membership) -> HttpResponse:
    template = "commerce/cart.html#cart-lines" if request.htmx else "commerce/cart.html"
    return render(request, template, _cart_context(request, membership))


def cart_badge(request: HtmxHttpRequest) -> HttpResponse:
    """The header's cart link and line count alone; the link re-fetches it when a response sends ``cartChanged``."""
    on_cart = bool(request.htmx) and request.htmx.current_url_abs_path == reverse("commerce:cart")
    return render(request, "commerce/_buyer_nav.html#cart-badge", {"on_cart": on_cart})


@require_POST
@member_required
def cart_update(request: AuthenticatedHtmxRequest, membership: Membership, sku: str) -> HttpResponse:
    form = QuantityForm(request.POST)
    error = None
    if form.is_valid():
        try:
            cart_set(user=request.user, company=membership.company, sku=sku, quantity=form.cleaned_data["quantity"])
        except CommerceError as exc:
            error = exc.detail
    else:
        error = "; ".join(e for errors in form.errors.values() for e in errors)
    if request.htmx:
        context = _cart_context(request, membership) | {"error": error}
        response = render(request, "commerce/cart.html#cart-lines", context, status=422 if error else 200)
        response["HX-Trigger"] = "cartChanged"
        return response
    if error:
        messages.error(request, error)
        return redirect("commerce:product", sku=sku) if "add" in request.POST else redirect("commerce:cart")
    messages.success(request, "Cart updated.")
    return redirect("commerce:cart")


@require_POST
@member_required
def checkout_lock(request: AuthenticatedHtmxRequest, membership: Membership) -> HttpResponse:
    form = LockForm(request.POST)
    lines = [(x.product.sku, x.quantity) for x in selectors.cart_lines(user=request.user, company=membership.company)]
    if not form.is_valid():
        messages.error(request, "Choose a payment method.")
        return redirect("commerce:cart")
    try:
        quote = quote_lock(
            company=membership.company, by=request.user, lines=lines, payment_method=form.cleaned_data["payment_method"]
        )
    except CommerceError as exc:
        messages.error(request, exc.detail)
        return redirect("commerce:cart")
    return redirect("commerce:quote", pk=quote.pk)


def _company_quote(membership: Membership, pk: int) -> Quote:
    return get_object_or_404(Quote.objects.select_related("company"), pk=pk, company=membership.company)


@csp_override(settings.CHECKOUT_CSP)
@member_required
def quote_page(request: AuthenticatedHtmxRequest, membership: Membership, pk: int) -> HttpResponse:
    quote = _company_quote(membership, pk)
    context = {
        "quote": quote,
        "lines": quote.lines.select_related("product"),
        "membership": membership,
        "needs_approval": quote.total > quote.company.approval_threshold,
        "form": ExecuteForm(initial={"lock_token": quote.lock_token}),
    }
    return render(request, "commerce/quote.html", context)


@require_POST
@member_required
def quote_approve_view(request: AuthenticatedHtmxRequest, membership: Membership, pk: int) -> HttpResponse:
    try:
        quote_approve(quote=_company_quote(membership, pk), by=request.user)
        messages.success(request, "Approved. Any buyer of the company can execute it before the lock expires.")
    except CommerceError as exc:
        messages.error(request, exc.detail)
    return redirect("commerce:quote", pk=pk)


@require_POST
@member_required
def quote_execute_view(request: AuthenticatedHtmxRequest, membership: Membership, pk: int) -> HttpResponse:
    quote = _company_quote(membership, pk)
    form = ExecuteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The lock token is missing; reload the quote.")
        return redirect("commerce:quote", pk=pk)
    try:
        order = quote_execute(quote=quote, by=request.user, lock_token=str(form.cleaned_data["lock_token"]))
    except CommerceError as exc:
        context = {"quote": quote, "error": exc.detail, "requote": exc.extra.get("requote")}
        return render(request, "commerce/execute_failed.html", context, status=exc.status)
    if order.payment_method in ONLINE_METHODS:
        return _to_provider(request, order)
    messages.success(request, f"Order {order.number} placed. Wire the total before the deadline below.")
    return redirect(order)


def _to_provider(request, order: Order) -> HttpResponse:
    try:
        attempt = checkout_start(order=order)
    except CommerceError as exc:
        messages.error(request, exc.detail)
        return redirect(order)
    return redirect(attempt.url)


@require_POST
@member_required
def order_pay(request: AuthenticatedHtmxRequest, membership: Membership, number: str) -> HttpResponse:
    """Open a new checkout for a pending order paid online (after a cancelled or failed try)."""
    return _to_provider(request, get_object_or_404(Order, number=number, company=membership.company))


@member_required
def checkout_return(request: AuthenticatedHtmxRequest, membership: Membership, number: str) -> HttpResponse:
    """Where Stripe sends the buyer back: the order's real state (the webhook decides it, not this page)."""
    order = get_object_or_404(Order, number=number, company=membership.company)
    return render(request, "commerce/checkout_return.html", {"order": order})


@csrf_exempt
@require_POST
def stripe_webhook(request) -> HttpResponse:
    try:
        result = webhook_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature"), provider="stripe"
        )
    except WebhookRejected as exc:
        return JsonResponse({"detail": exc.detail, "code": "bad_webhook"}, status=400)
    return JsonResponse({"received": True, "result": result})


@csrf_exempt
@require_POST
def lemonsqueezy_webhook(request) -> HttpResponse:
    """Lemon Squeezy's deliveries: ``X-Signature`` is the HMAC-SHA256 of the raw body (400, nothing stored, when
    it is missing or wrong, the body is malformed or older than the tolerance); each event applies once."""
    try:
        result = webhook_receive(
            payload=request.body, signature=request.headers.get("X-Signature"), provider="lemonsqueezy"
        )
    except WebhookRejected as exc:
        return JsonResponse({"detail": exc.detail, "code": "bad_webhook"}, status=400)
    return JsonResponse({"received": True, "result": result})


@member_required
def orders(request: AuthenticatedHtmxRequest, membership: Membership) -> HttpResponse:
    page = Paginator(selectors.orders_for_company(membership.company), 20).get_page(request.GET.get("page"))
    return render(request, "commerce/orders.html", {"orders": page, "membership": membership})


@csp_override(settings.CHECKOUT_CSP)
@member_required
def order_detail(request: AuthenticatedHtmxRequest, membership: Membership, number: str) -> HttpResponse:
    order = get_object_or_404(Order, number=number, company=membership.company)
    context = {
        "order": order,
        "lines": order.lines.select_related("product"),
        "pay_online": order.payment_method in ONLINE_METHODS
        and order.status == "pending_payment"
        and not order.payment_submitted_at
        and order.payment_deadline > timezone.now(),
    }
    return render(request, "commerce/order.html", context)


@member_required
def company_page(request: AuthenticatedHtmxRequest, membership: Membership) -> HttpResponse:
    company = membership.company
    context = {
        "company": company,
        "membership": membership,
        "members": company.memberships.select_related("user").order_by("role", "user__username"),
        "ledger": company.ledger.all()[:20],
    }
    return render(request, "commerce/company.html", context)


def signup(request: HtmxHttpRequest) -> HttpResponse:
    """Create a buyer account and its company (KYC pending; the buyer is the company's admin)."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            name = form.cleaned_data["company_name"]
            country = form.cleaned_data["country"]
            company = company_create(
                slug=slugify(name)[:50], name=name, country=country, currency="EUR" if country in EU else "USD"
            )
            Membership.objects.create(company=company, user=user, role=Membership.Role.ADMIN)
        login(request, user)
        messages.success(
            request, f"Welcome. {company.name} can browse and lock prices now; orders open once we verify it."
        )
        return redirect("commerce:company")
    return render(request, "commerce/signup.html", {"form": form})


@csp_override(settings.CHECKOUT_CSP)
def intelligence(request: HtmxHttpRequest) -> HttpResponse:
    """Daily briefs: subscribers read them whole; others see the headline numbers and the plans."""
    membership = selectors.membership_for(request.user)
    subscribed = company_has_intelligence(membership.company if membership else None)
    briefs = selectors.briefs_latest()
    context = {
        "briefs": briefs,
        "subscribed": subscribed,
        "membership": membership,
        "plans": Plan.objects.filter(active=True),
        "stripe_unavailable": plan_provider_for(membership.company if membership else None).unavailable_reason(),
    }
    return render(request, "commerce/intelligence.html", context)


@require_POST
@member_required
def subscribe(request: AuthenticatedHtmxRequest, membership: Membership, slug: str) -> HttpResponse:
    plan = get_object_or_404(Plan, slug=slug, active=True)
    try:
        return redirect(subscription_checkout(company=membership.company, plan=plan))
    except CommerceError as exc:
        messages.error(request, exc.detail)
        return redirect("commerce:intelligence")


@require_POST
@member_required
def billing_portal(request: AuthenticatedHtmxRequest, membership: Membership) -> HttpResponse:
    try:
        return redirect(portal_url(company=membership.company))
    except CommerceError as exc:
        messages.error(request, exc.detail)
        return redirect("commerce:intelligence")
