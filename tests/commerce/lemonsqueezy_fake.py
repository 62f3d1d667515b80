"""A local stand-in for Lemon Squeezy: its REST API as JSON:API (checkouts, order refunds, variants) and its
hosted checkout page, which on "Pay" creates an order and delivers the signed ``order_created`` webhook to the
configured URL, then sends the buyer to the checkout's redirect URL. Records every request. Loopback only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

import httpx2 as httpx

JSONAPI = "application/vnd.api+json"
VAT = {"DE": Decimal("0.19"), "FR": Decimal("0.20"), "NL": Decimal("0.21"), "US": Decimal(0)}


def now_iso(offset_s: float = 0) -> str:
    return datetime.fromtimestamp(time.time() + offset_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sign(payload: bytes, secret: str) -> str:
    """Return the X-Signature header: hex HMAC-SHA256 of the raw body with the signing secret."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def webhook(event_name: str, data_type: str, data_id: str, attributes: dict, custom: dict | None = None) -> bytes:
    """A webhook body shaped as Lemon Squeezy sends it."""
    return json.dumps(
        {
            "meta": {"test_mode": True, "event_name": event_name, "custom_data": custom or {}, "webhook_id": "wh-1"},
            "data": {
                "type": data_type,
                "id": str(data_id),
                "attributes": attributes,
                "relationships": {},
                "links": {"self": f"https://api.lemonsqueezy.com/v1/{data_type}/{data_id}"},
            },
        }
    ).encode()


