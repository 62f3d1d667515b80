"""Local fakes of OpenAI's media endpoints and of Livepeer Studio, in their real request and response shapes.

One threaded HTTP server on 127.0.0.1 (free port) answers:

- OpenAI (under /v1): ``POST /images/generations`` (JSON; ``data[].b64_json``), ``POST /audio/speech`` (JSON in,
  audio bytes out), ``POST /videos`` (multipart form), ``GET /videos/{id}`` (the Video object, progressing one
  step per poll), ``GET /videos/{id}/content`` (the MP4).
- Livepeer Studio (under /api): ``POST /asset/request-upload``, ``PUT /upload/{asset}`` (the direct upload),
  ``GET /asset/{id}`` (processing, then ready), ``GET /playback/{playbackId}`` (``meta.source`` with the static
  MP4 renditions), and the rendition downloads; the renditions are real MP4s transcoded from the upload.

``mode[endpoint]`` switches an endpoint to ``refuse``, ``timeout`` (answers after ``delay_s``), ``malformed``
or ``fail``; every request is recorded (method, path, headers, parsed body) so tests see what the SDK sent.
"""

from __future__ import annotations

import base64
import email.parser
import io
import json
import threading
import time
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from agents.media.base import RENDITIONS, transcode_local
from agents.media.offline import encode_mp4
from compute.render import encode_png


def png_bytes(width: int = 64, height: int = 64) -> bytes:
    ramp = np.linspace(0, 255, width * height * 3, dtype=np.float64).astype(np.uint8)
    return encode_png(ramp.reshape(height, width, 3))


def wav_bytes(seconds: float = 1.5, rate: int = 24_000) -> bytes:
    samples = (np.sin(np.arange(int(seconds * rate)) * 2 * np.pi * 440 / rate) * 8000).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def mp4_bytes(frames: int = 8, fps: int = 4, width: int = 64, height: int = 64) -> bytes:
    pictures = [np.full((height, width, 3), (i * 30) % 256, dtype=np.uint8) for i in range(frames)]
    return encode_mp4(pictures, fps=fps)


REFUSAL = {
    "error": {
        "message": "Your request was rejected as a result of our safety system.",
        "type": "invalid_request_error",
        "param": None,
        "code": "moderation_blocked",
    }
}


