"""The image's HEALTHCHECK: GET /api/health on this container's web server; exit 0 on 200, 1 otherwise.

It asks as the proxy would: with the first of DREAMNET_ALLOWED_HOSTS as Host (production refuses other hosts)
and ``X-Forwarded-Proto: https`` (production redirects plain HTTP), on 127.0.0.1:$PORT (default 8000).
"""

from __future__ import annotations

import http.client
import os
import sys


def main() -> int:
    hosts = [h.strip() for h in os.environ.get("DREAMNET_ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = next((h for h in hosts if not h.startswith(".") and h != "*"), "localhost")
    conn = http.client.HTTPConnection("127.0.0.1", int(os.environ.get("PORT", "8000")), timeout=2)
    try:
        conn.request("GET", "/api/health", headers={"Host": host, "X-Forwarded-Proto": "https"})
        status = conn.getresponse().status
    except OSError as exc:
        print(f"health check: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
