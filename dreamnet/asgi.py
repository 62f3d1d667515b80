"""ASGI entry point: HTTP through Django, websockets under /ws/ through Channels.

Under daphne, request bodies reach Django as sent (``dreamnet.daphne_bodies``: Twisted would otherwise answer a
multipart body it cannot parse with a bare 400 before Django sees it).

Websocket connections pass origin validation (a browser's Origin must be one of ALLOWED_HOSTS; clients
that send no Origin, which browsers always send, are machine clients with no session cookie to abuse)
and the session auth middleware, so consumers see ``scope["user"]``.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dreamnet.settings")
# Under ASGI every request runs in a context of its own, so a persistent connection is never reused and lingers
# until garbage-collected: under load a web process ran PostgreSQL out of connections ("too many clients"). Django's
# advice is to disable them under ASGI; the worker cluster (plain threads) keeps DREAMNET_DB_CONN_MAX_AGE's 60 s.
os.environ.setdefault("DREAMNET_DB_CONN_MAX_AGE", "0")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs the app registry loaded)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from dreamnet import daphne_bodies  # noqa: E402
from dreamnet.routing import websocket_urlpatterns  # noqa: E402

daphne_bodies.install()


class BrowserOriginValidator(OriginValidator):
    """Check the Origin of browser connections against ALLOWED_HOSTS; let Origin-less clients through."""

    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": BrowserOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns)), settings.ALLOWED_HOSTS
        ),
    }
)
