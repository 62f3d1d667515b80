"""Fixtures of the codegen tests: a demo workspace in a temporary folder, a structured spec, API keys."""

from __future__ import annotations

import pytest

from agents.codegen import gitops
from agents.codegen.services import workspace_register
from dreamnet.apikeys import apikey_create
from tests.agents.conftest import fake_openai, test_price  # noqa: F401  (fixtures)

SPEC = {
    "name": "supplier",
    "fields": [
        {"name": "title", "type": "str", "max_length": 80, "unique": True},
        {"name": "notes", "type": "text", "required": False},
        {"name": "rating", "type": "int"},
        {"name": "credit", "type": "decimal", "required": False},
        {"name": "active", "type": "bool"},
        {"name": "since", "type": "date"},
        {"name": "seen_at", "type": "datetime", "required": False},
    ],
    "operations": ["list", "get", "create", "update", "delete"],
}


@pytest.fixture
def workspace(db, tmp_path):
    root = tmp_path / "demo"
    gitops.init_demo(root)
    return workspace_register(
        name="demo", path=str(root), allowed_paths=["apps/"], test_command=gitops.DEMO_TEST_COMMAND
    )


@pytest.fixture
def key(db):
    _key, raw = apikey_create(name="codegen-bot", scopes=["codegen"])
    return {"X-DREAMNET-KEY": raw}
