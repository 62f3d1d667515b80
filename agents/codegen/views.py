"""Console pages of the CodeGenerationTeam: workspaces and runs, one run with its roles live, the diff, the gate
report, the cost and the mbox download."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from agents.codegen import selectors
from agents.codegen.runner import SpecRefused
from agents.codegen.services import codegen_run_start, workspace_register
from agents.errors import AgentsError
from dreamnet.http import AuthenticatedHtmxRequest, operator_required

EXAMPLE_SPEC = {
    "name": "supplier",
    "fields": [
        {"name": "title", "type": "str", "max_length": 120, "unique": True},
        {"name": "rating", "type": "int"},
        {"name": "active", "type": "bool"},
    ],
    "operations": ["list", "get", "create", "update", "delete"],
}


class RunForm(forms.Form):
    workspace = forms.ChoiceField(label="Workspace")
    spec = forms.CharField(
        label="Spec (JSON)", widget=forms.Textarea(attrs={"rows": 12, "class": "mono"}),
        initial=json.dumps(EXAMPLE_SPEC, indent=2),
        help_text='A resource {name, fields, operations}, or {"request": "..."} when a language model is configured.',
    )  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workspace"].choices = [(w.name, w.name) for w in selectors.workspaces()]

    def clean_spec(self):
        try:
            return json.loads(self.cleaned_data["spec"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None


class WorkspaceForm(forms.Form):
    name = forms.SlugField(label="Name", max_length=60)
    path = forms.CharField(label="Repository path (absolute)", max_length=500)
    allowed_paths = forms.CharField(label="Allowed paths (comma-separated)", initial="apps/", max_length=500)
    test_command = forms.CharField(label="Test command", initial="{python} manage.py test --noinput", max_length=500)


def _register(request: AuthenticatedHtmxRequest, form: WorkspaceForm) -> HttpResponse | None:
    if not form.is_valid():
        return None
    try:
        workspace = workspace_register(
            name=form.cleaned_data["name"], path=form.cleaned_data["path"],
            allowed_paths=form.cleaned_data["allowed_paths"].split(","), test_command=form.cleaned_data["test_command"],
        )  # fmt: skip
    except AgentsError as exc:
        form.add_error(None, str(exc))
        return None
    messages.success(request, f"Workspace {workspace.name} registered.")
    return redirect("agents:codegen")


@operator_required
def codegen_console(request: AuthenticatedHtmxRequest) -> HttpResponse:
    """List workspaces and recent runs; start a run; register a workspace."""
    registering = request.method == "POST" and request.POST.get("action") == "register"
    ws_form = WorkspaceForm(request.POST if registering else None)
    if registering and (done := _register(request, ws_form)):
        return done
    form = RunForm(None if registering else request.POST or None)
    if request.method == "POST" and not registering and form.is_valid():
        try:
            run = codegen_run_start(
                workspace=form.cleaned_data["workspace"], spec=form.cleaned_data["spec"], by=request.user,
                via="console",
            )  # fmt: skip
        except SpecRefused as exc:
            for error in exc.errors:
                form.add_error("spec", f"{error['field']}: {error['message']}")
        except AgentsError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Codegen run {run.mission_id} started.")
            return redirect(run.get_absolute_url())
    context = {"form": form, "ws_form": ws_form, "workspaces": selectors.workspaces(), "runs": selectors.runs_recent()}
    return render(request, "agents/codegen/console.html", context, status=422 if form.errors or ws_form.errors else 200)


def _run_or_404(mission_id: int):
    run = selectors.run_for_mission(mission_id)
    if run is None:
        raise Http404("No codegen run has this mission id.")
    return run


@operator_required
def codegen_run_page(request: AuthenticatedHtmxRequest, mission_id: int) -> HttpResponse:
    """One run: roles progressing live (the panel re-renders on events about its mission), diff, gates, cost."""
    run = _run_or_404(mission_id)
    context = {"run": run, "mission": run.mission, "steps": selectors.run_steps(run), "roles": selectors.ROLES}
    template = "agents/codegen/run.html#run-panel" if request.htmx else "agents/codegen/run.html"
    return render(request, template, context)


@operator_required
def codegen_mbox(request: AuthenticatedHtmxRequest, mission_id: int) -> HttpResponse:
    """Download the run's patch as an mbox (`git am` applies it)."""
    run = _run_or_404(mission_id)
    if not run.mbox:
        raise Http404("This run has no patch yet.")
    response = HttpResponse(run.mbox, content_type="application/mbox")
    response["Content-Disposition"] = f'attachment; filename="codegen-{run.mission_id}.mbox"'
    return response