class FakeLemonSqueezy:
    def __init__(self, *, api_key: str = "test_key", store_id: str = "4242") -> None:
        self.api_key, self.store_id = api_key, store_id
        self.requests: list[dict] = []
        self.checkouts: dict[str, dict] = {}
        self.orders: dict[str, dict] = {}
        self.variants = [
            {"id": "501", "product": "DreamNet Orders", "name": "Order", "slug": "order", "price": 100, "sub": False},
        ]
        self.fail_next: list[int] = []  # statuses to answer the next API calls with
        self.delay_s = 0.0  # sleep before answering API calls (timeouts)
        self.webhook_url = ""
        self.secret = ""
        self.deliveries: list[tuple[int, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, path_part: str) -> list[dict]:
        return [r for r in self.requests if path_part in r["path"]]

    # What the buyer and Lemon Squeezy do --------------------------------------------------------------

    def order_for(self, checkout_id: str, *, country: str = "DE", status: str = "paid") -> dict:
        """Create the order a buyer in ``country`` makes by paying the checkout: VAT added on top."""
        checkout = self.checkouts[checkout_id]
        subtotal = int(checkout["attributes"]["custom_price"])
        tax = int((Decimal(subtotal) * VAT.get(country, Decimal("0.20"))).quantize(Decimal(1), ROUND_HALF_UP))
        order_id = str(1000 + len(self.orders) + 1)
        stamp = now_iso()
        order = {
            "id": order_id,
            "custom": checkout["attributes"]["checkout_data"]["custom"],
            "attributes": {
                "store_id": int(self.store_id),
                "customer_id": 77,
                "identifier": str(uuid.uuid4()),
                "order_number": int(order_id),
                "user_name": "Eva Buyer",
                "user_email": "eva@example.eu",
                "currency": "USD",
                "currency_rate": "1.00000000",
                "subtotal": subtotal,
                "discount_total": 0,
                "tax": tax,
                "total": subtotal + tax,
                "subtotal_usd": subtotal,
                "total_usd": subtotal + tax,
                "tax_name": "VAT",
                "tax_rate": str(VAT.get(country, Decimal("0.20")) * 100),
                "status": status,
                "status_formatted": status.title(),
                "refunded": False,
                "refunded_at": None,
                "refunded_amount": 0,
                "first_order_item": {"variant_id": int(checkout["variant"]), "price": subtotal},
                "created_at": stamp,
                "updated_at": stamp,
            },
        }
        self.orders[order_id] = order
        return order

    def order_body(self, order: dict, event_name: str = "order_created") -> bytes:
        return webhook(event_name, "orders", order["id"], order["attributes"], order["custom"])

    def deliver(self, body: bytes, *, times: int = 1) -> list[tuple[int, str]]:
        """POST a signed delivery to ``webhook_url`` ``times`` times (Lemon Squeezy retries until a 200)."""
        answers = []
        for _ in range(times):
            response = httpx.post(
                self.webhook_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Signature": sign(body, self.secret),
                    "X-Event-Name": json.loads(body)["meta"]["event_name"],
                },
                timeout=30,
            )
            answers.append((response.status_code, response.text))
        self.deliveries.extend(answers)
        return answers

    # The HTTP side ------------------------------------------------------------------------------------

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _api(self, body: dict | None) -> tuple[int, dict] | None:
                """Common checks of the REST API; returns an error answer or None."""
                fake.requests.append({"method": self.command, "path": self.path, "body": body,
                                      "headers": dict(self.headers)})  # fmt: skip
                if fake.delay_s:
                    time.sleep(fake.delay_s)
                if fake.fail_next:
                    status = fake.fail_next.pop(0)
                    return status, {"errors": [{"status": str(status), "title": "Server Error", "detail": "try later"}]}
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    return 401, {"errors": [{"status": "401", "title": "Unauthenticated."}]}
                if self.headers.get("Accept") != JSONAPI:
                    return 406, {"errors": [{"status": "406", "title": "Not Acceptable"}]}
                if body is not None and self.headers.get("Content-Type") != JSONAPI:
                    return 415, {"errors": [{"status": "415", "title": "Unsupported Media Type"}]}
                return None

            def do_GET(self):
                path = urlparse(self.path)
                if path.path.startswith("/checkout/custom/"):
                    return self._checkout_page(path.path.rsplit("/", 1)[-1])
                if error := self._api(None):
                    return self._send(*error)
                if path.path == "/v1/variants":
                    query = dict(parse_qsl(path.query))
                    size, number = int(query.get("page[size]", 10)), int(query.get("page[number]", 1))
                    rows = fake.variants[(number - 1) * size : number * size]
                    products = {v["product"]: str(900 + i) for i, v in enumerate(fake.variants)}
                    data = [
                        {"type": "variants", "id": v["id"],
                         "attributes": {"product_id": int(products[v["product"]]), "name": v["name"],
                                        "slug": v["slug"], "price": v["price"], "is_subscription": v["sub"],
                                        "interval": "month" if v["sub"] else None, "status": "published"},
                         "relationships": {"product": {"data": {"type": "products", "id": products[v["product"]]}}}}
                        for v in rows
                    ]  # fmt: skip
                    included = [{"type": "products", "id": products[v["product"]],
                                 "attributes": {"name": v["product"]}} for v in rows]  # fmt: skip
                    last = max(1, -(-len(fake.variants) // size))
                    return self._send(200, {"meta": {"page": {"currentPage": number, "lastPage": last,
                                                              "perPage": size, "total": len(fake.variants)}},
                                            "jsonapi": {"version": "1.0"}, "data": data, "included": included})  # fmt: skip
                return self._send(404, {"errors": [{"status": "404", "title": "Not Found"}]})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                path = urlparse(self.path).path
                if path.startswith("/checkout/custom/"):
                    return self._pay(path.rsplit("/", 1)[-1], dict(parse_qsl(raw.decode())))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                if error := self._api(body or {}):
                    return self._send(*error)
                if path == "/v1/checkouts":
                    return self._checkout_create(body)
                if path.startswith("/v1/orders/") and path.endswith("/refund"):
                    order = fake.orders.get(path.split("/")[3])
                    if order is None:
                        return self._send(404, {"errors": [{"status": "404", "title": "Not Found"}]})
                    total = order["attributes"]["total"]
                    already = order["attributes"]["refunded_amount"]
                    # Without an amount, what remains of the (tax-inclusive) total goes back.
                    amount = ((body.get("data") or {}).get("attributes") or {}).get("amount") or total - already
                    if amount > total - already:
                        return self._send(422, {"errors": [{"status": "422", "title": "Unprocessable Entity",
                                                            "detail": "The refund amount is too large."}]})  # fmt: skip
                    order["attributes"].update(refunded_amount=already + amount, refunded=already + amount >= total,
                                               refunded_at=now_iso(), updated_at=now_iso())  # fmt: skip
                    return self._send(200, {"data": {"type": "orders", "id": order["id"],
                                                     "attributes": order["attributes"]}})  # fmt: skip
                return self._send(404, {"errors": [{"status": "404", "title": "Not Found"}]})

            def _checkout_create(self, body: dict):
                data = (body or {}).get("data") or {}
                attributes = data.get("attributes") or {}
                relationships = data.get("relationships") or {}
                store = ((relationships.get("store") or {}).get("data") or {}).get("id")
                variant = ((relationships.get("variant") or {}).get("data") or {}).get("id")
                problems = []
                if data.get("type") != "checkouts":
                    problems.append(("/data/type", "The type must be checkouts."))
                if store != fake.store_id:
                    problems.append(("/data/relationships/store", "The store does not exist."))
                if not variant:
                    problems.append(("/data/relationships/variant", "The variant field is required."))
                price = attributes.get("custom_price")
                if price is not None and (not isinstance(price, int) or price <= 0):
                    problems.append(("/data/attributes/custom_price", "The custom price must be a positive integer."))
                if problems:
                    return self._send(422, {"jsonapi": {"version": "1.0"}, "errors": [
                        {"detail": d, "source": {"pointer": p}, "status": "422", "title": "Unprocessable Entity"}
                        for p, d in problems]})  # fmt: skip
                checkout_id = str(uuid.uuid4())
                stored = {
                    "type": "checkouts",
                    "id": checkout_id,
                    "variant": variant,
                    "attributes": {
                        "store_id": int(store),
                        "variant_id": int(variant),
                        "custom_price": price,
                        "product_options": attributes.get("product_options") or {},
                        "checkout_options": attributes.get("checkout_options") or {},
                        "checkout_data": {"custom": {}, **(attributes.get("checkout_data") or {})},
                        "expires_at": attributes.get("expires_at"),
                        "created_at": now_iso(),
                        "updated_at": now_iso(),
                        "test_mode": bool(attributes.get("test_mode")),
                        "url": f"{fake.url}/checkout/custom/{checkout_id}?signature=fake",
                    },
                }
                fake.checkouts[checkout_id] = stored
                answer = {k: v for k, v in stored.items() if k != "variant"}
                answer["relationships"] = {"store": {"links": {}}, "variant": {"links": {}}}
                return self._send(201, {"jsonapi": {"version": "1.0"}, "links": {"self": f"{fake.url}/v1/checkouts/{checkout_id}"},
                                        "data": answer})  # fmt: skip

            def _checkout_page(self, checkout_id: str):
                checkout = fake.checkouts.get(checkout_id)
                if checkout is None:
                    return self._html(404, "<h1>Checkout not found</h1>")
                attributes = checkout["attributes"]
                expires = attributes.get("expires_at")
                if expires and datetime.fromisoformat(expires.replace("Z", "+00:00")) < datetime.now(UTC):
                    return self._html(410, "<h1>This checkout has expired</h1>")
                amount = Decimal(attributes["custom_price"]) / 100
                return self._html(200, f"""<!doctype html><html lang="en"><head><title>Checkout · Lemon Squeezy (fake)</title><link rel="icon" href="data:,"></head>
<body><main><h1>Checkout</h1><p>Subtotal <strong id="subtotal">${amount:,.2f}</strong> (VAT added for your country)</p>
<form method="post"><label>Country <select name="country"><option>DE</option><option>FR</option><option>NL</option></select></label>
<button type="submit">Pay</button></form></main></body></html>""")  # fmt: skip

            def _pay(self, checkout_id: str, form: dict):
                if checkout_id not in fake.checkouts:
                    return self._html(404, "<h1>Checkout not found</h1>")
                order = fake.order_for(checkout_id, country=form.get("country", "DE"))
                fake.deliver(fake.order_body(order))
                redirect = fake.checkouts[checkout_id]["attributes"]["product_options"].get("redirect_url") or "/"
                self.send_response(303)
                self.send_header("Location", redirect)
                self.end_headers()

            def _html(self, status: int, text: str) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", JSONAPI)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                return None

        return Handler
