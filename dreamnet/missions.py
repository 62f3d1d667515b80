"""The mission-kind registry: how one app asks for a mission another app runs, without importing it.

Platform plumbing: imports no app. The app that runs missions registers each kind it offers
(``mission_kind_register("brief", MissionKind(...))`` in its ``AppConfig.ready``); an app that wants one asks by
name (``mission_request(kind="brief", ...)``) and later reads its state (``mission_status(id, kind="brief")``).
A kind nobody registered is refused with ``MissionKindUnknown``, naming the kind and the kinds there are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dreamnet.errors import DomainError


class MissionError(DomainError):
    """A mission request refused: an unknown kind, or the runner's own refusal (over budget, no agent...)."""

    code = "mission_refused"
    status = 409


class MissionKindUnknown(MissionError):
    code = "mission_kind_unknown"
    status = 503


@dataclass(frozen=True)
class MissionTicket:
    """A requested mission: its id (keep it to ask for its status) and kind."""

    id: int
    kind: str


@dataclass(frozen=True)
class MissionStatus:
    """Where a mission stands. ``state`` is the runner's status name; ``text`` its written output, if any."""

    id: int
    state: str
    text: str = ""
    model: str = ""

    @property
    def succeeded(self) -> bool:
        return self.state == "succeeded"


@dataclass(frozen=True)
class MissionKind:
    """What an app offers under a kind name.

    ``request(**params)`` starts a mission and returns its ticket (raise a DomainError to refuse);
    ``status(id)`` returns its state, or None for an unknown id; ``ready()`` says whether the kind can run on
    this node now (for example: a language model is configured), so callers can skip asking.
    """

    request: Callable[..., MissionTicket]
    status: Callable[[int], MissionStatus | None]
    ready: Callable[[], bool] = lambda: True


_kinds: dict[str, MissionKind] = {}


def mission_kind_register(name: str, handler: MissionKind) -> None:
    """Offer missions of kind ``name``; registering the same kind again replaces the handler (app reloads)."""
    _kinds[name] = handler


def _kind(name: str) -> MissionKind:
    try:
        return _kinds[name]
    except KeyError:
        offered = ", ".join(sorted(_kinds)) or "none"
        raise MissionKindUnknown(
            f"No app on this node runs {name!r} missions (offered kinds: {offered}); install and enable the app "
            "that registers it (agents, for briefs).",
        ) from None


def mission_kind_ready(kind: str) -> bool:
    """Return whether ``kind`` can run on this node now; MissionKindUnknown when nobody offers it."""
    return _kind(kind).ready()


def mission_request(*, kind: str, **params: Any) -> MissionTicket:
    """Start a mission of ``kind`` with ``params``; refusals come back as MissionError with the runner's detail."""
    handler = _kind(kind)
    try:
        return handler.request(**params)
    except MissionError:
        raise
    except DomainError as exc:
        raise MissionError(exc.detail, code=exc.code, status=exc.status, extra=exc.extra) from exc


def mission_status(id: int, *, kind: str) -> MissionStatus | None:
    """Return where mission ``id`` of ``kind`` stands, or None when there is no such mission."""
    return _kind(kind).status(id)
