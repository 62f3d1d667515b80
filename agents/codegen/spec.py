"""The codegen spec: a structured resource (typed fields and operations) or a free-form request.

Pure module: imports nothing from Django. :func:`validate` returns the normalised spec or raises
:class:`SpecError` whose ``errors`` name each offending field (``fields[1].type``) with a message a person can act
on.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from dreamnet.errors import DomainError

TYPES = ("str", "text", "int", "decimal", "bool", "date", "datetime")
OPERATIONS = ("list", "get", "create", "update", "delete")
MAX_FIELDS = 30
MAX_REQUEST_CHARS = 4000
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Names a generated model field may not take: Django model attributes and the columns every resource has.
RESERVED = {"id", "pk", "objects", "save", "delete", "clean", "full_clean", "created_at", "check", "refresh_from_db"}


class SpecError(DomainError):
    """The spec is refused; ``errors`` is a list of ``{"field", "message"}``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        super().__init__(detail, code="invalid_spec", extra={"errors": errors})
        self.errors = errors


def is_freeform(spec: dict[str, Any]) -> bool:
    return "request" in spec and "name" not in spec


def validate(spec: Any) -> dict[str, Any]:
    """Return the normalised spec, or raise SpecError listing every problem."""
    if not isinstance(spec, dict):
        raise SpecError([{"field": "spec", "message": "The spec is a JSON object."}])
    if is_freeform(spec):
        request = str(spec.get("request") or "").strip()
        if not request:
            raise SpecError([{"field": "request", "message": "Describe the change you want."}])
        if len(request) > MAX_REQUEST_CHARS:
            raise SpecError([{"field": "request", "message": f"At most {MAX_REQUEST_CHARS} characters."}])
        return {"request": request}
    errors: list[dict[str, str]] = []
    name = spec.get("name")
    if not isinstance(name, str) or not NAME.match(name) or keyword.iskeyword(name):
        errors.append({
            "field": "name",
            "message": "A lowercase Python identifier (letters, digits, underscores; at most 40), e.g. `supplier`.",
        })  # fmt: skip
    fields_in = spec.get("fields")
    fields: list[dict[str, Any]] = []
    if not isinstance(fields_in, list) or not fields_in:
        errors.append({"field": "fields", "message": "Give at least one field."})
        fields_in = []
    elif len(fields_in) > MAX_FIELDS:
        errors.append({"field": "fields", "message": f"At most {MAX_FIELDS} fields."})
        fields_in = []
    seen: set[str] = set()
    for i, raw in enumerate(fields_in):
        where = f"fields[{i}]"
        if not isinstance(raw, dict):
            errors.append({"field": where, "message": "Each field is an object with a name and a type."})
            continue
        fname, ftype = raw.get("name"), raw.get("type")
        if not isinstance(fname, str) or not NAME.match(fname) or keyword.iskeyword(fname) or fname in RESERVED:
            errors.append({
                "field": f"{where}.name",
                "message": "A lowercase Python identifier that is not reserved (id, pk, objects, created_at, ...).",
            })  # fmt: skip
        elif fname in seen:
            errors.append({"field": f"{where}.name", "message": f"{fname!r} appears twice."})
        else:
            seen.add(fname)
        if ftype not in TYPES:
            errors.append({"field": f"{where}.type", "message": f"One of: {', '.join(TYPES)}."})
        unknown = set(raw) - {"name", "type", "required", "max_length", "unique"}
        if unknown:
            errors.append({"field": where, "message": f"Unknown key(s): {', '.join(sorted(unknown))}."})
        required = raw.get("required", True)
        unique = raw.get("unique", False)
        for key, value in (("required", required), ("unique", unique)):
            if not isinstance(value, bool):
                errors.append({"field": f"{where}.{key}", "message": "true or false."})
        max_length = raw.get("max_length")
        if max_length is not None:
            if ftype != "str":
                errors.append({"field": f"{where}.max_length", "message": "Only `str` fields have a max_length."})
            elif not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= 1000:
                errors.append({"field": f"{where}.max_length", "message": "A whole number from 1 to 1000."})
        if ftype == "str" and max_length is None:
            max_length = 200
        if unique is True and ftype in ("text", "bool"):
            errors.append({"field": f"{where}.unique", "message": f"A `{ftype}` field cannot be unique."})
        if unique is True and required is False:
            errors.append({"field": f"{where}.unique", "message": "A unique field must be required."})
        fields.append({
            "name": fname, "type": ftype, "required": required is not False or ftype == "bool",
            "unique": unique is True, "max_length": max_length if ftype == "str" else None,
        })  # fmt: skip
    operations = spec.get("operations", list(OPERATIONS))
    if not isinstance(operations, list) or not operations or any(op not in OPERATIONS for op in operations):
        errors.append({"field": "operations", "message": f"A non-empty list drawn from: {', '.join(OPERATIONS)}."})
        operations = []
    unknown = set(spec) - {"name", "fields", "operations"}
    if unknown:
        errors.append({"field": "spec", "message": f"Unknown key(s): {', '.join(sorted(unknown))}."})
    if errors:
        raise SpecError(errors)
    return {"name": name, "fields": fields, "operations": [op for op in OPERATIONS if op in operations]}
