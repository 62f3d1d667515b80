"""Commerce's imports point one way: payments → nothing above it; services ↛ subscriptions"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMMERCE = Path(__file__).resolve().parents[2] / "commerce"


def _imports(path: Path) -> set[str]:
    """Return every module ``path`` imports, at any depth (function-level imports included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _hits(paths, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(COMMERCE.parent)}: {name}"
        for path in paths
        for name in _imports(path)
        if name in forbidden or name.startswith(tuple(f"{f}." for f in forbidden))
    )


def test_payments_imports_no_service_that_acts_on_a_payment():
    paths = sorted((COMMERCE / "payments").glob("*.py"))
    assert len(paths) >= 5
    assert _hits(paths, ("commerce.services", "commerce.subscriptions", "commerce.views", "commerce.api")) == []


def test_order_services_do_not_import_subscriptions():
    assert _hits([COMMERCE / "services.py"], ("commerce.subscriptions",)) == []


def test_commerce_imports_nothing_from_agents():
    paths = sorted(COMMERCE.rglob("*.py"))
    assert any(p.name == "subscriptions.py" for p in paths)
    assert _hits(paths, ("agents",)) == []


def test_the_walk_sees_function_level_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from agents.services import mission_create\n    import agents.llm\n")
    assert _imports(module) >= {"agents.services", "agents.services.mission_create", "agents.llm"}


@pytest.mark.django_db
def test_an_event_kind_without_a_handler_is_stored_and_flagged(monkeypatch):
    from commerce.models import StripeEvent
    from commerce.payments import EventKind, PaymentEvent, WebhookEvent, inbox

    class Provider:
        name = "test"

        def webhook_parse(self, *, payload, signature):
            return WebhookEvent(
                id="evt_nohandler", type="x", payload={}, events=[PaymentEvent(kind=EventKind.PAID, provider="test")]
            )

    monkeypatch.setattr(inbox, "_handlers", {})
    result = inbox.webhook_receive(provider=Provider(), payload=b"{}", signature=None)
    assert result == "paid: no handler is registered on this node"
    assert StripeEvent.objects.get(event_id="evt_nohandler").needs_review
