"""mesh.publish_many and the publish path's statement count: fewer statements, the same sealed log."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

import mesh
from mesh import merkle
from mesh.entries import blake3_hex, canonical_json
from mesh.log import _KEPT, DatabaseNodes, log_size, tree_root
from mesh.models import Event, LogEntry, LogState, TreeNode
from mesh.services import MeshError

pytestmark = pytest.mark.django_db


def _statements(queries) -> list[str]:
    skip = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")
    return [q["sql"] for q in queries if not q["sql"].upper().startswith(skip)]


def _rebuilt_root(size: int) -> bytes:
    tree = merkle.MemoryTree(bytes(e.entry) for e in LogEntry.objects.order_by("index")[:size])
    return merkle.root(size, tree)


def test_publish_many_seals_consecutive_events_like_publish(alice):
    mesh.publish("order.paid", {"n": 0})
    events = mesh.publish_many(
        [("order.paid", {"n": 1}), ("status.note", {"n": 2}), ("order.shipped", {})], actor=alice
    )
    assert [e.log_index for e in events] == [1, 2, 3]
    assert [e.pk for e in events] == list(Event.objects.filter(log_index__gte=1).values_list("pk", flat=True))
    assert events[1].public and not events[0].public
    assert all(e.actor == f"user:{alice.pk}" for e in events)
    assert events[0].payload_blake3 == blake3_hex(canonical_json({"n": 1}))
    assert log_size() == 4
    assert tree_root(4) == _rebuilt_root(4)
    assert mesh.publish("order.paid", {"n": 4}).log_index == 4
    assert tree_root(5) == _rebuilt_root(5)


def test_publish_many_writes_nothing_when_one_event_is_invalid():
    with pytest.raises(MeshError):
        mesh.publish_many([("order.paid", {"n": 1}), ("Bad Topic", {})])
    assert log_size() == 0
    assert mesh.publish_many([]) == []


def test_publish_many_uses_the_same_statements_for_ten_events_as_for_one():
    mesh.publish("order.paid", {"n": 0})  # the sequencer row exists and this process knows its state
    with CaptureQueriesContext(connection) as one, transaction.atomic():
        mesh.publish("order.paid", {"n": 1})
    with CaptureQueriesContext(connection) as ten, transaction.atomic():
        mesh.publish_many([("order.paid", {"n": i}) for i in range(10)])
    assert len(_statements(one.captured_queries)) == 4  # sequencer update, entry, tree nodes, event
    assert len(_statements(ten.captured_queries)) <= 4
    assert tree_root(12) == _rebuilt_root(12)


def test_a_stale_kept_sequencer_state_is_never_written_over():
    mesh.publish("order.paid", {"n": 0})
    # Another process appended: the state this process kept is no longer the stored one.
    _KEPT[connection.alias] = (0, b"")
    with CaptureQueriesContext(connection) as queries:
        assert mesh.publish("order.paid", {"n": 1}).log_index == 1
    assert any("FOR UPDATE" in sql or sql.startswith("SELECT") for sql in _statements(queries.captured_queries))
    state = LogState.objects.get()
    assert state.size == 2
    assert TreeNode.objects.filter(level=0).count() == 2
    assert tree_root(2) == _rebuilt_root(2)
    assert merkle.root(2, DatabaseNodes()) == _rebuilt_root(2)


def test_a_rolled_back_publish_many_leaves_no_event_and_no_leaf():
    mesh.publish("order.paid", {"n": 0})

    def failing_write() -> None:
        with transaction.atomic():
            mesh.publish_many([("order.paid", {"n": 1}), ("order.paid", {"n": 2})])
            raise RuntimeError("the caller's write failed")

    with pytest.raises(RuntimeError):
        failing_write()
    assert log_size() == 1
    assert mesh.publish("order.paid", {"n": 3}).log_index == 1  # no gap: the kept state was not the stored one
    assert tree_root(2) == _rebuilt_root(2)
