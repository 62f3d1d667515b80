"""The public /foundry page (registry and lineage graph) and the operator's foundry console (breed, evaluate,
promote with confirmation)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from agents.errors import AgentsError
from agents.foundry import selectors, services
from agents.foundry.forms import BreedForm, EvaluateForm, PromoteForm
from agents.foundry.models import Hybrid
from dreamnet.http import AuthenticatedHtmxRequest, operator_required


def _get_hybrid(hybrid_id: int) -> Hybrid:
    return get_object_or_404(Hybrid.objects.select_related("child", "parent_a", "parent_b"), pk=hybrid_id)


def foundry_page(request: HttpRequest) -> HttpResponse:
    """The registry of agents with traits and fitness, and the lineage as a server-rendered SVG."""
    return render(
        request,
        "foundry/foundry.html",
        {"registry": selectors.traits_catalogue(), "lineage": selectors.lineage_graph(),
         "node_w": selectors.NODE_W, "node_h": selectors.NODE_H},
    )  # fmt: skip


@operator_required
def foundry_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    form = BreedForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            hybrid, created = services.hybrid_breed(
                parent_a=form.cleaned_data["parent_a"].slug, parent_b=form.cleaned_data["parent_b"].slug,
                seed=form.cleaned_data["seed"], by=request.user, via="console",
            )  # fmt: skip
        except AgentsError as exc:
            form.add_error(None, str(exc))
        else:
            verb = "Bred" if created else "These parents and seed already bred"
            messages.success(request, f"{verb} {hybrid.child.slug} (generation {hybrid.generation}).")
            return redirect("agents:foundry")
    hybrids = list(selectors.hybrid_list())
    running = any(e.status == "running" for h in hybrids for e in h.evaluations.all()[:1])
    template = "foundry/console.html#hybrids" if request.htmx and request.method == "GET" else "foundry/console.html"
    return render(
        request,
        template,
        {"form": form, "hybrids": hybrids, "running": running, "evaluate_form": EvaluateForm()},
    )


@require_POST
@operator_required
def foundry_evaluate(request: AuthenticatedHtmxRequest, hybrid_id: int) -> HttpResponse:
    hybrid = _get_hybrid(hybrid_id)
    form = EvaluateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an evaluation set.")
        return redirect("agents:foundry")
    try:
        evaluation = services.evaluation_start(hybrid=hybrid, set_slug=form.cleaned_data["evaluation_set"].slug,
                                               by=request.user, via="console")  # fmt: skip
    except AgentsError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Evaluation {evaluation.pk} started: three missions, one per agent.")
    return redirect("agents:foundry")


@operator_required
def foundry_promote(request: AuthenticatedHtmxRequest, hybrid_id: int) -> HttpResponse:
    """GET shows the evaluation and asks for confirmation; POST promotes (or says why not)."""
    hybrid = _get_hybrid(hybrid_id)
    form = PromoteForm(request.POST if request.method == "POST" else None)
    evaluation = hybrid.evaluations.order_by("-created_at").first()
    if request.method == "POST" and form.is_valid():
        try:
            services.hybrid_promote(hybrid=hybrid, by=request.user, confirm=True)
        except AgentsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{hybrid.child.slug} is now active.")
            return redirect("agents:foundry")
    verdict = None
    if evaluation is not None and evaluation.status == "complete":
        verdict = services.promotion_verdict(hybrid=hybrid, evaluation=evaluation)
    return render(
        request, "foundry/promote.html", {"hybrid": hybrid, "evaluation": evaluation, "verdict": verdict, "form": form}
    )
