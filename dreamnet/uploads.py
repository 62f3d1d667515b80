"""Refuse a multipart body that ends inside a file part instead of dropping that file silently.

Django's multipart parser completes a file only when it meets the next boundary; a body cut off inside a file
part (a client that died mid-upload, a proxy that truncated it) ends with the file unfinished, and the request went
on as if that field had never been sent: an API answered "file: field required" for a file the client did send.
Django does tell the upload handlers (``upload_interrupted``); this handler, last in ``FILE_UPLOAD_HANDLERS`` so the
handlers before it have removed their temporary files, turns that into ``MultiPartParserError``, which the API
answers as 400 ``multipart_malformed`` (``dreamnet/ninja.py``) and the site as a plain 400.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParserError


class TruncatedUploadRefusal(FileUploadHandler):
    """Raise ``MultiPartParserError`` when the body ended before a file part's closing boundary."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def upload_interrupted(self) -> None:
        raise MultiPartParserError(
            "the body ended inside a file part, before its boundary; the upload was cut short, send it again whole"
        )
