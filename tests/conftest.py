"""Shared personas and helpers.

alice (buyer) and bob (approver) belong to the same customer; charlie is an outsider; olivia is an operator
(staff). Apps add company memberships to these personas as they grow.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

PASSWORD = "correct horse battery staple"


def _user(username: str, **extra):
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


@pytest.fixture
def alice(db):
    return _user("alice", first_name="Alice")


@pytest.fixture
def bob(db):
    return _user("bob", first_name="Bob")


@pytest.fixture
def charlie(db):
    return _user("charlie", first_name="Charlie")


@pytest.fixture
def olivia(db):
    return _user("olivia", first_name="Olivia", is_staff=True)
