"""Webhook topic patterns. Pure module: imports nothing from Django.

A pattern is a topic in which ``*`` matches any run of characters, dots included: ``order.*`` matches
``order.paid`` and ``order.line.added``, ``*.failed`` matches ``mission.step.failed``, ``*`` matches everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PATTERN_RE = re.compile(r"[a-z0-9_.*]{1,100}")
MAX_PATTERNS = 20


def check_patterns(patterns: Iterable[str]) -> list[str]:
    """Return the patterns stripped and de-duplicated, in order; ValueError naming the first bad one."""
    if isinstance(patterns, str):
        raise ValueError("topics is a list of patterns, not one string")
    cleaned: list[str] = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise ValueError(f"topic pattern {pattern!r} is not a string")
        pattern = pattern.strip()
        if not PATTERN_RE.fullmatch(pattern) or ".." in pattern or pattern.startswith(".") or pattern.endswith("."):
            raise ValueError(
                f"topic pattern {pattern!r} must be a dotted lower-case topic of at most 100 characters, "
                "with '*' as the wildcard (e.g. 'order.*' or '*')"
            )
        if pattern not in cleaned:
            cleaned.append(pattern)
    if not cleaned:
        raise ValueError("give at least one topic pattern ('*' for every event)")
    if len(cleaned) > MAX_PATTERNS:
        raise ValueError(f"at most {MAX_PATTERNS} topic patterns per subscription, got {len(cleaned)}")
    return cleaned


def compile_patterns(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """Return one regular expression matching any of ``patterns`` in full, or None when there are none."""
    alternatives = sorted({".*".join(re.escape(part) for part in p.split("*")) for p in patterns})
    return re.compile("|".join(f"(?:{a})" for a in alternatives)) if alternatives else None


def topic_matches(topic: str, patterns: Iterable[str]) -> bool:
    """Return whether ``topic`` matches any of ``patterns``."""
    compiled = compile_patterns(patterns)
    return compiled is not None and compiled.fullmatch(topic) is not None
