"""Every write operation in ``/api/openapi.json`` is driven by a client test in this folder.

Each client test names what it drives with ``@pytest.mark.covers("METHOD /api/path")`` and fails unless each named
operation answered it 2xx (``tests/clients/conftest.py``). A write operation added to the API without a client test
fails here, so the suite cannot again be green while real clients are refused (issue 23).
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

from tests.clients.conftest import write_operations

HERE = Path(__file__).parent


def _claimed() -> dict[str, list[str]]:
    """The operations each client test claims, by operation."""
    claimed: dict[str, list[str]] = {}
    for path in sorted(HERE.glob("test_*_client.py")):
        module = importlib.import_module(f"tests.clients.{path.stem}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("test_"):
                continue
            for mark in getattr(function, "pytestmark", []):
                if mark.name == "covers":
                    for operation in mark.args:
                        claimed.setdefault(operation, []).append(f"{path.stem}::{name}")
    return claimed


def test_every_write_operation_has_a_client_test():
    missing = write_operations() - set(_claimed())
    assert not missing, (
        "These write operations have no client test (add one under tests/clients/ marked "
        f"@pytest.mark.covers(...)): {sorted(missing)}"
    )


def test_every_claimed_operation_is_in_the_document():
    unknown = set(_claimed()) - write_operations()
    assert not unknown, f"Client tests claim operations the API does not have: {sorted(unknown)}"


def test_the_document_has_write_operations_to_check():
    assert len(write_operations()) >= 30
