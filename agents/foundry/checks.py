"""The five check kinds of an evaluation case: validation of a check's spec and scoring of an output.

Pure module: imports nothing from Django. A spec is a JSON object whose keys depend on the kind:

``exact``       ``{"expected": str}``: the output, stripped, equals ``expected`` (stripped).
``contains``    ``{"expected": str, "case_sensitive": bool = false}``: the output contains ``expected``.
``regex``       ``{"pattern": str}``: ``re.search(pattern, output)`` finds a match (Python syntax).
``json_schema`` ``{"schema": object}``: the output (or its first fenced/braced JSON block) is JSON that the
                JSON Schema (draft 2020-12) accepts.
``numeric``     ``{"expected": number, "tolerance": number >= 0}``: the first number in the output is within
                ``tolerance`` of ``expected``.

Every check scores 1.0 (pass) or 0.0 (fail); a fitness is the mean score over a set's cases.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import jsonschema

from dreamnet.errors import DomainError

KINDS = ("exact", "contains", "regex", "json_schema", "numeric")
MAX_PATTERN_CHARS = 500
_NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")
_JSON_BLOCK = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class CheckError(DomainError):
    """A check spec that cannot be used; the message says what to fix."""

    code = "invalid_check"


@dataclass(frozen=True)
class Verdict:
    passed: bool
    score: float
    detail: str


def check_validate(kind: str, spec: Any) -> dict[str, Any]:
    """Return ``spec`` normalised for ``kind``, or raise CheckError naming what is wrong."""
    if kind not in KINDS:
        raise CheckError(f"Unknown check kind {kind!r}; use one of: {', '.join(KINDS)}.")
    if not isinstance(spec, dict):
        raise CheckError(f"A {kind} check's spec is a JSON object, not {type(spec).__name__}.")
    if kind in ("exact", "contains"):
        expected = spec.get("expected")
        if not isinstance(expected, str) or not expected.strip():
            raise CheckError(f'A {kind} check needs "expected": a non-empty string.')
        cleaned: dict[str, Any] = {"expected": expected}
        if kind == "contains":
            cleaned["case_sensitive"] = bool(spec.get("case_sensitive", False))
        return cleaned
    if kind == "regex":
        pattern = spec.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise CheckError('A regex check needs "pattern": a non-empty string.')
        if len(pattern) > MAX_PATTERN_CHARS:
            raise CheckError(f"A regex pattern is at most {MAX_PATTERN_CHARS} characters.")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise CheckError(f"The regex pattern does not compile: {exc}.") from exc
        return {"pattern": pattern}
    if kind == "json_schema":
        schema = spec.get("schema")
        if not isinstance(schema, dict):
            raise CheckError('A json_schema check needs "schema": a JSON Schema object.')
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise CheckError(f"The JSON Schema is invalid: {exc.message}.") from exc
        return {"schema": schema}
    expected, tolerance = spec.get("expected"), spec.get("tolerance", 0)
    if not _is_number(expected):
        raise CheckError('A numeric check needs "expected": a finite number.')
    if not _is_number(tolerance) or tolerance < 0:
        raise CheckError('A numeric check\'s "tolerance" is a finite number of at least 0.')
    return {"expected": expected, "tolerance": tolerance}


def check_score(kind: str, spec: dict[str, Any], output: str) -> Verdict:
    """Score ``output`` against a validated check; never raises for any output."""
    if kind == "exact":
        passed = output.strip() == spec["expected"].strip()
        return _verdict(passed, f"expected exactly {spec['expected']!r}")
    if kind == "contains":
        expected, text = spec["expected"], output
        if not spec.get("case_sensitive"):
            expected, text = expected.lower(), text.lower()
        return _verdict(expected in text, f"expected to contain {spec['expected']!r}")
    if kind == "regex":
        return _verdict(re.search(spec["pattern"], output) is not None, f"expected to match /{spec['pattern']}/")
    if kind == "json_schema":
        value = _json_in(output)
        if value is _MISSING:
            return _verdict(False, "no JSON found in the output")
        errors = sorted(jsonschema.Draft202012Validator(spec["schema"]).iter_errors(value), key=str)
        return _verdict(not errors, errors[0].message if errors else "valid against the schema")
    match = _NUMBER.search(output)
    if match is None:
        return _verdict(False, "no number in the output")
    try:
        value = float(match.group(0).replace(",", ""))
    except ValueError:
        return _verdict(False, f"could not read {match.group(0)!r} as a number")
    passed = abs(value - float(spec["expected"])) <= float(spec["tolerance"])
    return _verdict(passed, f"read {value:g}; expected {spec['expected']} ± {spec['tolerance']}")


_MISSING = object()


def _json_in(output: str) -> Any:
    candidates = [output.strip(), *(m.strip() for m in _JSON_BLOCK.findall(output))]
    start, end = output.find("{"), output.rfind("}")
    if 0 <= start < end:
        candidates.append(output[start : end + 1])
    for text in candidates:
        try:
            return json.loads(text)
        except ValueError:
            continue
    return _MISSING


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _verdict(passed: bool, detail: str) -> Verdict:
    return Verdict(passed, 1.0 if passed else 0.0, detail)
