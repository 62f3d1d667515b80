from __future__ import annotations

import pytest

from commerce.demo import demo_catalog_load
from commerce.models import Membership, Product
from commerce.services import company_create, spot_refresh


@pytest.fixture
def catalog(db):
    demo_catalog_load()
    return {p.sku: p for p in Product.objects.all()}


@pytest.fixture
def spot(db):
    return spot_refresh()


@pytest.fixture
def acme(alice, bob):
    company = company_create(slug="acme", name="Acme Metals", verified=True)
    Membership.objects.create(company=company, user=alice, role=Membership.Role.BUYER)
    Membership.objects.create(company=company, user=bob, role=Membership.Role.APPROVER)
    return company


@pytest.fixture
def shop(catalog, spot, acme):
    """A verified company with members, the demo catalog and a fresh simulated spot."""
    return acme
