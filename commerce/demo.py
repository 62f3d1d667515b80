"""The demo catalog loaded by `make run`: about twenty realistic bullion products with default tiers."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from commerce.models import Plan, PriceTier, Product

D = Decimal
# sku, name, metal, form, weight, unit, fineness, brand, base premium %, fixed $, stock, min qty
CATALOG = [
    (
        "xau-bar-1oz-pamp",
        "1 oz Gold Bar, PAMP Suisse Lady Fortuna",
        "XAU",
        "bar",
        "1",
        "ozt",
        "0.9999",
        "PAMP Suisse",
        "2.8",
        "0",
        420,
        1,
    ),
    (
        "xau-bar-10oz-valcambi",
        "10 oz Gold Bar, Valcambi",
        "XAU",
        "bar",
        "10",
        "ozt",
        "0.9999",
        "Valcambi",
        "1.6",
        "0",
        60,
        1,
    ),
    ("xau-bar-1kg-heraeus", "1 kg Gold Bar, Heraeus", "XAU", "bar", "1", "kg", "0.9999", "Heraeus", "1.2", "0", 25, 1),
    (
        "xau-bar-100g-perth",
        "100 g Gold Bar, Perth Mint",
        "XAU",
        "bar",
        "100",
        "g",
        "0.9999",
        "Perth Mint",
        "1.9",
        "0",
        80,
        1,
    ),
    (
        "xau-coin-eagle-1oz",
        "1 oz American Gold Eagle",
        "XAU",
        "coin",
        "1.0909",
        "ozt",
        "0.9167",
        "US Mint",
        "4.5",
        "0",
        500,
        1,
    ),
    (
        "xau-coin-maple-1oz",
        "1 oz Gold Maple Leaf",
        "XAU",
        "coin",
        "1",
        "ozt",
        "0.9999",
        "Royal Canadian Mint",
        "3.6",
        "0",
        450,
        1,
    ),
    (
        "xau-coin-krugerrand-1oz",
        "1 oz Krugerrand",
        "XAU",
        "coin",
        "1.0909",
        "ozt",
        "0.9167",
        "Rand Refinery",
        "3.2",
        "0",
        300,
        1,
    ),
    (
        "xau-coin-philharmonic-1oz",
        "1 oz Vienna Philharmonic",
        "XAU",
        "coin",
        "1",
        "ozt",
        "0.9999",
        "Austrian Mint",
        "3.4",
        "0",
        280,
        1,
    ),
    (
        "xag-bar-100oz-rmc",
        "100 oz Silver Bar, Royal Canadian Mint",
        "XAG",
        "bar",
        "100",
        "ozt",
        "0.9999",
        "Royal Canadian Mint",
        "5.5",
        "0",
        90,
        1,
    ),
    (
        "xag-bar-1kg-umicore",
        "1 kg Silver Bar, Umicore",
        "XAG",
        "bar",
        "1",
        "kg",
        "0.999",
        "Umicore",
        "7.0",
        "0",
        150,
        1,
    ),
    ("xag-bar-10oz-asahi", "10 oz Silver Bar, Asahi", "XAG", "bar", "10", "ozt", "0.999", "Asahi", "8.0", "0", 600, 1),
    (
        "xag-coin-eagle-1oz",
        "1 oz American Silver Eagle",
        "XAG",
        "coin",
        "1",
        "ozt",
        "0.999",
        "US Mint",
        "18.0",
        "2.00",
        5000,
        20,
    ),
    (
        "xag-coin-maple-1oz",
        "1 oz Silver Maple Leaf",
        "XAG",
        "coin",
        "1",
        "ozt",
        "0.9999",
        "Royal Canadian Mint",
        "14.0",
        "1.50",
        5000,
        25,
    ),
    (
        "xag-coin-britannia-1oz",
        "1 oz Silver Britannia",
        "XAG",
        "coin",
        "1",
        "ozt",
        "0.999",
        "Royal Mint",
        "13.0",
        "1.50",
        4000,
        25,
    ),
    (
        "xag-round-1oz-generic",
        "1 oz Silver Round, assorted",
        "XAG",
        "round",
        "1",
        "ozt",
        "0.999",
        "Assorted mints",
        "9.0",
        "0.90",
        8000,
        50,
    ),
    (
        "xpt-bar-1oz-pamp",
        "1 oz Platinum Bar, PAMP Suisse",
        "XPT",
        "bar",
        "1",
        "ozt",
        "0.9995",
        "PAMP Suisse",
        "6.0",
        "0",
        120,
        1,
    ),
    (
        "xpt-coin-eagle-1oz",
        "1 oz American Platinum Eagle",
        "XPT",
        "coin",
        "1",
        "ozt",
        "0.9995",
        "US Mint",
        "8.5",
        "0",
        90,
        1,
    ),
    (
        "xpt-bar-10oz-valcambi",
        "10 oz Platinum Bar, Valcambi",
        "XPT",
        "bar",
        "10",
        "ozt",
        "0.9995",
        "Valcambi",
        "4.0",
        "0",
        20,
        1,
    ),
    (
        "xpd-bar-1oz-pamp",
        "1 oz Palladium Bar, PAMP Suisse",
        "XPD",
        "bar",
        "1",
        "ozt",
        "0.9995",
        "PAMP Suisse",
        "7.5",
        "0",
        80,
        1,
    ),
    (
        "xpd-coin-maple-1oz",
        "1 oz Palladium Maple Leaf",
        "XPD",
        "coin",
        "1",
        "ozt",
        "0.9995",
        "Royal Canadian Mint",
        "9.0",
        "0",
        40,
        1,
    ),
]

# Volume breaks and how much each takes off the base premium (percentage points), with a floor.
TIER_BREAKS = [(1, D("0")), (50, D("0.4")), (200, D("0.8")), (500, D("1.2"))]


def demo_catalog_load() -> int:
    """Create the demo products that do not exist yet; return how many were created."""
    created = 0
    with transaction.atomic():
        for sku, name, metal, form, weight, unit, fine, brand, premium, fixed, stock, min_qty in CATALOG:
            if Product.objects.filter(sku=sku).exists():
                continue
            product = Product.objects.create(
                sku=sku,
                name=name,
                metal=metal,
                form=form,
                weight=D(weight),
                weight_unit=unit,
                fineness=D(fine),
                brand=brand,
                stock=stock,
                min_quantity=min_qty,
                buyback_percent=D("-1.5"),
                buyback_fixed=D("0"),
            )
            PriceTier.objects.bulk_create(
                PriceTier(product=product, min_qty=qty, percent=max(D(premium) - cut, D("0.5")), fixed=D(fixed))
                for qty, cut in TIER_BREAKS
            )
            created += 1
    return created


PLANS = [
    (
        "desk",
        "Desk",
        "49.00",
        "Daily brief for gold, silver, platinum and palladium\nVolatility and moving averages\nLock-window value-at-risk",
    ),
    (
        "treasury",
        "Treasury",
        "199.00",
        "Everything in Desk\nExpected shortfall and 30-day history\nAPI access to briefs",
    ),
]


def demo_plans_load() -> int:
    created = 0
    for slug, name, price, features in PLANS:
        _plan, made = Plan.objects.get_or_create(
            slug=slug, defaults={"name": name, "monthly_price": D(price), "features": features}
        )
        created += made
    return created
