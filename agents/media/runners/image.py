"""The ``image`` mission kind (see agents/media/runner.py)."""

from __future__ import annotations

from agents.media.runner import MediaKind

_KIND = MediaKind("image")
clean = _KIND.clean
forecast = _KIND.forecast
run = _KIND.run
provider = _KIND.provider
model = _KIND.model