class FakeMediaServer:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.mode: dict[str, str] = {}
        self.delay_s = 2.0
        self.polls_to_finish = 2
        self.video_seconds = "4"
        self.videos: dict[str, dict[str, Any]] = {}
        self.assets: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, body: bytes | dict | list, content_type: str = "application/json") -> None:
                data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self, body: Any) -> None:
                with fake.lock:
                    fake.requests.append(
                        {"method": self.command, "path": self.path, "body": body,
                         "headers": {k.lower(): v for k, v in self.headers.items()}}
                    )  # fmt: skip

            def do_POST(self) -> None:
                raw = self._body()
                if self.headers.get("Content-Type", "").startswith("multipart/form-data"):
                    message = email.parser.BytesParser().parsebytes(
                        b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw
                    )
                    body = {
                        part.get_param("name", header="content-disposition"): part.get_payload(decode=True).decode()
                        for part in message.get_payload()
                    }
                else:
                    body = json.loads(raw or b"{}")
                self._record(body)
                fake.route(self, "POST", body)

            def do_GET(self) -> None:
                self._record(None)
                fake.route(self, "GET", None)

            def do_PUT(self) -> None:
                raw = self._body()
                self._record(len(raw))
                fake.route(self, "PUT", raw)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.openai_url = f"{self.base}/v1"
        self.livepeer_url = f"{self.base}/api"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeMediaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, path_start: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"].startswith(path_start)]

    # Routing ------------------------------------------------------------------------------------------------

    def _mode(self, handler, endpoint: str) -> str:
        mode = self.mode.get(endpoint, "ok")
        if mode == "timeout":
            time.sleep(self.delay_s)
        return mode

    def route(self, handler, method: str, body: Any) -> None:
        path = handler.path.split("?")[0]
        if method == "POST" and path == "/v1/images/generations":
            return self._image(handler, body)
        if method == "POST" and path == "/v1/audio/speech":
            return self._speech(handler, body)
        if method == "POST" and path == "/v1/videos":
            return self._video_create(handler, body)
        if method == "GET" and path.startswith("/v1/videos/"):
            return self._video_get(handler, path.removeprefix("/v1/videos/"))
        if path.startswith("/api/") or path.startswith("/upload/") or path.startswith("/download/"):
            return self._livepeer(handler, method, path, body)
        handler._send(404, {"error": {"message": f"no route {method} {path}", "type": "invalid_request_error"}})

    def _image(self, handler, body: dict) -> None:
        mode = self._mode(handler, "images")
        if mode == "refuse":
            return handler._send(400, REFUSAL)
        if body.get("size") not in ("1024x1024", "1536x1024", "1024x1536", "auto"):
            error = {"message": f"Invalid value: '{body.get('size')}'.", "type": "invalid_request_error",
                     "param": "size", "code": "invalid_value"}  # fmt: skip
            return handler._send(400, {"error": error})
        encoded = base64.b64encode(b"not a png at all" if mode == "malformed" else png_bytes()).decode()
        data = [{"b64_json": encoded, "revised_prompt": None} for _ in range(int(body.get("n") or 1))]
        handler._send(200, {
            "created": 1_760_000_000, "data": data, "background": "opaque", "output_format": "png",
            "quality": "medium", "size": body["size"],
            "usage": {"input_tokens": 50, "output_tokens": 1056, "total_tokens": 1106,
                      "input_tokens_details": {"image_tokens": 0, "text_tokens": 50}},
        })  # fmt: skip

    def _speech(self, handler, body: dict) -> None:
        mode = self._mode(handler, "speech")
        if mode == "refuse":
            return handler._send(400, REFUSAL)
        if mode == "malformed":
            return handler._send(200, b"<html>gateway error</html>", "audio/wav")
        handler._send(200, wav_bytes(1.5), "audio/wav")

    def _video(self, video_id: str) -> dict[str, Any]:
        state = self.videos[video_id]
        polls = state["polls"]
        done = polls >= self.polls_to_finish
        status = ("failed" if self.mode.get("videos") == "fail" else "completed") if done else "in_progress"
        return {
            "id": video_id, "object": "video", "created_at": 1_760_000_000, "model": state["model"],
            "progress": 100 if done else polls * 100 // self.polls_to_finish, "seconds": state["seconds"],
            "size": state["size"], "status": status, "prompt": state["prompt"],
            "completed_at": 1_760_000_060 if done else None, "expires_at": None, "remixed_from_video_id": None,
            "error": {"code": "moderation_blocked", "message": "The output was blocked by moderation."}
            if status == "failed" else None,
        }  # fmt: skip

    def _video_create(self, handler, body: dict) -> None:
        self._mode(handler, "videos_create")
        with self.lock:
            video_id = f"video_{len(self.videos) + 1:04d}"
            self.videos[video_id] = {"polls": 0, "model": body.get("model", "sora-2"), "size": body.get("size"),
                                     "seconds": body.get("seconds", "4"), "prompt": body.get("prompt")}  # fmt: skip
            reply = self._video(video_id) | {"status": "queued", "progress": 0}
        handler._send(200, reply)

    def _video_get(self, handler, rest: str) -> None:
        video_id, _, tail = rest.partition("/")
        if video_id not in self.videos:
            return handler._send(404, {"error": {"message": "Video not found", "type": "invalid_request_error"}})
        if tail == "content":
            return handler._send(200, mp4_bytes(frames=8, fps=2), "video/mp4")
        with self.lock:
            self.videos[video_id]["polls"] += 1
            reply = self._video(video_id)
        handler._send(200, reply)

    def _livepeer(self, handler, method: str, path: str, body: Any) -> None:
        signed = path.startswith("/download/") or path.startswith("/upload/")  # URLs that carry their own token
        if handler.headers.get("Authorization") != "Bearer lp-test-key" and not signed:
            return handler._send(401, {"errors": ["Unauthorized"]})
        if method == "POST" and path == "/api/asset/request-upload":
            with self.lock:
                asset_id = f"asset-{len(self.assets) + 1}"
                self.assets[asset_id] = {"polls": 0, "content": None, "profiles": body.get("profiles") or []}
            asset = {"id": asset_id, "name": body.get("name"), "status": {"phase": "waiting", "updatedAt": 0}}
            return handler._send(200, {
                "url": f"{self.base}/upload/{asset_id}", "tusEndpoint": f"{self.base}/upload/tus?token=x",
                "asset": asset, "task": {"id": f"task-{asset_id}"},
            })  # fmt: skip
        if method == "PUT" and path.startswith("/upload/"):
            self.assets[path.removeprefix("/upload/")]["content"] = body
            return handler._send(200, b"", "text/plain")
        if method == "GET" and path.startswith("/api/asset/"):
            asset_id = path.removeprefix("/api/asset/")
            state = self.assets[asset_id]
            state["polls"] += 1
            ready = state["polls"] >= 2 and state["content"] is not None
            if ready and self.mode.get("livepeer") == "fail":
                status = {"phase": "failed", "errorMessage": "invalid video file"}
            else:
                status = {"phase": "ready"} if ready else {"phase": "processing", "progress": 0.5}
            return handler._send(200, {
                "id": asset_id, "playbackId": f"pb{asset_id}" if ready else None, "status": status,
                "playbackUrl": f"{self.base}/hls/pb{asset_id}/index.m3u8" if ready else None,
            })  # fmt: skip
        if method == "GET" and path.startswith("/api/playback/"):
            asset_id = path.removeprefix("/api/playback/pb")
            state = self.assets[asset_id]
            outputs = transcode_local(state["content"], RENDITIONS)
            state["renditions"] = {r.name: body for r, body in outputs}
            source = [{"hrn": "HLS (TS)", "type": "html5/application/vnd.apple.mpegurl",
                       "url": f"{self.base}/hls/pb{asset_id}/index.m3u8"}]  # fmt: skip
            for rendition, content in outputs:
                source.append({
                    "hrn": "MP4", "type": "html5/video/mp4", "width": rendition.width, "height": rendition.height,
                    "bitrate": rendition.bitrate, "size": len(content),
                    "url": f"{self.base}/download/{asset_id}/{rendition.name}.mp4",
                })  # fmt: skip
            return handler._send(200, {"type": "vod", "meta": {"source": source}})
        if method == "GET" and path.startswith("/download/"):
            asset_id, name = path.removeprefix("/download/").split("/")
            return handler._send(200, self.assets[asset_id]["renditions"][name.removesuffix(".mp4")], "video/mp4")
        handler._send(404, {"errors": ["not found"]})
