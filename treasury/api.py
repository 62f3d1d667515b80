"""/api/treasury/: watched wallets, valuation snapshots, the latest valuation and its risk (scope ``treasury``).

A key with the ``treasury`` scope linked to one company (``apikey create --scopes treasury --company SLUG``) sees
only that company; without a key, a signed-in member's session (writes need the CSRF token).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from commerce import selectors as commerce_selectors
from dreamnet.ninja import AUTH_ERRORS, MAX_OFFSET, ApiError, ErrorOut, key_or_session
from treasury import selectors
from treasury.models import Wallet
from treasury.presenters import holding_json, snapshot_json
from treasury.services import snapshot_request, wallet_add, wallet_remove

router = Router(tags=["treasury"], auth=key_or_session("treasury"))
ERRORS = {**AUTH_ERRORS, 404: ErrorOut}


class WalletIn(Schema):
    chain: str
    address: str
    label: str


class WalletOut(Schema):
    id: int
    chain: str
    address: str
    label: str
    created_at: datetime


def _wallet_out(wallet: Wallet) -> dict:
    return {f: getattr(wallet, f) for f in ("id", "chain", "address", "label", "created_at")}


@router.get("/wallets", response={200: list[WalletOut], **ERRORS}, summary="Watched wallets")
def wallets(request: HttpRequest):
    _, company = commerce_selectors.buyer_for_request(request)
    return [_wallet_out(w) for w in selectors.wallets_for(company)]


@router.post("/wallets", response={201: WalletOut, **ERRORS, 409: ErrorOut, 422: ErrorOut}, summary="Watch a wallet")
def wallet_new(request: HttpRequest, body: WalletIn):
    """Watch an address (watch-only: never send a private key). `chain` is `ethereum`, `polygon`, `arbitrum`,
    `optimism`, `base`, `solana` or `vechain`.

    422 codes: `unsupported_chain`, `bad_address_format`, `bad_checksum` (EIP-55), `bad_base58`, `bad_length`,
    `private_key_refused`, `bad_label`; 409: `wallet_exists`, `too_many_wallets`.
    """
    user, company = commerce_selectors.buyer_for_request(request)
    wallet = wallet_add(company=company, chain=body.chain, address=body.address, label=body.label, by=user)
    return Status(201, _wallet_out(wallet))


@router.delete("/wallets/{wallet_id}", response={204: None, **ERRORS}, summary="Stop watching a wallet")
def wallet_delete(request: HttpRequest, wallet_id: int):
    user, company = commerce_selectors.buyer_for_request(request)
    wallet = Wallet.objects.select_related("company").filter(pk=wallet_id, company=company).first()
    if wallet is None:
        raise ApiError(404, "not_found", f"Your company watches no wallet {wallet_id}.")
    wallet_remove(wallet=wallet, by=user)
    return Status(204, None)


class SnapshotOut(Schema):
    id: int
    status: str
    trigger: str
    created_at: datetime
    finished_at: datetime | None
    age_s: float | None
    total_usd: Decimal
    metal_usd: Decimal
    crypto_usd: Decimal
    stale_count: int
    unpriced_count: int
    carried_count: int
    sources: list[str]
    simulated: bool
    error: str
    receipt_index: int | None


@router.post("/snapshots", response={202: SnapshotOut, **ERRORS, 409: ErrorOut}, summary="Queue a snapshot")
def snapshot_new(request: HttpRequest):
    """Queue a valuation of every holding; follow it in GET /snapshots. 409 `snapshot_pending` while one is
    queued or running (its id in `snapshot_id`)."""
    user, company = commerce_selectors.buyer_for_request(request)
    return Status(202, snapshot_json(snapshot_request(company=company, by=user)))


@router.get("/snapshots", response={200: list[SnapshotOut], **ERRORS}, summary="Snapshots, newest first")
def snapshots(request: HttpRequest, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=MAX_OFFSET)):
    _, company = commerce_selectors.buyer_for_request(request)
    return [snapshot_json(s) for s in selectors.snapshots_for(company)[offset : offset + limit]]


class HoldingOut(Schema):
    kind: str
    status: str
    label: str
    chain: str
    address: str
    product: str | None
    asset: str
    symbol: str
    contract: str
    quantity: str | None
    unit: str
    fine_oz: Decimal | None
    quantity_source: str
    quantity_at: datetime
    price_usd: Decimal | None
    price_source: str
    price_at: datetime | None
    price_age_s: float | None
    value_usd: Decimal | None
    note: str


class ValuationOut(Schema):
    snapshot: SnapshotOut
    holdings: list[HoldingOut]


@router.get("/valuation", response={200: ValuationOut, **ERRORS}, summary="The latest valuation")
def valuation(request: HttpRequest):
    """The newest finished snapshot with every holding (address or product, quantity, price, source, age).
    While a newer snapshot runs or fails, the last good one is served; `snapshot.age_s` says how old it is.
    404 `no_snapshot` before the first one finishes."""
    _, company = commerce_selectors.buyer_for_request(request)
    snapshot = selectors.snapshot_latest(company)
    if snapshot is None:
        raise ApiError(404, "no_snapshot", "No snapshot of this treasury has finished yet; POST /snapshots queues one.")
    return {"snapshot": snapshot_json(snapshot), "holdings": [holding_json(h) for h in selectors.holdings_of(snapshot)]}


class RiskHorizonOut(Schema):
    days: int
    var_95: Decimal
    es_95: Decimal
    var_99: Decimal
    es_99: Decimal


class RiskPositionOut(Schema):
    asset: str
    name: str
    kind: str
    value_usd: Decimal
    volatility: float
    basis: str
    contribution_es_99_10d: Decimal
    contribution_es_95_1d: Decimal


class RiskOut(Schema):
    snapshot: int
    as_of: datetime | None
    value_usd: Decimal = Decimal(0)
    paths: int = 0
    backend: str | None = None
    shocks: str = "normal"
    simulated_history: bool = False
    horizons: list[RiskHorizonOut] = []
    positions: list[RiskPositionOut] = []
    correlation: list[list[float]] = []
    error: str | None = None


@router.get("/risk", response={200: RiskOut, **ERRORS}, summary="Risk of the latest valuation")
def risk(request: HttpRequest):
    """Monte Carlo VaR and expected shortfall (95/99 %, 1 and 10 days) of the latest finished snapshot, with each
    holding's contribution. 404 `no_risk` until a snapshot's risk has been computed."""
    _, company = commerce_selectors.buyer_for_request(request)
    snapshot = selectors.snapshot_latest(company)
    if snapshot is None or snapshot.risk is None:
        raise ApiError(404, "no_risk", "No risk figures yet: they are computed with each finished snapshot.")
    return {"snapshot": snapshot.pk, "as_of": snapshot.finished_at, **snapshot.risk}
