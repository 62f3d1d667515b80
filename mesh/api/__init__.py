"""/api/mesh/ (the log, events, receipts, artifacts, peers, webhooks) and /api/dreamsnail/ (public commitments).

The log itself is public, as transparency logs are: checkpoint, entries and proofs need no key. Events,
receipts, artifacts, peers and webhooks carry business data and need the ``mesh`` scope. Refusals are
``MeshError`` (a ``DomainError``) raised by the services, answered by the API root's handler.

The modules ``log``, ``receipts``, ``artifacts``, ``peers`` and ``webhooks`` add their operations to one
``router`` (``mesh.api.common``); ``dreamsnail`` has its own, mounted at /api/dreamsnail/.
"""

from __future__ import annotations

# isort: off
# Imported in the order their operations appear in the OpenAPI document, as when this was one module.
from mesh.api import log, receipts, artifacts, peers, webhooks, dreamsnail
from mesh.api.common import router

# isort: on

__all__ = ["dreamsnail_router", "router"]

# Operation ids keep the names they had when this was one module (``mesh_api_<view>``), so generated clients keep
# their method names.
for _router in (router, dreamsnail.router):
    for _view in _router.path_operations.values():
        for _operation in _view.operations:
            _operation.operation_id = _operation.operation_id or f"mesh_api_{_operation.view_func.__name__}"

dreamsnail_router = dreamsnail.router
_modules = (log, receipts, artifacts, peers, webhooks)  # imported for the operations they add to ``router``
