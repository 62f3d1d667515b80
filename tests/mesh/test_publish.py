"""mesh.publish: persist, seal, validate; nothing is left behind when the caller's transaction fails."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

import mesh
from mesh.entries import blake3_hex, canonical_json
from mesh.log import log_size
from mesh.models import Event, LogEntry
from mesh.services import MeshError

pytestmark = pytest.mark.django_db


def test_it_persists_and_seals_an_event(alice):
    event = mesh.publish("order.paid", {"number": "PSD-1", "total": Decimal("2450.10")}, actor=alice)
    assert event.log_index == 0
    assert event.payload == {"number": "PSD-1", "total": "2450.10"}
    assert event.payload_blake3 == blake3_hex(canonical_json(event.payload))
    assert event.actor == f"user:{alice.pk}"
    assert LogEntry.objects.get(index=0).kind == "event"
    assert mesh.publish("order.shipped", {"number": "PSD-1"}).log_index == 1
    assert log_size() == 2


@pytest.mark.parametrize("topic", ["Order.Paid", "order", "order..paid", ".order.paid", "order paid", "x." * 60])
def test_it_refuses_bad_topics(topic):
    with pytest.raises(MeshError, match="dotted lower-case name"):
        mesh.publish(topic, {})
    assert not Event.objects.exists()


def test_it_refuses_payloads_that_are_not_json_objects():
    with pytest.raises(MeshError, match="JSON object"):
        mesh.publish("order.paid", ["a", "list"])
    with pytest.raises(MeshError, match="not JSON-serialisable: set is not"):
        mesh.publish("order.paid", {"items": {1, 2}})
    with pytest.raises(MeshError, match="not JSON-serialisable"):
        mesh.publish("order.paid", {"price": float("nan")})


def test_it_refuses_oversized_payloads(settings):
    settings.MESH_MAX_PAYLOAD_BYTES = 1024
    with pytest.raises(MeshError, match="the limit is 1024") as exc:
        mesh.publish("order.paid", {"blob": "x" * 2000})
    assert exc.value.code == "payload_too_large"
    assert log_size() == 0


def test_a_rolled_back_transaction_leaves_no_event_and_no_leaf():
    mesh.publish("order.paid", {"n": 1})

    def failing_write() -> None:
        with transaction.atomic():
            mesh.publish("order.paid", {"n": 2})
            raise RuntimeError("the caller's write failed")

    with pytest.raises(RuntimeError):
        failing_write()
    assert list(Event.objects.values_list("log_index", flat=True)) == [0]
    assert log_size() == 1
    assert mesh.publish("order.paid", {"n": 3}).log_index == 1  # no gap


def test_public_topics_are_marked_for_the_status_stream():
    assert mesh.publish("dreamsnail.committed", {"index": 0}).public is True
    assert mesh.publish("order.paid", {"number": "PSD-1"}).public is False
