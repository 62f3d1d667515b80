"""Peer trust arithmetic: a score in [0, 100] that decays exponentially towards neutral while nothing happens.

Pure module: imports nothing from Django; the parameters come from settings through :class:`ScoreRules`.
Between events the distance to neutral halves every ``half_life_s``; a verified heartbeat adds ``reward``;
penalties subtract. State follows from the score: below ``quarantine_below`` a peer is quarantined, below
``suspect_below`` it is suspect. A quarantine is only ever lifted by an operator, and a suspect peer becomes
trusted again only through a verified heartbeat, never by decay alone.
"""

from __future__ import annotations

from dataclasses import dataclass

SCORE_MIN = 0.0
SCORE_MAX = 100.0

TRUSTED = "trusted"
SUSPECT = "suspect"
QUARANTINED = "quarantined"


@dataclass(frozen=True)
class ScoreRules:
    neutral: float
    half_life_s: float
    reward: float
    suspect_below: float
    quarantine_below: float


def decayed(score: float, elapsed_s: float, rules: ScoreRules) -> float:
    """Return ``score`` after ``elapsed_s`` quiet seconds: neutral + (score − neutral) · 2^(−elapsed / half-life)."""
    if elapsed_s <= 0:
        return score
    return rules.neutral + (score - rules.neutral) * 0.5 ** (elapsed_s / rules.half_life_s)


def adjusted(score: float, elapsed_s: float, delta: float, rules: ScoreRules) -> float:
    """Return the score after decaying for ``elapsed_s`` and then adding ``delta``, clamped to [0, 100]."""
    return min(SCORE_MAX, max(SCORE_MIN, decayed(score, elapsed_s, rules) + delta))


def next_state(state: str, score: float, *, verified: bool, rules: ScoreRules) -> str:
    """Return the state after a score change; ``verified`` says the change came from a verified heartbeat."""
    if state == QUARANTINED or score < rules.quarantine_below:
        return QUARANTINED
    if score < rules.suspect_below:
        return SUSPECT
    if state == SUSPECT and not verified:
        return SUSPECT
    return TRUSTED
