"""Treasury writes: watched wallets, valuation snapshots (queued, run, signed) and their risk."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

import mesh
from commerce.models import Company
from commerce.selectors import spot_latest
from treasury import selectors
from treasury.addresses import AddressError, address_clean, family
from treasury.errors import TreasuryError
from treasury.models import Holding, Snapshot, Wallet
from treasury.presenters import canonical_digest, holding_rows
from treasury.providers import (
    AlchemyProvider,
    Balance,
    CoinGeckoProvider,
    HeliusProvider,
    Price,
    ProviderError,
    SimulatedChainProvider,
    SimulatedPriceProvider,
    VechainThorProvider,
)
from treasury.providers.base import HttpClient
from treasury.valuation import judge, line_value, totals

logger = logging.getLogger(__name__)
SNAPSHOT_TASK = "treasury.tasks.snapshot_run_task"


# Wallets -------------------------------------------------------------------------------------------------


def wallet_add(*, company: Company, chain: str, address: str, label: str, by=None) -> Wallet:
    """Validate ``address`` for ``chain`` and watch it for ``company``; publish ``treasury.wallet.added``.

    Refuses an unsupported chain, a malformed or wrong-checksum address, anything shaped like a private key
    (422 with the mistake's code), an empty label, a duplicate (409, held by a unique constraint, so two members
    adding it at once get one row) and more than DREAMNET_TREASURY_MAX_WALLETS wallets (counted under a lock on
    the company row).
    """
    try:
        clean = address_clean(chain=chain, address=address)
    except AddressError as exc:
        raise TreasuryError(exc.detail, code=exc.code, status=422) from None
    chain = chain.strip().lower()
    label = (label or "").strip()
    if not label or len(label) > 80:
        raise TreasuryError("A wallet needs a label of 1 to 80 characters.", code="bad_label", status=422)
    try:
        with transaction.atomic():
            # The company row is the lock that keeps concurrent adds under the limit.
            Company.objects.select_for_update().filter(pk=company.pk).first()
            if Wallet.objects.filter(company=company).count() >= settings.TREASURY_MAX_WALLETS:
                raise TreasuryError(
                    f"A company watches at most {settings.TREASURY_MAX_WALLETS} wallets; remove one first.",
                    code="too_many_wallets",
                    status=409,
                )
            wallet = Wallet.objects.create(company=company, chain=chain, address=clean, label=label, added_by=by)
    except IntegrityError:
        raise TreasuryError(
            f"{company.name} already watches {clean} on {chain}.", code="wallet_exists", status=409
        ) from None
    mesh.publish_on_commit(
        "treasury.wallet.added", {"company": company.slug, "wallet": wallet.pk, "chain": chain, "address": clean},
        actor=by,
    )  # fmt: skip
    return wallet


def wallet_remove(*, wallet: Wallet, by=None) -> None:
    """Stop watching ``wallet``; its lines in past snapshots stay (they record what was held then)."""
    payload = {"company": wallet.company.slug, "wallet": wallet.pk, "chain": wallet.chain, "address": wallet.address}
    wallet.delete()
    mesh.publish_on_commit("treasury.wallet.removed", payload, actor=by)


# Providers (the spot feed's rule: listed order, a keyed provider without its key is skipped, first answer wins)


def _http(provider: str) -> HttpClient:
    return HttpClient(
        provider=provider, timeout=settings.TREASURY_HTTP_TIMEOUT_S, retries=settings.TREASURY_HTTP_RETRIES
    )


def chain_providers(kind: str) -> list:
    """Return the configured providers that read ``kind`` (evm, solana, vechain), in DREAMNET_TREASURY_SOURCES
    order."""
    built: list = []
    for name in settings.TREASURY_SOURCES:
        if name == "simulated":
            built.append(SimulatedChainProvider(seed=settings.TREASURY_SIMULATED_SEED))
        elif name == "alchemy" and kind == "evm":
            if settings.ALCHEMY_API_KEY:
                built.append(AlchemyProvider(api_key=settings.ALCHEMY_API_KEY, url_template=settings.ALCHEMY_URL,
                                             http=_http(name)))  # fmt: skip
            else:
                logger.warning("Treasury source alchemy is listed but ALCHEMY_API_KEY is unset; skipping it")
        elif name == "helius" and kind == "solana":
            if settings.HELIUS_API_KEY:
                built.append(HeliusProvider(api_key=settings.HELIUS_API_KEY, url=settings.HELIUS_URL, http=_http(name)))
            else:
                logger.warning("Treasury source helius is listed but HELIUS_API_KEY is unset; skipping it")
        elif name == "vechain" and kind == "vechain":
            built.append(VechainThorProvider(url=settings.VECHAIN_URL, http=_http(name)))
    return built


def price_providers() -> list:
    built: list = []
    for name in settings.TREASURY_SOURCES:
        if name == "simulated":
            built.append(SimulatedPriceProvider(seed=settings.TREASURY_SIMULATED_SEED))
        elif name == "coingecko":
            header = "x-cg-pro-api-key" if "pro-api" in settings.COINGECKO_URL else "x-cg-demo-api-key"
            key = settings.COINGECKO_API_KEY
            http = HttpClient(provider=name, timeout=settings.TREASURY_HTTP_TIMEOUT_S,
                              retries=settings.TREASURY_HTTP_RETRIES, headers={header: key} if key else {})  # fmt: skip
            built.append(CoinGeckoProvider(api_key=key or "", url=settings.COINGECKO_URL, http=http))
    return built


def wallet_read(wallet: Wallet, providers: list) -> tuple[list[Balance] | None, list[str]]:
    """Return (balances, failures): the first provider's answer, or None with every provider's failure."""
    failures = []
    for provider in providers:
        try:
            return provider.balances(chain=wallet.chain, address=wallet.address), failures
        except ProviderError as exc:
            failures.append(str(exc))
            logger.warning("Treasury source failed for wallet %s, trying the next: %s", wallet.pk, exc)
    return None, failures or [f"no source is configured for {wallet.chain}"]


def prices_read(assets: list[str], *, now: datetime, providers: list) -> tuple[dict[str, Price], list[str]]:
    failures = []
    for provider in providers:
        try:
            return provider.prices(assets=assets, now=now), failures
        except ProviderError as exc:
            failures.append(str(exc))
            logger.warning("Treasury price source failed, trying the next: %s", exc)
    return {}, failures or ["no price source is configured"]


# Snapshots -----------------------------------------------------------------------------------------------


def snapshot_request(*, company: Company, by=None, trigger: str = Snapshot.Trigger.REQUEST) -> Snapshot:
    """Queue a valuation snapshot of ``company`` on the task cluster and return it (status ``queued``).

    One snapshot may be queued or running per company (a partial unique constraint): a second request meanwhile
    is refused with 409 ``snapshot_pending`` naming the pending one. A pending snapshot older than the task
    cluster's retry window (its task was lost with a worker or a broker) is marked failed first, so a lost task
    never blocks the company's snapshots.
    """
    lost_before = timezone.now() - timedelta(seconds=settings.Q_CLUSTER["retry"] + 60)
    Snapshot.objects.filter(
        company=company, status__in=[Snapshot.Status.QUEUED, Snapshot.Status.RUNNING], created_at__lt=lost_before
    ).update(status=Snapshot.Status.FAILED, finished_at=timezone.now(), error="lost: its task never finished")
    try:
        with transaction.atomic():
            snapshot = Snapshot.objects.create(company=company, requested_by=by, trigger=trigger)
    except IntegrityError:
        pending = selectors.snapshot_pending(company)
        raise TreasuryError(
            "A snapshot of this treasury is already queued; follow it in GET /api/treasury/snapshots.",
            code="snapshot_pending",
            status=409,
            extra={"snapshot_id": pending.pk if pending else None},
        ) from None
    transaction.on_commit(lambda: _enqueue(snapshot.pk))
    mesh.publish_on_commit("treasury.snapshot.queued", {"company": company.slug, "snapshot": snapshot.pk}, actor=by)
    return snapshot


def _enqueue(snapshot_id: int) -> None:
    from django_q.tasks import async_task

    async_task(SNAPSHOT_TASK, snapshot_id, task_name=f"treasury-snapshot-{snapshot_id}")


def _metal_lines(snapshot: Snapshot, now: datetime) -> list[Holding]:
    spots = spot_latest()
    lines = []
    for vaulted in selectors.vaulted_metal(snapshot.company):
        product = vaulted.product
        spot = spots.get(product.metal)
        if spot is None:
            status, value, note, price = "unpriced", None, f"no {product.metal} spot price yet", None
        elif spot.stale:
            status, value, price = "stale", None, spot.bid
            note = f"{product.metal} spot is {spot.age_s:.0f} s old (limit {settings.SPOT_MAX_AGE_S} s); not counted"
        else:
            status, value, note, price = "priced", line_value(vaulted.fine_oz, spot.bid), "", spot.bid
        lines.append(
            Holding(
                snapshot=snapshot, kind="metal", status=status, product=product, label=product.name,
                asset=f"metal:{product.metal}", symbol=product.metal, contract=product.sku,
                quantity=str(vaulted.quantity), unit="pcs", fine_oz=vaulted.fine_oz, quantity_source="vault",
                quantity_at=now, price_usd=price, price_source=spot.source if spot else "",
                price_at=spot.fetched_at if spot else None, value_usd=value, note=note,
            )
        )  # fmt: skip
    return lines


def _crypto_lines(snapshot: Snapshot, now: datetime) -> tuple[list[Holding], set[str], list[str]]:
    """Read every wallet (carrying its last good read when every source fails) and price every asset."""
    read: list[tuple[Wallet, Balance, datetime, str]] = []  # wallet, balance, read at, carried note
    sources: set[str] = set()
    problems: list[str] = []
    providers_by_kind: dict[str, list] = {}
    for wallet in selectors.wallets_for(snapshot.company):
        kind = family(wallet.chain)
        if kind not in providers_by_kind:  # one set (one HTTP client each) per chain family per snapshot
            providers_by_kind[kind] = chain_providers(kind)
        providers = providers_by_kind[kind]
        balances, failures = wallet_read(wallet, providers)
        if balances is not None:
            sources.update(b.source for b in balances)
            read.extend((wallet, b, now, "") for b in balances)
            continue
        problems.append(f"{wallet.label}: " + "; ".join(failures))
        carried = selectors.wallet_last_read(wallet)
        note = "every source failed (" + "; ".join(failures)[:200] + ")"
        if not carried:
            read.append((wallet, Balance(f"native:{wallet.chain}", "?", "", None, None, "", "none", note), now, ""))
        for old in carried:
            balance = Balance(old.asset, old.symbol, old.label, old.quantity_decimal, None, old.contract,
                              old.quantity_source)  # fmt: skip
            read.append(
                (wallet, balance, old.quantity_at, f"balance read {old.quantity_at:%Y-%m-%d %H:%M} UTC; {note}")
            )
    assets = sorted({b.asset for _, b, _, _ in read if b.quantity is not None})
    pricing = price_providers() if assets else []
    prices, price_failures = prices_read(assets, now=now, providers=pricing) if assets else ({}, [])
    for provider in [*pricing, *(p for group in providers_by_kind.values() for p in group)]:
        if hasattr(provider, "http"):
            provider.http.close()
    if price_failures and not prices:
        problems.append("prices: " + "; ".join(price_failures))
    sources.update(p.source for p in prices.values())
    lines = []
    for wallet, balance, read_at, carried in read:
        price = prices.get(balance.asset)
        judged = judge(
            quantity=balance.quantity, price=price.usd if price else None, price_at=price.as_of if price else None,
            now=now, max_age_s=settings.TREASURY_PRICE_MAX_AGE_S, problem=balance.problem,
        )  # fmt: skip
        status = "carried" if carried and judged.status == "priced" else judged.status
        lines.append(
            Holding(
                snapshot=snapshot, kind="crypto", status=status, wallet=wallet, chain=wallet.chain,
                address=wallet.address, label=balance.name or balance.symbol, asset=balance.asset,
                symbol=balance.symbol, contract=balance.contract,
                quantity="" if balance.quantity is None else format(balance.quantity, "f"), unit="units",
                quantity_source=balance.source, quantity_at=read_at, price_usd=price.usd if price else None,
                price_source=price.source if price else "", price_at=price.as_of if price else None,
                value_usd=judged.value, note=(carried or judged.note)[:300],
            )
        )  # fmt: skip
    return lines, sources, problems


def snapshot_run(*, snapshot: Snapshot) -> Snapshot:
    """Value every holding of the snapshot's company and seal the result.

    Claims the queued snapshot under ``select_for_update`` (a snapshot queued twice runs once), reads the
    providers outside any transaction, then in one transaction writes the lines and totals, issues the signed
    receipt and publishes ``treasury.snapshot.done`` (both sealed into the log with the write).
    """
    with transaction.atomic():
        claimed = Snapshot.objects.select_for_update().get(pk=snapshot.pk)
        if claimed.status != Snapshot.Status.QUEUED:
            return claimed
        claimed.status, claimed.started_at = Snapshot.Status.RUNNING, timezone.now()
        claimed.save(update_fields=["status", "started_at"])
    snapshot = claimed
    now = timezone.now()
    try:
        metal = _metal_lines(snapshot, now)
        crypto, sources, problems = _crypto_lines(snapshot, now)
    except Exception as exc:  # the snapshot must not stay "running" forever; the reason is recorded
        logger.exception("Treasury snapshot %s failed", snapshot.pk)
        Snapshot.objects.filter(pk=snapshot.pk).update(
            status=Snapshot.Status.FAILED, finished_at=timezone.now(), error=f"{exc.__class__.__name__}: {exc}"[:2000]
        )
        snapshot.refresh_from_db()
        return snapshot
    lines = metal + crypto
    metal_usd, crypto_usd, total = totals((h.kind, h.value_usd) for h in lines)
    if any(h.kind == "metal" for h in metal):
        sources.update(h.price_source for h in metal if h.price_source)
    counts = {s: sum(1 for h in lines if h.status == s) for s in ("stale", "unpriced", "unreadable", "carried")}
    finished = timezone.now()
    wallets = sorted({(h.chain, h.address) for h in crypto})
    try:
        with transaction.atomic():
            Holding.objects.bulk_create(lines)
            # The receipt carries the totals and digests of the inputs and of every line, so it stays small for
            # any treasury; an auditor recomputes the digest from GET /api/treasury/valuation (docs/treasury.md).
            receipt = mesh.receipt_issue(
                operation="treasury.snapshot", subject=f"company:{snapshot.company.slug}/snapshot:{snapshot.pk}",
                inputs={"wallets": len(wallets), "wallets_blake3": canonical_digest([list(w) for w in wallets]),
                        "as_of": now.isoformat(), "sources": sorted(sources)},
                outputs={"total_usd": str(total), "metal_usd": str(metal_usd), "crypto_usd": str(crypto_usd),
                         "lines": len(lines), "holdings_blake3": canonical_digest(holding_rows(lines))},
                started=snapshot.started_at, finished=finished, status="succeeded", cost=Decimal(0),
            )  # fmt: skip
            Snapshot.objects.filter(pk=snapshot.pk).update(
                status=Snapshot.Status.DONE, finished_at=finished, total_usd=total, metal_usd=metal_usd,
                crypto_usd=crypto_usd, stale_count=counts["stale"],
                unpriced_count=counts["unpriced"] + counts["unreadable"], carried_count=counts["carried"],
                sources=sorted(sources), error="\n".join(problems)[:2000], receipt_index=receipt.log_index,
            )  # fmt: skip
            mesh.publish(
                "treasury.snapshot.done",
                {"company": snapshot.company.slug, "snapshot": snapshot.pk, "total_usd": str(total),
                 "metal_usd": str(metal_usd), "crypto_usd": str(crypto_usd), "receipt_index": receipt.log_index,
                 "simulated": "simulated" in sources},
            )  # fmt: skip
    except Exception as exc:  # nothing of the valuation was written; the snapshot records why
        logger.exception("Treasury snapshot %s could not be sealed", snapshot.pk)
        Snapshot.objects.filter(pk=snapshot.pk).update(
            status=Snapshot.Status.FAILED, finished_at=timezone.now(), error=f"{exc.__class__.__name__}: {exc}"[:2000]
        )
    snapshot.refresh_from_db()
    return snapshot


def snapshots_due(*, now: datetime | None = None) -> list[Snapshot]:
    """Queue a scheduled snapshot for every company with a wallet or vaulted metal whose newest snapshot is older
    than DREAMNET_TREASURY_SNAPSHOT_EVERY_MIN; return the ones queued (companies with one pending are skipped)."""
    from commerce.models import Order

    now = now or timezone.now()
    every = settings.TREASURY_SNAPSHOT_EVERY_MIN * 60
    holders = set(Wallet.objects.values_list("company_id", flat=True)) | set(
        Order.objects.filter(status=Order.Status.VAULTED).values_list("company_id", flat=True)
    )
    queued = []
    for company in Company.objects.filter(pk__in=holders):
        last = selectors.snapshots_for(company).first()
        if last is not None and (now - last.created_at).total_seconds() < every:
            continue
        try:
            queued.append(snapshot_request(company=company, trigger=Snapshot.Trigger.SCHEDULE))
        except TreasuryError:
            continue
    return queued
