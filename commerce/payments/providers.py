"""The providers this node knows, by name. Card and ACH orders and plans go through ``ONLINE`` today."""

from __future__ import annotations

from commerce.payments.base import PaymentProvider
from commerce.payments.stripe import StripeProvider

PROVIDERS: dict[str, PaymentProvider] = {"stripe": StripeProvider()}
ONLINE = "stripe"


def provider_get(name: str = ONLINE) -> PaymentProvider:
    """Return the provider called ``name``; a name this node does not know is a configuration error."""
    try:
        return PROVIDERS[name]
    except KeyError:
        raise LookupError(f"No payment provider is called {name!r}; known: {', '.join(PROVIDERS)}.") from None
