"""Seeded data for reports: Acme's orders (two paid, one awaiting payment), a treasury snapshot, and helpers to
request a report and run its mission as the task cluster would."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from pypdf import PdfReader

from agents.services import mission_run
from commerce.models import Membership, Order
from commerce.services import company_create
from reports.models import Report
from reports.services import report_request, report_type_get
from tests.commerce.conftest import acme, catalog, shop, spot  # noqa: F401  (fixtures)
from tests.treasury.conftest import vault
from treasury.models import Holding, Snapshot


@pytest.fixture
def orders(shop, alice, bob):  # noqa: F811  (the shop fixture, imported above)
    """Two vaulted orders and one awaiting payment, all placed now by Acme."""
    from commerce.services import quote_execute, quote_lock

    paid = [vault(shop, alice, [("xau-coin-maple-1oz", 2)]), vault(shop, alice, [("xag-bar-10oz-asahi", 3)])]
    quote = quote_lock(company=shop, by=alice, lines=[("xau-bar-1oz-pamp", 1)])
    pending = quote_execute(quote=quote, by=alice, lock_token=str(quote.lock_token))
    assert pending.status == Order.Status.PENDING_PAYMENT
    return [*paid, pending]


@pytest.fixture
def other(charlie):
    company = company_create(slug="other", name="Other Co", verified=True)
    Membership.objects.create(company=company, user=charlie, role=Membership.Role.BUYER)
    return company


def snapshot_seed(company, *, total: str, metal: str, crypto: str, when=None) -> Snapshot:
    """A finished treasury snapshot with one metal and one crypto line (as a valuation run leaves it)."""
    when = when or timezone.now() - timedelta(hours=1)
    snapshot = Snapshot.objects.create(
        company=company, status=Snapshot.Status.DONE, total_usd=Decimal(total), metal_usd=Decimal(metal),
        crypto_usd=Decimal(crypto), sources=["simulated"], finished_at=when,
    )  # fmt: skip
    Snapshot.objects.filter(pk=snapshot.pk).update(created_at=when)
    for kind, label, symbol, value in (
        ("metal", "Vaulted gold", "XAU", metal),
        ("crypto", "Ops wallet", "ETH", crypto),
    ):
        Holding.objects.create(
            snapshot=snapshot, kind=kind, status="priced", label=label, asset=symbol, symbol=symbol, quantity="2",
            quantity_source="simulated", quantity_at=when, value_usd=Decimal(value),
        )  # fmt: skip
    snapshot.refresh_from_db()
    return snapshot


def report_make(*, type: str, company=None, period: str | None = None, email: bool = False, provider=None) -> Report:
    """Request a report and run its mission here (what the task cluster does after commit)."""
    report = report_request(kind=report_type_get(type), period=period, company=company, email=email, via="test")
    mission_run(mission_id=report.mission_id, provider=provider)
    report.refresh_from_db()
    return report


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
