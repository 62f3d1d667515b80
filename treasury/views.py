"""Treasury pages: a member's /treasury/ (live), the printable review of one snapshot, the operators' console."""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from commerce.models import Company, Membership
from commerce.views import member_required
from dreamnet.http import AuthenticatedHtmxRequest, operator_required
from treasury import selectors
from treasury.charts import value_chart_svg
from treasury.errors import TreasuryError
from treasury.forms import WalletForm
from treasury.models import Snapshot, Wallet
from treasury.services import snapshot_request, wallet_add, wallet_remove


def treasury_context(company: Company) -> dict:
    """What the treasury page and the console show of ``company``: the last good snapshot, its lines, the
    value-over-time chart, the pending snapshot if any, the wallets."""
    snapshot = selectors.snapshot_latest(company)
    holdings = selectors.holdings_of(snapshot) if snapshot else []
    metal_share = None
    if snapshot and snapshot.total_usd:
        metal_share = round(float(snapshot.metal_usd / snapshot.total_usd) * 100, 1)
    return {
        "company": company,
        "snapshot": snapshot,
        "holdings": holdings,
        "metal_share": metal_share,
        "crypto_share": None if metal_share is None else round(100 - metal_share, 1),
        "chart": value_chart_svg(selectors.value_history(company)),
        "pending": selectors.snapshot_pending(company),
        "failed": selectors.snapshots_for(company).filter(status=Snapshot.Status.FAILED).first(),
        "wallets": selectors.wallets_for(company),
    }


@member_required
def treasury_page(request: AuthenticatedHtmxRequest, membership: Membership) -> HttpResponse:
    context = treasury_context(membership.company) | {"form": WalletForm(), "member": True, "live_url": request.path}
    if request.htmx:
        return render(request, "treasury/treasury.html#treasury-live", context)
    return render(request, "treasury/treasury.html", context)


@member_required
@require_POST
def wallet_new(request: AuthenticatedHtmxRequest, membership: Membership) -> HttpResponse:
    """Add a watched wallet; a refused address comes back as the form's error on its field (422)."""
    form = WalletForm(request.POST)
    if form.is_valid():
        try:
            wallet = wallet_add(company=membership.company, by=request.user, **form.cleaned_data)
        except TreasuryError as exc:
            field = "label" if exc.code == "bad_label" else "chain" if exc.code == "unsupported_chain" else "address"
            form.add_error(field, exc.detail)
        else:
            messages.success(request, f"Watching {wallet.label}; it is valued in the next snapshot.")
            with contextlib.suppress(TreasuryError):  # one already queued reads the new wallet too
                snapshot_request(company=membership.company, by=request.user)
            return redirect("treasury:page")
    context = treasury_context(membership.company) | {
        "form": form,
        "member": True,
        "live_url": reverse("treasury:page"),
    }
    return render(request, "treasury/treasury.html", context, status=422)


@member_required
@require_POST
def wallet_delete(request: AuthenticatedHtmxRequest, membership: Membership, pk: int) -> HttpResponse:
    wallet = get_object_or_404(Wallet, pk=pk, company=membership.company)
    wallet_remove(wallet=wallet, by=request.user)
    messages.success(request, f"Stopped watching {wallet.label}.")
    return redirect("treasury:page")


@member_required
@require_POST
def snapshot_new(request: AuthenticatedHtmxRequest, membership: Membership) -> HttpResponse:
    try:
        snapshot_request(company=membership.company, by=request.user)
    except TreasuryError as exc:
        messages.info(request, exc.detail)
    else:
        messages.success(request, "Snapshot queued; the page updates when it lands.")
    return redirect("treasury:page")


def _review(request, snapshot: Snapshot) -> HttpResponse:
    context = {"snapshot": snapshot, "company": snapshot.company, "holdings": selectors.holdings_of(snapshot)}
    return render(request, "treasury/review.html", context)


@member_required
def review(request: AuthenticatedHtmxRequest, membership: Membership, pk: int) -> HttpResponse:
    """The printable Treasury review of one finished snapshot of the member's company."""
    snapshot = get_object_or_404(Snapshot, pk=pk, company=membership.company, status=Snapshot.Status.DONE)
    return _review(request, snapshot)


@operator_required
def console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Every company's treasury: the last good snapshot's figures."""
    rows = [(company, selectors.snapshot_latest(company)) for company in Company.objects.order_by("name")]
    return render(request, "treasury/console.html", {"rows": rows})


@operator_required
def console_company(request: AuthenticatedHtmxRequest, slug: str) -> HttpResponse:
    company = get_object_or_404(Company, slug=slug)
    context = treasury_context(company) | {"member": False, "live_url": request.path}
    if request.htmx:
        return render(request, "treasury/treasury.html#treasury-live", context)
    return render(request, "treasury/console_company.html", context)


@operator_required
def console_review(request: AuthenticatedHtmxRequest, pk: int) -> HttpResponse:
    return _review(request, get_object_or_404(Snapshot, pk=pk, status=Snapshot.Status.DONE))
