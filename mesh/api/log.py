"""/api/mesh/ log routes: node identity, checkpoint, entries, proofs (public), and events (``mesh`` scope)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Schema

from dreamnet.ninja import AUTH_ERRORS, ApiError, ErrorOut, require_scope
from mesh.api.common import ERRORS_422, b64, router
from mesh.identity import node_identity
from mesh.log import latest_checkpoint, log_size
from mesh.merkle import leaf_hash
from mesh.selectors import (
    consistency_proof_for,
    entries_page,
    events_page,
    inclusion_proof_for,
)
from mesh.services import (
    event_message,
)


class NodeOut(Schema):
    node_id: str
    origin: str
    verifier_key: str
    log_size: int
    checkpoint_size: int | None


@router.get("/node", response=NodeOut, summary="This node's identity and log size")
def node(request: HttpRequest):
    identity = node_identity()
    checkpoint = latest_checkpoint()
    return {
        "node_id": identity.node_id,
        "origin": identity.origin,
        "verifier_key": identity.verifier_key,
        "log_size": log_size(),
        "checkpoint_size": checkpoint.size if checkpoint else None,
    }


@router.get("/checkpoint", response={200: str, 404: ErrorOut}, summary="Latest signed checkpoint (text/plain)")
def checkpoint(request: HttpRequest):
    """Return the latest checkpoint as a C2SP signed note (`text/plain`), verifiable with `/api/mesh/node`'s key."""
    latest = latest_checkpoint()
    if latest is None:
        raise ApiError(404, "no_checkpoint", "No checkpoint yet: the log is empty or the first one is being signed.")
    return HttpResponse(latest.note, content_type="text/plain; charset=utf-8")


class EntryOut(Schema):
    index: int
    kind: str
    entry: str
    leaf_hash: str


class EntriesOut(Schema):
    size: int
    entries: list[EntryOut]


class EntriesQuery(Schema):
    start: int = 0
    limit: int = 100


@router.get("/entries", response={200: EntriesOut, **ERRORS_422}, summary="Exact leaf bytes, base64")
def entries(request: HttpRequest, query: Query[EntriesQuery]):
    """Return up to `limit` (≤1000) entries from `start`: each entry's exact bytes, so anyone can rebuild the tree."""
    if query.start < 0 or not 1 <= query.limit <= 1000:
        raise ApiError(422, "bad_range", "start must be ≥ 0 and limit between 1 and 1000.")
    rows = entries_page(start=query.start, limit=query.limit)
    return {
        "size": log_size(),
        "entries": [
            {
                "index": e.index,
                "kind": e.kind,
                "entry": b64(bytes(e.entry)),
                "leaf_hash": b64(leaf_hash(bytes(e.entry))),
            }
            for e in rows
        ],
    }


class InclusionOut(Schema):
    index: int
    size: int
    hashes: list[str]


@router.get("/proof/inclusion", response={200: InclusionOut, **ERRORS_422}, summary="RFC 9162 inclusion proof")
def proof_inclusion(request: HttpRequest, index: int, size: int):
    proof = inclusion_proof_for(index=index, size=size)
    return {"index": index, "size": size, "hashes": [b64(h) for h in proof]}


class ConsistencyOut(Schema):
    old: int
    new: int
    hashes: list[str]


@router.get("/proof/consistency", response={200: ConsistencyOut, **ERRORS_422}, summary="RFC 9162 consistency proof")
def proof_consistency(request: HttpRequest, old: int, new: int):
    proof = consistency_proof_for(old=old, new=new)
    return {"old": old, "new": new, "hashes": [b64(h) for h in proof]}


# Events --------------------------------------------------------------------------------------


class EventOut(Schema):
    seq: int
    topic: str
    payload: dict
    payload_blake3: str
    actor: str
    created_at: str
    public: bool


class EventsOut(Schema):
    events: list[EventOut]
    next_after: int | None


class EventsQuery(Schema):
    topic: str | None = None
    after: int = -1
    limit: int = 100


@router.get(
    "/events", response={200: EventsOut, **AUTH_ERRORS, **ERRORS_422}, auth=require_scope("mesh"), summary="Events"
)
def events(request: HttpRequest, query: Query[EventsQuery]):
    """Events after log index `after`, oldest first; `topic` filters exactly, or by prefix when it ends in `.`.
    Page on with `after=next_after` until it is null."""
    if not 1 <= query.limit <= 500:
        raise ApiError(422, "bad_limit", "limit must be between 1 and 500.")
    rows = events_page(topic=query.topic, after=query.after, limit=query.limit)
    return {
        "events": [event_message(e) for e in rows],
        "next_after": rows[-1].log_index if len(rows) == query.limit else None,
    }
