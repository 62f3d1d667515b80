"""Webhook benchmark: verified, stored and applied events/s against each provider's bare verification.

    .venv/bin/python bench/payments.py [--events 400] [--quick] [--json]   (DATABASE_URL: on PostgreSQL)

Stripe: the reference is stripe.Webhook.construct_event. Lemon Squeezy (no official Python SDK): the reference
is what verifying one delivery takes at least, a constant-time HMAC-SHA256 check of the raw body and json.loads.
Both sides verify the same signed bodies in the same run; DreamNet's side also stores each event once and
applies it (`payout.paid` / `license_key_created`, stored and acknowledged), and a duplicate of each,
acknowledged as such. Throw-away SQLite database, or a fresh PostgreSQL database on the DATABASE_URL server
(dropped at exit); nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import add_arguments, database_env, emit_json  # noqa: E402

SECRET = "whsec_bench"  # noqa: S105 (a throw-away benchmark secret)
LS_SECRET = "ls_bench"  # noqa: S105 (a throw-away benchmark secret)


def _setup() -> str:
    os.environ |= {
        "DREAMNET_HOME": tempfile.mkdtemp(prefix="dreamnet-bench-"),
        "DJANGO_SETTINGS_MODULE": "dreamnet.settings",
    }
    os.environ |= {"STRIPE_WEBHOOK_SECRET": SECRET, "DREAMNET_MESH_CHECKPOINT_TIMER": "false"}
    os.environ |= {"LEMONSQUEEZY_WEBHOOK_SECRET": LS_SECRET}
    os.environ.pop("REDIS_URL", None)
    database = database_env()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return database


def _signed(n: int, start: int = 0) -> list[tuple[bytes, str]]:
    bodies = []
    for i in range(start, start + n):
        body = json.dumps({"id": f"evt_{i}", "object": "event", "type": "payout.paid", "created": 1,
                           "data": {"object": {"id": f"po_{i}", "object": "payout", "amount": 1000 + i}}}).encode()  # fmt: skip
        t = int(time.time())
        mac = hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        bodies.append((body, f"t={t},v1={mac}"))
    return bodies


def _ls_signed(n: int) -> list[tuple[bytes, str]]:
    from datetime import UTC, datetime

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    bodies = []
    for i in range(n):
        body = json.dumps({"meta": {"event_name": "license_key_created", "custom_data": {}},
                           "data": {"type": "license-keys", "id": str(i),
                                    "attributes": {"key": f"k-{i}", "created_at": stamp, "updated_at": stamp}}}).encode()  # fmt: skip
        bodies.append((body, hmac.new(LS_SECRET.encode(), body, hashlib.sha256).hexdigest()))
    return bodies


def _ls_reference(body: bytes, signature: str) -> dict:
    expected = hmac.new(LS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise ValueError("bad signature")
    return json.loads(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="200 events")
    add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.events = 200
    database = _setup()
    import stripe

    from commerce.payments import webhook_receive

    print(f"database: {database}")
    # Rounds of each side alternate (5 rounds of events/5), so a burst of load on the shared cores hits both.
    rounds, per_round = 5, max(1, args.events // 5)
    bare_rates, our_rates, dup_rates = [], [], []
    for r in range(rounds):
        signed = _signed(per_round, start=r * per_round)
        started = time.perf_counter()
        for body, header in signed:
            stripe.Webhook.construct_event(body.decode(), header, SECRET)
        bare_rates.append(len(signed) / (time.perf_counter() - started))
        started = time.perf_counter()
        for body, header in signed:
            webhook_receive(payload=body, signature=header)
        our_rates.append(len(signed) / (time.perf_counter() - started))
        started = time.perf_counter()
        for body, header in signed:
            assert webhook_receive(payload=body, signature=header).startswith("duplicate")
        dup_rates.append(len(signed) / (time.perf_counter() - started))
    bare, ours, dup = (statistics.median(x) for x in (bare_rates, our_rates, dup_rates))
    print(f"reference: stripe.Webhook.construct_event   {bare:10,.0f} events/s")
    print(
        f"webhook_receive (verify, store, apply)      {ours:10,.0f} events/s   {ours / bare:6.2f}x the reference's rate"
        f" ({bare / ours:.1f}x its cost; aim: at least 0.3x the rate)"
    )
    print(
        f"webhook_receive, duplicate deliveries       {dup:10,.0f} events/s   {dup / bare:6.2f}x the reference's rate"
    )

    ls_signed = _ls_signed(args.events)
    started = time.perf_counter()
    for body, header in ls_signed:
        _ls_reference(body, header)
    ls_bare = len(ls_signed) / (time.perf_counter() - started)
    started = time.perf_counter()
    for body, header in ls_signed:
        webhook_receive(payload=body, signature=header, provider="lemonsqueezy")
    ls_ours = len(ls_signed) / (time.perf_counter() - started)
    started = time.perf_counter()
    for body, header in ls_signed:
        assert webhook_receive(payload=body, signature=header, provider="lemonsqueezy").startswith("duplicate")
    ls_dup = len(ls_signed) / (time.perf_counter() - started)
    print(f"reference: Lemon Squeezy HMAC + json.loads  {ls_bare:10,.0f} events/s")
    print(
        f"webhook_receive lemonsqueezy (verify, store, apply) {ls_ours:10,.0f} events/s   "
        f"{ls_bare / ls_ours:6.1f}x the reference's cost"
    )
    print(f"webhook_receive lemonsqueezy, duplicates    {ls_dup:10,.0f} events/s   {ls_bare / ls_dup:6.1f}x")
    print(f"lemonsqueezy against stripe webhook_receive               {ours / ls_ours:6.2f}x Stripe's cost per event")
    emit_json(
        args,
        database,
        {
            "webhook_vs_construct_event": ours / bare,
            "webhook_duplicate_vs_construct_event": dup / bare,
            "lemonsqueezy_webhook_vs_hmac": ls_ours / ls_bare,
            "lemonsqueezy_duplicate_vs_hmac": ls_dup / ls_bare,
            "lemonsqueezy_vs_stripe_webhook": ls_ours / ours,
        },
    )


if __name__ == "__main__":
    main()
