"""The providers this node knows, by name, which payment method each takes, and which methods a company is
offered (by its country, ``DREAMNET_PAYMENT_RULES``)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from commerce.payments.base import PaymentProvider
from commerce.payments.lemonsqueezy import LemonSqueezyProvider
from commerce.payments.stripe import StripeProvider

PROVIDERS: dict[str, PaymentProvider] = {"stripe": StripeProvider(), "lemonsqueezy": LemonSqueezyProvider()}
ONLINE = "stripe"
# The provider behind each online payment method (wire needs none).
METHOD_PROVIDER = {"card": "stripe", "ach": "stripe", "lemonsqueezy": "lemonsqueezy"}
EU = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)  # the member states; "EU" in a rule stands for each of them


def provider_get(name: str = ONLINE) -> PaymentProvider:
    """Return the provider called ``name``; a name this node does not know is a configuration error."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise LookupError(f"No payment provider is called {name!r}; known: {', '.join(PROVIDERS)}.") from None


def provider_for_method(method: str) -> PaymentProvider | None:
    """Return the provider that takes ``method`` (None for wire)."""
    name = METHOD_PROVIDER.get(method)
    return PROVIDERS[name] if name else None


def payment_rules(text: str | None = None) -> dict[str, list[str]]:
    """Parse ``"US:card,ach,wire;EU:lemonsqueezy,wire;*:wire"`` into {region: [methods]}; raise ValueError on
    an unknown method or a rule without a colon."""
    rules: dict[str, list[str]] = {}
    for part in (settings.PAYMENT_RULES if text is None else text).split(";"):
        if not part.strip():
            continue
        region, sep, methods = part.partition(":")
        names = [m.strip() for m in methods.split(",") if m.strip()]
        unknown = [m for m in names if m != "wire" and m not in METHOD_PROVIDER]
        if not sep or not names or unknown:
            raise ValueError(
                f"Bad payment rule {part!r}: use REGION:method,method (methods wire, card, ach, lemonsqueezy)."
            )
        rules[region.strip().upper()] = names
    return rules


def methods_for_country(country: str) -> list[str]:
    """Return the payment methods offered to a company established in ``country``, in the rule's order.

    The country's own rule wins, then ``EU`` for member states, then ``*``; wire is always offered."""
    rules = payment_rules()
    country = (country or "").upper()
    methods = rules.get(country) or (rules.get("EU") if country in EU else None) or rules.get("*") or ["wire"]
    return methods if "wire" in methods else [*methods, "wire"]


def method_fee(method: str) -> tuple[Decimal, str]:
    """Return (surcharge percent added to each locked line, who charges it) for a payment method."""
    if method == "card":
        return Decimal(settings.CARD_SURCHARGE_PERCENT), "card surcharge (Stripe's fee)"
    if method == "lemonsqueezy":
        return (
            Decimal(settings.LEMONSQUEEZY_SURCHARGE_PERCENT),
            "merchant-of-record fee (Lemon Squeezy); VAT of the buyer's country added at its checkout",
        )
    return Decimal(0), "no fee" if method == "wire" else "no surcharge (ACH)"
