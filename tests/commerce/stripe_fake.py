"""A local stand-in for the Stripe endpoints DreamNet calls, answering with Stripe's documented object shapes
and recording every request (path, form fields, idempotency key) for assertions. Loopback only."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class FakeStripe:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail_next: int | None = None
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()

    def calls(self, path_part: str) -> list[dict]:
        return [r for r in self.requests if path_part in r["path"]]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
                fake.requests.append(
                    {"path": self.path, "form": form, "idempotency_key": self.headers.get("Idempotency-Key")}
                )
                if fake.fail_next:
                    status, fake.fail_next = fake.fail_next, None
                    return self._send(status, {"error": {"type": "api_error", "message": "try later"}})
                n = len(fake.requests)
                if self.path == "/v1/customers":
                    body = {"id": f"cus_test{n}", "object": "customer", "name": form.get("name")}
                elif self.path == "/v1/checkout/sessions":
                    sid = f"cs_test_{n}"
                    body = {"id": sid, "object": "checkout.session", "status": "open", "mode": "payment",
                            "url": f"https://checkout.stripe.com/c/pay/{sid}",
                            "client_reference_id": form.get("client_reference_id")}  # fmt: skip
                elif self.path.endswith("/expire"):
                    body = {"id": self.path.split("/")[-2], "object": "checkout.session", "status": "expired"}
                elif self.path == "/v1/products":
                    body = {"id": f"prod_test{n}", "object": "product", "name": form.get("name")}
                elif self.path == "/v1/prices":
                    body = {
                        "id": f"price_test{n}",
                        "object": "price",
                        "unit_amount": int(form["unit_amount"]),
                        "recurring": {"interval": form.get("recurring[interval]")},
                    }
                elif self.path == "/v1/billing_portal/sessions":
                    body = {
                        "id": f"bps_{n}",
                        "object": "billing_portal.session",
                        "url": f"https://billing.stripe.com/p/session/{n}",
                    }
                elif self.path == "/v1/refunds":
                    body = {"id": f"re_test{n}", "object": "refund", "status": "succeeded",
                            "payment_intent": form.get("payment_intent")}  # fmt: skip
                else:
                    return self._send(404, {"error": {"type": "invalid_request_error", "message": "no such path"}})
                return self._send(200, body)

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Request-Id", "req_test")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                return None

        return Handler


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """Return a Stripe-Signature header for ``payload`` (scheme v1: HMAC-SHA256 of "t.payload")."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(event_id: str, event_type: str, obj: dict) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}).encode()
