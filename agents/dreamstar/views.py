"""DreamStar pages: the operator console (ingest, search, generate), an ingestion's chunks, a generation with its
citations, and the public /dreamstar page with live figures."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from agents.dreamstar import selectors
from agents.dreamstar.forms import GenerateForm, IngestForm
from agents.dreamstar.models import DreamstarGeneration, DreamstarIngestion
from agents.dreamstar.search import chunk_search
from agents.dreamstar.services import Upload, dreamstar_generate_request, dreamstar_ingest_request
from agents.errors import AgentsError
from dreamnet.http import AuthenticatedHtmxRequest, HtmxHttpRequest, operator_required


def _console(request, *, ingest_form: IngestForm, generate_form: GenerateForm, status: int = 200) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    context = {
        "ingest_form": ingest_form,
        "generate_form": generate_form,
        "query": query,
        "hits": chunk_search(query, limit=20) if query else [],
        "ingestions": selectors.ingestion_list(limit=100),
        "generations": selectors.generation_list(limit=50),
        "missions": selectors.dreamstar_missions(limit=20),
        "figures": selectors.dreamstar_figures(),
        "max_upload_mb": round(settings.DREAMSTAR_MAX_UPLOAD_BYTES / 1024 / 1024, 1),
    }
    if request.htmx and request.htmx.target == "search-results":
        return render(request, "agents/dreamstar/console.html#search-results", context)
    return render(request, "agents/dreamstar/console.html", context, status=status)


@operator_required
def dreamstar_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Ingest files or pasted text (POST), search the chunks (``?q=``), list ingestions, generations, missions."""
    form = IngestForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        uploads = []
        for f in form.cleaned_data["files"]:
            if f.size > settings.DREAMSTAR_MAX_UPLOAD_BYTES:  # refuse before reading the body
                form.add_error(
                    "files", f"{f.name} is {f.size} bytes; the limit is {settings.DREAMSTAR_MAX_UPLOAD_BYTES}."
                )
                break
            uploads.append(Upload(f.name, f.read()))
        else:
            try:
                mission = dreamstar_ingest_request(
                    uploads=uploads, text=form.cleaned_data["text"], text_name=form.cleaned_data["name"],
                    by=request.user, via="console",
                )  # fmt: skip
            except AgentsError as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(mission)
    status = 422 if request.method == "POST" else 200
    return _console(request, ingest_form=form, generate_form=GenerateForm(), status=status)


@operator_required
@require_POST
def dreamstar_generate(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Queue a generate mission for the brief and open its mission page."""
    form = GenerateForm(request.POST)
    if form.is_valid():
        try:
            mission = dreamstar_generate_request(
                prompt=form.cleaned_data["prompt"], fmt=form.cleaned_data["format"], by=request.user, via="console"
            )
        except AgentsError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect(mission)
    return _console(request, ingest_form=IngestForm(), generate_form=form, status=422)


@operator_required
@require_POST
def dreamstar_loom_corpus_view(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """Store the collection's text as one artifact and send the operator to queue a Loom model on it."""
    from agents.dreamstar.services import dreamstar_loom_corpus

    try:
        artifact = dreamstar_loom_corpus()
    except AgentsError as exc:
        messages.error(request, str(exc))
        return redirect("agents:dreamstar")
    messages.success(request, f'The collection\'s text ({artifact.size:,} bytes) is artifact {artifact.blake3}. Queue '
                              f'an lm_train job with {{"corpus_artifact": "{artifact.blake3}"}}.')  # fmt: skip
    return redirect("compute-console")


@operator_required
def dreamstar_ingestion(request: AuthenticatedHtmxRequest, ingestion_id: int) -> HttpResponse:
    """One ingested document and its chunks (each anchored as ``#chunk-<id>``)."""
    ingestion = get_object_or_404(DreamstarIngestion.objects.select_related("artifact", "mission"), pk=ingestion_id)
    return render(
        request, "agents/dreamstar/ingestion.html", {"ingestion": ingestion, "chunks": ingestion.chunks.all()}
    )


@operator_required
def dreamstar_generation(request: AuthenticatedHtmxRequest, generation_id: int) -> HttpResponse:
    """One generation: its text and numbered sources, each linking to its chunk."""
    generation = get_object_or_404(DreamstarGeneration.objects.select_related("mission", "artifact"), pk=generation_id)
    context = {"generation": generation, "sources": selectors.generation_sources(generation)}
    return render(request, "agents/dreamstar/generation.html", context)


def dreamstar_page(request: HtmxHttpRequest) -> HttpResponse:
    """The public DreamStar page: what it does, with the node's real counts."""
    return render(request, "agents/dreamstar/landing.html", {"figures": selectors.dreamstar_figures()})
