"""The operator's page for the request folder: where it is, what a request looks like, and what became of the
files dropped there."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from agents.watcher.selectors import EXAMPLE, request_file_list
from agents.watcher.services import request_folder_scan
from dreamnet.http import AuthenticatedHtmxRequest, operator_required


@operator_required
def requests_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """List recent request files (the list refreshes itself, HTMX); POST scans the folder now."""
    if request.method == "POST":
        result = request_folder_scan()
        counts = {status: sum(p.status == status for p in result.picked) for status in ("processed", "duplicate")}
        failed = len(result.picked) - sum(counts.values())
        messages.success(
            request,
            f"Scanned: {counts['processed']} mission(s) created, {counts['duplicate']} duplicate(s), {failed} "
            f"failed, {len(result.waiting)} still settling.",
        )
        return redirect("agents:requests")
    context = {
        "files": request_file_list(limit=100),
        "directory": settings.REQUESTS_DIR,
        "settle_s": settings.REQUESTS_SETTLE_S,
        "max_bytes": settings.REQUESTS_MAX_BYTES,
        "example": EXAMPLE,
    }
    template = "agents/requests.html#request-files" if request.htmx else "agents/requests.html"
    return render(request, template, context)
