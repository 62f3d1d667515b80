"""Parse a request file (JSON, YAML, or Markdown with YAML front matter) into a plain dict. Imports nothing from
Django.

The result holds only JSON types (str, int, float, bool, None, list, dict with string keys): YAML dates and
other scalars that JSON lacks become strings, so the dict can be stored and hashed as it is. Every error is a
:class:`RequestParseError` whose message names the line when the parser knows it.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from typing import Any

import yaml

from dreamnet.errors import DomainError

FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".md": "markdown", ".markdown": "markdown"}
FRONT_MATTER_FENCE = "---"


class RequestParseError(DomainError):
    """The file cannot be read as a request. ``line`` is 1-based when known."""

    code = "parse_error"

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases: a few lines of ``*ref`` can expand to gigabytes once serialised."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.MarkedYAMLError(problem="aliases (*name) are not accepted in request files", problem_mark=mark)
        return super().compose_node(parent, index)


def format_of(name: str) -> str | None:
    """Return 'json', 'yaml' or 'markdown' for a file name by its extension (any case), or None."""
    dot = name.rfind(".")
    return FORMATS.get(name[dot:].lower()) if dot > 0 else None


def _plain(value: Any, where: str) -> Any:
    """Return ``value`` with JSON types only (dates as ISO strings); refuse non-string keys and NaN/infinity."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise RequestParseError(f"{where}: key {key!r} is not a string; quote it")
            out[key] = _plain(item, f"{where}.{key}" if where else key)
        return out
    if isinstance(value, list):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        raise RequestParseError(f"{where or 'value'}: {value} is not a finite number")
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # bytes (!!binary) and the like


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        kind = "empty" if value is None else f"a {type(value).__name__}"
        raise RequestParseError(f"{what} must be a mapping of fields (kind, agent, ...), not {kind}")
    return _plain(value, "")


def _yaml(text: str, *, first_line: int = 1, what: str = "the YAML document") -> dict[str, Any]:
    try:
        value = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506  (a SafeLoader subclass)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else None
        raise RequestParseError(f"YAML: {exc.problem or exc.context}", line=line) from None
    except yaml.YAMLError as exc:
        raise RequestParseError(f"YAML: {exc}") from None
    return _mapping(value, what)


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_constant=lambda name: float(name))
    except json.JSONDecodeError as exc:
        raise RequestParseError(f"JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    except RecursionError:
        raise RequestParseError("JSON: nested too deeply") from None
    return _mapping(value, "the JSON document")


def _markdown(text: str) -> dict[str, Any]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise RequestParseError(
            "a Markdown request starts with a '---' line, then YAML front matter (kind, agent, ...), then '---'",
            line=1,
        )
    for end in range(1, len(lines)):
        if lines[end].strip() in (FRONT_MATTER_FENCE, "..."):
            break
    else:
        raise RequestParseError("the front matter opened on line 1 is never closed with a '---' line", line=1)
    data = _yaml("\n".join(lines[1:end]), first_line=2, what="the front matter")
    body = "\n".join(lines[end + 1 :]).strip()
    if body:
        if "prompt" in data:
            raise RequestParseError(
                f"the front matter has a prompt and the file also has a body (from line {end + 2}); keep one"
            )
        data["prompt"] = body
    return data


def request_parse(content: bytes, *, name: str) -> dict[str, Any]:
    """Return the request in ``content`` (UTF-8, optional BOM) as a dict; the format follows ``name``'s extension.

    Raises RequestParseError for an unsupported extension, bad UTF-8, a syntax error (with its line), or a top
    level that is not a mapping. Fields are not checked here.
    """
    fmt = format_of(name)
    if fmt is None:
        raise RequestParseError(
            "unsupported file type; name request files *.json, *.yaml, *.yml or *.md (Markdown with front matter)"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise RequestParseError(f"not UTF-8 text (byte {exc.start})", line=line) from None
    if fmt == "json":
        return _json(text)
    if fmt == "yaml":
        return _yaml(text)
    return _markdown(text)


class RequestFieldError(DomainError):
    """A required field is missing or has the wrong type. ``code`` is stable (like AgentsError's)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code)


REQUIRED = ("kind", "agent")
OPTIONAL = ("budget_usd", "model")


def request_fields(request: dict[str, Any]) -> tuple[str, str, str | None, str | None, dict[str, Any]]:
    """Split a parsed request into (kind, agent slug, budget as text or None, model or None, the kind's data).

    Everything but kind, agent, budget_usd and model is the kind's data; the kind's own validation
    (``agents.services.mission_create``) decides what it needs.
    """
    for field in REQUIRED:
        value = request.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise RequestFieldError(
                f"missing field {field!r}; request files need kind and agent", code=f"{field}_required"
            )
        if not isinstance(value, str):
            raise RequestFieldError(f"field {field!r} must be text, not {type(value).__name__}", code=f"bad_{field}")
    budget = request.get("budget_usd")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, str | int | float)):
        raise RequestFieldError("field 'budget_usd' must be an amount in US dollars, e.g. 0.50", code="bad_budget")
    model = request.get("model")
    if model is not None and not isinstance(model, str):
        raise RequestFieldError("field 'model' must be text (a model name)", code="bad_model")
    data = {key: value for key, value in request.items() if key not in REQUIRED + OPTIONAL}
    return (
        request["kind"].strip(),
        request["agent"].strip(),
        None if budget is None else str(budget).strip(),
        model.strip() or None if isinstance(model, str) else None,
        data,
    )
