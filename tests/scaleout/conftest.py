from __future__ import annotations

from tests.commerce.conftest import acme, catalog, shop, spot  # noqa: F401  (the commerce fixtures)
