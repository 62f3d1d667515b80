"""The fake media server, pointed at by the openai SDK (base_url) and the Livepeer adapter."""

from __future__ import annotations

import pytest

from tests.media.fakes import FakeMediaServer


@pytest.fixture
def fake_media(settings):
    """Start the fake OpenAI + Livepeer server; the media provider is openai, with no retries."""
    with FakeMediaServer() as server:
        settings.LLM_PROVIDER = "openai"
        settings.OPENAI_API_KEY = "sk-test-not-a-real-key"
        settings.OPENAI_BASE_URL = server.openai_url
        settings.LLM_MAX_RETRIES = 0
        settings.MEDIA_TIMEOUT_S = 10
        settings.MEDIA_VIDEO_POLL_S = 0
        settings.LIVEPEER_API_KEY = None
        settings.LIVEPEER_API_URL = server.livepeer_url
        yield server
