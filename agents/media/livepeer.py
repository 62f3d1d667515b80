"""Livepeer Studio transcodes (https://livepeer.studio/api), used when LIVEPEER_API_KEY is set.

Pure module (no Django). The on-demand asset flow: ``POST /asset/request-upload`` (a name, ``staticMp4`` and
the rendition ``profiles``) answers an upload ``url`` and the placeholder ``asset``; the source is PUT to that
url; ``GET /asset/{id}`` is polled until ``status.phase`` is ``ready`` (or ``failed``); ``GET
/playback/{playbackId}`` lists the sources, whose static MP4 renditions are downloaded and checked with PyAV.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

import httpx2 as httpx

from agents.media.base import RENDITIONS, MediaFault, Rendition, media_info, report_accepted

SOURCE = "livepeer"


class LivepeerTranscoder:
    def __init__(self, *, api_key: str, base_url: str, timeout_s: float = 120, poll_s: float = 2) -> None:
        self.base_url = base_url.rstrip("/")
        self.poll_s = poll_s
        self.http = httpx.Client(timeout=timeout_s, headers={"Authorization": f"Bearer {api_key}"})

    def _json(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = self.http.request(method, f"{self.base_url}{path}", **kwargs)
        except httpx.TimeoutException:
            raise MediaFault("Livepeer Studio did not answer in time.", code="timeout") from None
        except httpx.HTTPError as exc:
            raise MediaFault(f"Livepeer Studio cannot be reached: {exc}", code="provider_error") from None
        if response.status_code >= 400:
            detail = response.text[:300]
            raise MediaFault(f"Livepeer Studio answered {response.status_code}: {detail}", code="provider_error")
        try:
            body = response.json()
        except ValueError:
            raise MediaFault("Livepeer Studio's answer is not JSON.", code="malformed") from None
        if not isinstance(body, dict):
            raise MediaFault("Livepeer Studio's answer is not a JSON object.", code="malformed")
        return body

    def transcode(
        self,
        *,
        name: str,
        content: bytes,
        max_wait_s: float,
        renditions: tuple[Rendition, ...] = RENDITIONS,
        on_progress: Callable[[int], None] | None = None,
    ) -> list[tuple[Rendition, bytes]]:
        """Upload ``content``, wait for Livepeer to transcode it, and return each rendition's MP4."""
        profiles = [{"name": r.name, "width": r.width, "height": r.height, "bitrate": r.bitrate} for r in renditions]
        upload = self._json(
            "POST", "/asset/request-upload", json={"name": name, "staticMp4": True, "profiles": profiles}
        )
        asset_id = (upload.get("asset") or {}).get("id")
        if not isinstance(upload.get("url"), str) or not asset_id:
            raise MediaFault("Livepeer Studio's upload answer has no url or asset id.", code="malformed")
        try:
            put = self.http.put(upload["url"], content=content, headers={"Content-Type": "video/mp4"})
        except httpx.HTTPError as exc:
            raise MediaFault(f"The upload to Livepeer Studio failed: {exc}", code="provider_error") from None
        if put.status_code >= 400:
            raise MediaFault(f"The upload to Livepeer Studio answered {put.status_code}.", code="provider_error")
        started = time.monotonic()
        while True:
            asset = self._json("GET", f"/asset/{asset_id}")
            status = asset.get("status") or {}
            phase = status.get("phase")
            if phase == "ready":
                break
            if phase == "failed":
                raise MediaFault(
                    f"Livepeer Studio could not transcode it: {status.get('errorMessage') or 'failed'}",
                    code="provider_error",
                    charged=True,
                )
            progress = int(Decimal(str(status.get("progress") or 0)) * 100)
            report_accepted(on_progress, progress, f"the Livepeer Studio asset {asset_id}")
            if time.monotonic() - started > max_wait_s:
                raise MediaFault(
                    f"Livepeer Studio did not finish within {max_wait_s:.0f} s.", code="timeout", charged=True
                )
            time.sleep(self.poll_s)
        playback_id = asset.get("playbackId")
        if not playback_id:
            raise MediaFault("Livepeer Studio's ready asset has no playbackId.", code="malformed", charged=True)
        sources = (self._json("GET", f"/playback/{playback_id}").get("meta") or {}).get("source") or []
        mp4s = {s.get("height"): s for s in sources if isinstance(s, dict) and s.get("hrn") == "MP4"}
        outputs = []
        for rendition in renditions:
            source = mp4s.get(rendition.height)
            if source is None or not isinstance(source.get("url"), str):
                raise MediaFault(f"Livepeer Studio lists no MP4 of {rendition.name}.", code="malformed", charged=True)
            try:
                response = self.http.get(source["url"])
            except httpx.HTTPError as exc:
                raise MediaFault(f"Downloading {rendition.name} failed: {exc}", code="provider_error") from None
            if response.status_code >= 400:
                raise MediaFault(
                    f"Downloading {rendition.name} answered {response.status_code}.", code="provider_error"
                )
            media_info(response.content)  # MediaFault("malformed") when it is not video
            outputs.append((rendition, response.content))
        return outputs
