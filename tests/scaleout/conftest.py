from __future__ import annotations

from tests.agents.conftest import seeded  # noqa: F401  (agents and prices again after a flush)
from tests.commerce.conftest import acme, catalog, shop, spot  # noqa: F401  (the commerce fixtures)
