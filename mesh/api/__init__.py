"""/api/mesh/ (the log, events, receipts, artifacts, peers, webhooks) and /api/dreamsnail/ (public commitments).

The log itself is public, as transparency logs are: checkpoint, entries and proofs need no key. Events,
receipts, artifacts, peers and webhooks carry business data and need the ``mesh`` scope. Refusals are
``MeshError`` (a ``DomainError``) raised by the services, answered by the API root's handler.
"""

from __future__ import annotations

from ninja import Router

from mesh.api import artifacts, dreamsnail, log, peers, receipts, webhooks

__all__ = ["dreamsnail_router", "router"]

# Operation ids keep the names they had when this was one module (``mesh_api_<view>``), so generated clients keep
# their method names.
for _part in (log, receipts, artifacts, peers, webhooks, dreamsnail):
    for _view in _part.router.path_operations.values():
        for _operation in _view.operations:
            _operation.operation_id = _operation.operation_id or f"mesh_api_{_operation.view_func.__name__}"

router = Router(tags=["mesh"])
for _part in (log, receipts, artifacts, peers, webhooks):
    router.add_router("", _part.router)

dreamsnail_router = dreamsnail.router
