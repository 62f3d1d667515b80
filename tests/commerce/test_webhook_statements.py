"""The webhook inbox's statements: one insert for an event with nothing to apply, one for a duplicate; a paid
checkout is stored, applied and recorded in one transaction, once."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from commerce.models import ProviderEvent
from commerce.payments import webhook_receive
from tests.commerce.stripe_fake import event, sign

pytestmark = pytest.mark.django_db
SECRET = "whsec_test_statements"


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]


def test_an_event_with_nothing_to_apply_is_one_insert_and_its_duplicate_writes_nothing(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    body = event("evt_payout_1", "payout.paid", {"id": "po_1", "object": "payout", "amount": 1000})
    header = sign(body, SECRET)
    with CaptureQueriesContext(connection) as first:
        result = webhook_receive(payload=body.encode() if isinstance(body, str) else body, signature=header)
    with CaptureQueriesContext(connection) as second:
        again = webhook_receive(payload=body.encode() if isinstance(body, str) else body, signature=header)
    assert len(_writes(first.captured_queries)) == 1
    assert len(first.captured_queries) <= 3  # the insert, inside at most its own BEGIN/COMMIT
    assert again.startswith("duplicate")
    assert len(second.captured_queries) <= 3
    row = ProviderEvent.objects.get(event_id="evt_payout_1")
    assert (row.result, row.attempts, row.pending, row.needs_review) == (result, 1, False, False)
