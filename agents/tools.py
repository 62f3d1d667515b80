"""Built-in tools an agent may call: spot prices, catalog search, mesh verify.

Tools only read. Each takes a JSON object of arguments and returns a JSON object; a tool that cannot answer
returns ``{"available": false, "error": ...}`` (a result the model can read and explain) rather than raising.
Commerce is read through its selectors (agents sits above commerce; commerce never imports agents).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from agents.llm import canonical
from commerce import selectors as commerce_selectors

MAX_RESULT_CHARS = 8000
MAX_ROWS = 20


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[dict[str, Any]], dict[str, Any]]

    def schema(self) -> dict[str, Any]:
        """Return the tool as an OpenAI chat-completions ``tools`` entry."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


def plain(value: Any) -> Any:
    """Return ``value`` as JSON values: Decimals and dates as strings, model rows and objects as dicts."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if callable(getattr(value, "as_dict", None)):
        return plain(value.as_dict())
    meta = getattr(value, "_meta", None)
    if meta is not None:  # a model instance: its concrete fields
        return {f.attname: plain(getattr(value, f.attname)) for f in meta.concrete_fields}
    if hasattr(value, "__dict__"):
        return {k: plain(v) for k, v in vars(value).items() if not k.startswith("_")}
    return str(value)


def _commerce_function(name: str) -> Callable[..., Any] | None:
    """Return the commerce selector ``name``, or None when commerce has no such selector (yet)."""
    function = getattr(commerce_selectors, name, None)
    return function if callable(function) else None


def _call_flexibly(function: Callable[..., Any], preferred: str, value: Any) -> Any:
    """Call ``function`` with ``preferred=value`` when it takes that keyword, positionally when it takes one
    argument, and with none when it takes none."""
    parameters = inspect.signature(function).parameters
    if preferred in parameters:
        return function(**{preferred: value})
    required = [
        p
        for p in parameters.values()
        if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return function(value) if required else function()


def _rows(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, str | bytes):
        return [value]
    if hasattr(value, "__iter__"):
        return list(value)
    return [value]


METAL_CODES = {"gold": "XAU", "silver": "XAG", "platinum": "XPT", "palladium": "XPD"}


def _matches_metal(row: Any, metals: list[str]) -> bool:
    metal = str(row.get("metal", "")).lower() if isinstance(row, dict) else ""
    return any(metal in (name, METAL_CODES.get(name, "").lower()) for name in metals)


def spot_prices(arguments: dict[str, Any]) -> dict[str, Any]:
    metals = [str(m).lower() for m in arguments.get("metals") or []][:8]
    function = _commerce_function("spot_latest")
    if function is None:
        return {
            "available": False,
            "error": "spot feed not available: this node has no commerce.selectors.spot_latest yet.",
        }
    rows = plain(_rows(function()))
    if metals:
        rows = [row for row in rows if _matches_metal(row, metals)]
    if not rows:
        return {"available": False, "error": "spot feed not available: no spot price has been fetched yet."}
    return {"available": True, "metals": metals, "prices": rows[:MAX_ROWS]}


def catalog_search(arguments: dict[str, Any]) -> dict[str, Any]:
    """Search with commerce.selectors.catalog_search when it exists, else filter commerce.selectors.catalog()."""
    query = str(arguments.get("query") or "").strip()[:200]
    search = _commerce_function("catalog_search")
    if search is not None:
        rows = plain(_rows(_call_flexibly(search, "query", query)))
        return {"available": True, "query": query, "items": rows[:MAX_ROWS]}
    listing = _commerce_function("catalog")
    if listing is None:
        return {"available": False, "error": "catalog not available: this node has no commerce catalog yet."}
    words = [w for w in query.lower().split() if w]
    codes = {METAL_CODES[w] for w in words if w in METAL_CODES}
    rows = []
    for product in plain(_rows(listing())):
        if not isinstance(product, dict):
            continue
        text = " ".join(str(product.get(k, "")) for k in ("sku", "name", "brand", "form", "metal")).lower()
        other = [w for w in words if w not in METAL_CODES]
        if (not codes or product.get("metal") in codes) and all(w in text for w in other):
            rows.append({k: product[k] for k in ("sku", "name", "metal", "form", "weight", "weight_unit", "fineness",
                                                 "brand", "stock") if k in product})  # fmt: skip
    return {"available": True, "query": query, "items": rows[:MAX_ROWS], "matches": len(rows)}


def mesh_verify(arguments: dict[str, Any]) -> dict[str, Any]:
    from mesh.identity import node_identity
    from mesh.merkle import ProofError
    from mesh.note import NoteError
    from mesh.proofbundle import BundleError, verify_bundle
    from mesh.selectors import inclusion_bundle
    from mesh.services import MeshError

    try:
        index = int(arguments.get("index"))
    except (TypeError, ValueError):
        return {"valid": False, "index": None, "reason": "index must be a whole number (a log entry index)."}
    try:
        bundle = inclusion_bundle(index)
    except MeshError as exc:
        return {"valid": False, "index": index, "reason": str(exc)}
    if bundle is None:
        return {"valid": False, "index": index, "reason": "no signed checkpoint covers this entry yet."}
    try:
        proven = verify_bundle(bundle.text, node_identity().verifier_key)
    except (BundleError, NoteError, ProofError) as exc:
        return {"valid": False, "index": index, "reason": str(exc)}
    return {"valid": True, "index": index, "size": proven.size, "entry": proven.entry.decode(errors="replace")[:2000]}


TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in [
        Tool(
            "spot_prices",
            "Latest spot prices of precious metals in USD per troy ounce.",
            {
                "type": "object",
                "properties": {
                    "metals": {
                        "type": "array",
                        "items": {"type": "string", "enum": ["gold", "silver", "platinum", "palladium"]},
                    }
                },
                "required": ["metals"],
            },
            spot_prices,
        ),
        Tool(
            "catalog_search",
            "Search the Prime Source Direct catalog (bars, coins, rounds) by words.",
            {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
            catalog_search,
        ),
        Tool(
            "mesh_verify",
            "Prove that entry INDEX of the node's signed StarBridge log is included under the latest checkpoint.",
            {"type": "object", "properties": {"index": {"type": "integer", "minimum": 0}}, "required": ["index"]},
            mesh_verify,
        ),
    ]
}


def tool_run(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """Run tool ``name``; unknown tools and failures come back as error results the model can read."""
    tool = TOOLS.get(name)
    if tool is None:
        return {"available": False, "error": f"unknown tool {name!r}; tools: {', '.join(TOOLS)}."}
    try:
        result = tool.run(arguments)
    except Exception as exc:  # a tool failure is information for the model, not a crash of the mission
        return {"available": False, "error": f"{name} failed: {type(exc).__name__}: {exc}"}
    text = canonical(result)
    if len(text) > MAX_RESULT_CHARS:
        return {"truncated": True, "text": text[:MAX_RESULT_CHARS]}
    return result
