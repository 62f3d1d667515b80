"""mesh_audit recomputes the log from its rows and names the first index that no longer matches."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

import mesh
from mesh.log import checkpoint_sign
from mesh.models import Checkpoint, Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed():
    for i in range(40):
        mesh.publish("order.paid", {"number": f"PSD-{i}", "total": "100.00"})
    checkpoint_sign(force=True)


def test_an_intact_log_passes(sealed):
    out = StringIO()
    call_command("mesh_audit", stdout=out)
    assert "Log intact: 40 entries and 1 checkpoints verified." in out.getvalue()


def test_an_edited_payload_is_named_by_its_index(sealed, tamper):
    tamper(Event.objects.filter(log_index=17), payload={"number": "PSD-17", "total": "1.00"})
    err = StringIO()
    with pytest.raises(CommandError, match="first bad index: 17"):
        call_command("mesh_audit", stdout=StringIO(), stderr=err)
    assert "index 17: event payload was changed" in err.getvalue()


def test_an_edited_topic_is_named_by_its_index(sealed, tamper):
    tamper(Event.objects.filter(log_index=5), topic="order.refunded")
    with pytest.raises(CommandError, match="first bad index: 5"):
        call_command("mesh_audit", stdout=StringIO(), stderr=StringIO())


def test_a_forged_checkpoint_is_caught(sealed, tamper):
    tamper(Checkpoint.objects.all(), note="dreamnet.local/x\n40\nAAAA\n\n— dreamnet.local/x AAAA\n")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("mesh_audit", stdout=StringIO(), stderr=err)
    assert "checkpoint at size 40" in err.getvalue()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL")
def test_postgresql_refuses_updates_and_deletes_of_sealed_rows(sealed):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(log_index=3).update(topic="order.refunded")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(log_index=3).delete()
