"""The ``codegen`` mission kind: the CodeGenerationTeam's roles as durable mission steps.

SpecReader -> Architect -> (CodeSmith -> Integrator -> QualityGuard) x (1 + up to DREAMNET_CODEGEN_REVIEW_ROUNDS
review rounds) -> ContentCraft. Each role is one stored step, numbered in the order it ran; the flow is a pure
function of the stored outputs, so a resumed mission replays its stored steps and runs only the rest. LLM calls
have fixed sequence numbers (SpecReader 1, Architect 2, CodeSmith round k 10+k, ContentCraft 30), so the cassette
never repeats one.

A structured resource spec is built by the deterministic generator (:mod:`agents.codegen.generator`) whatever the
provider: its roles are labelled "offline: generated from the structured spec" and call no model. A free-form
request needs a real provider; each role then asks the model with its role agent's system prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from agents.codegen import gates as G
from agents.codegen import generator, gitops
from agents.codegen import spec as S
from agents.errors import AgentsError
from agents.kinds import Outcome, call_worst_usd, forecast_of
from agents.llm import LlmRequest, provider_name_configured
from agents.models import Agent, Mission

OFFLINE = "offline: generated from the structured spec"
ROLE_AGENT = {
    "specreader": "codegen-specreader",
    "architect": "codegen-architect",
    "codesmith": "codegen-codesmith",
    "contentcraft": "codegen-contentcraft",
}
SEQ_SPECREADER, SEQ_ARCHITECT, SEQ_CODESMITH, SEQ_CONTENTCRAFT = 1, 2, 10, 30
PROMPT_BOUND = {"specreader": 6_000, "architect": 12_000, "codesmith": 80_000, "contentcraft": 16_000}
MAX_TOKENS = {"specreader": 1200, "architect": 1200, "codesmith": 4000, "contentcraft": 1200}


class SpecRefused(AgentsError):
    """The spec failed validation; ``errors`` names each field."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("The spec is not valid: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                         code="invalid_spec", status=422, extra={"errors": errors})  # fmt: skip
        self.errors = errors


def clean(data: dict[str, Any]) -> dict[str, Any]:
    from agents.codegen.models import Workspace

    name = str(data.get("workspace") or "").strip()
    if not Workspace.objects.filter(name=name).exists():
        raise AgentsError(
            f"No workspace is named {name!r}; register one in the console or with `manage.py codegen_init_workspace`.",
            code="unknown_workspace",
            status=404,
        )
    try:
        spec = S.validate(data.get("spec"))
    except S.SpecError as exc:
        raise SpecRefused(exc.errors) from None
    if S.is_freeform(spec) and provider_name_configured() == "offline":
        raise AgentsError(
            "A free-form request needs a language model, and this node runs the offline provider; send a "
            "structured resource spec (name, fields, operations) or configure OPENAI_API_KEY.",
            code="freeform_needs_llm",
        )
    return {"workspace": name, "spec": spec}


def review_rounds() -> int:
    return settings.CODEGEN_REVIEW_ROUNDS


def forecast(*, agent: Agent, data: dict[str, Any], model: str):
    if not S.is_freeform(data["spec"]):
        return forecast_of(model=model, calls=[])
    roles = ["specreader", "architect"] + ["codesmith"] * (1 + review_rounds()) + ["contentcraft"]
    return forecast_of(
        model=model,
        calls=[call_worst_usd(model=model, prompt_tokens=PROMPT_BOUND[r], max_tokens=MAX_TOKENS[r]) for r in roles],
    )


# The team -------------------------------------------------------------------------------------------------


class Team:
    def __init__(self, mission: Mission, provider) -> None:
        from agents.codegen.models import CodegenRun, Workspace

        self.mission = mission
        self.provider = provider
        workspace = Workspace.objects.get(name=mission.input["workspace"])
        self.run, _ = CodegenRun.objects.get_or_create(
            mission=mission, defaults={"workspace": workspace, "spec": mission.input["spec"]}
        )
        self.workspace = self.run.workspace
        self.spec = mission.input["spec"]
        self.freeform = S.is_freeform(self.spec)
        self.stored = {step.number: step.output for step in mission.steps.all()}
        self.number = 0

    def step(self, role: str, progress: int, work: Callable[[], tuple[str, dict[str, Any], int | None]]):
        """Run role ``role`` as the next step, or return its stored output when a crashed run already did it."""
        self.number += 1
        if self.number in self.stored:
            return self.stored[self.number]
        self._set(current_role=role)
        started = timezone.now()
        summary, output, seq = work()
        from agents.services import mission_step_add

        mission_step_add(
            mission=self.mission, number=self.number, summary=summary, output={"role": role} | output,
            started=started, progress=progress, llm_call_seq=seq,
        )  # fmt: skip
        return {"role": role} | output

    def _set(self, **fields: Any) -> None:
        from agents.codegen.models import CodegenRun
        from mesh import publish_on_commit

        CodegenRun.objects.filter(pk=self.run.pk).update(updated_at=timezone.now(), **fields)
        for name, value in fields.items():
            setattr(self.run, name, value)
        if "current_role" in fields:
            payload = {"mission": self.mission.pk, "kind": "codegen", "role": fields["current_role"]}
            publish_on_commit("codegen.role", payload)

    def ask(self, role: str, seq: int, user: str) -> tuple[str, int]:
        from agents.services import mission_llm_call

        agent = Agent.objects.get(slug=ROLE_AGENT[role])

        def build(model: str) -> LlmRequest:
            return LlmRequest(
                model=model,
                messages=[{"role": "system", "content": agent.system_prompt}, {"role": "user", "content": user}],
                tools=[],
                max_tokens=min(agent.max_tokens, MAX_TOKENS[role]),
                temperature=0.0,
            )

        response = mission_llm_call(mission=self.mission, provider=self.provider, seq=seq, build=build)
        return response.content, seq

    # Roles --------------------------------------------------------------------------------------------------

    def specreader(self) -> dict[str, Any]:
        def work():
            if not self.freeform:
                req = generator.requirements(self.spec)
                text = "\n".join(["Requirements:"] + [f"- {r}" for r in req["requirements"]]
                                 + ["", "Acceptance criteria:"] + [f"- {a}" for a in req["acceptance"]])  # fmt: skip
                return f"SpecReader ({OFFLINE}): {len(req['requirements'])} requirements", {"text": text}, None
            text, seq = self.ask("specreader", SEQ_SPECREADER, f"Change request:\n{self.spec['request']}\n\n"
                                 f"The patch may only touch: {', '.join(self.workspace.allowed_paths)}")  # fmt: skip
            return "SpecReader: requirements and acceptance criteria written", {"text": text}, seq

        return self.step("specreader", 8, work)

    def architect(self, requirements: str, base: str) -> dict[str, Any]:
        def work():
            if not self.freeform:
                plan = generator.plan(self.spec)
                text = "\n".join(f"{p['path']}: {p['purpose']}" for p in plan)
                return f"Architect ({OFFLINE}): {len(plan)} files planned", {"text": text}, None
            listing = gitops.git("ls-files", cwd=Path(self.workspace.path))[:6000]
            text, seq = self.ask("architect", SEQ_ARCHITECT, f"{requirements}\n\nAllowed paths: "
                                 f"{', '.join(self.workspace.allowed_paths)}\n\nFiles in the workspace at {base[:12]}:"
                                 f"\n{listing}")  # fmt: skip
            return "Architect: file plan written", {"text": text}, seq

        return self.step("architect", 16, work)

    def codesmith(self, round_: int, requirements: str, plan: str, previous: dict[str, str], findings: list[str]):
        def work():
            if not self.freeform:
                files = generator.generate(self.spec)
                return f"CodeSmith ({OFFLINE}): {len(files)} files", {"files": files, "error": ""}, None
            parts = [requirements, "", "File plan:", plan, "",
                     f"Allowed paths: {', '.join(self.workspace.allowed_paths)}",
                     f"Test command: {self.workspace.test_command}"]  # fmt: skip
            if findings:
                parts += ["", f"Review round {round_}: QualityGuard refused your last files. Findings:"]
                parts += [f"- {f}" for f in findings]
                parts += ["", "Your last files:", json.dumps({"files": [{"path": p, "content": c}
                                                                         for p, c in previous.items()]})]  # fmt: skip
            text, seq = self.ask("codesmith", SEQ_CODESMITH + round_, "\n".join(parts))
            files, error = parse_files(text)
            label = f"round {round_}: " if round_ else ""
            summary = f"CodeSmith {label}{len(files)} files" + (f" ({error})" if error else "")
            return summary, {"files": files, "error": error}, seq

        return self.step("codesmith", 24 + 20 * round_, work)

    def integrator(self, round_: int, files: dict[str, str], base: str) -> dict[str, Any]:
        def work():
            repo = Path(self.workspace.path)
            with gitops.checkout(repo, base) as root:
                refused = gitops.write_files(root, files, self.workspace.allowed_paths)
                diff = gitops.staged_diff(root)
            check, error = True, ""
            if diff:
                with gitops.checkout(repo, base) as clean_root:
                    try:
                        gitops.apply(clean_root, diff, check=True)
                    except gitops.GitError as exc:
                        check, error = False, str(exc)
            summary = (f"Integrator: diff of {diff.count(chr(10) + 'diff --git') + bool(diff)} files on {base[:12]}, "
                       f"git apply --check {'passed' if check else 'FAILED'}"
                       + (f"; refused to write {len(refused)} path(s)" if refused else ""))  # fmt: skip
            return summary, {"diff": diff, "refused": refused, "apply_check": check, "error": error}, None

        return self.step("integrator", 30 + 20 * round_, work)

    def qualityguard(self, round_: int, smith: dict[str, Any], integ: dict[str, Any], base: str):
        def work():
            report = run_gates(
                files=smith["files"], smith_error=smith.get("error", ""), integ=integ, workspace=self.workspace,
                base=base,
            )  # fmt: skip
            failed = next((g for g in report if g["passed"] is False), None)
            summary = ("QualityGuard: all gates passed" if failed is None else
                       f"QualityGuard: {failed['gate']} gate failed ({len(failed['findings'])} finding(s))")  # fmt: skip
            return summary, {"gates": report, "passed": failed is None}, None

        return self.step("qualityguard", 36 + 20 * round_, work)

    def contentcraft(self, requirements: str, files: list[str], diff: str, base: str) -> dict[str, Any]:
        def work():
            if not self.freeform:
                text = generator.pr_text(self.spec, files)
                summary, seq = f"ContentCraft ({OFFLINE}): {text['title']}", None
            else:
                answer, seq = self.ask("contentcraft", SEQ_CONTENTCRAFT,
                                       f"{requirements}\n\nFiles changed:\n" + "\n".join(files))  # fmt: skip
                text = parse_pr(answer, self.spec["request"])
                summary = f"ContentCraft: {text['title']}"
            mbox = (
                gitops.mbox(Path(self.workspace.path), base, diff, text["title"], text["description"]) if diff else ""
            )
            return summary, text | {"mbox": mbox}, seq

        return self.step("contentcraft", 95, work)


def run_gates(*, files: dict[str, str], smith_error: str, integ: dict[str, Any], workspace, base: str):
    """Return the gate report: each gate in order until the first that fails; later ones are marked not run."""
    limits = {"timeout_s": settings.CODEGEN_SANDBOX_TIMEOUT_S, "memory_mb": settings.CODEGEN_SANDBOX_MEMORY_MB}
    report: list[dict[str, Any]] = []
    pending = list(G.ORDER)
    if smith_error or not files:
        report.append({"gate": "parse", "passed": False,
                       "findings": [smith_error or "CodeSmith returned no files"]})  # fmt: skip
    elif not integ["apply_check"]:
        report.append({"gate": "apply", "passed": False, "findings": [integ["error"]]})
    else:
        with gitops.checkout(Path(workspace.path), base) as root:
            if integ["diff"]:
                gitops.apply(root, integ["diff"])
            written = {p: c for p, c in files.items() if p not in integ["refused"]}
            checks = {
                "parse": lambda: G.check_parse(files),
                "ruff": lambda: G.check_ruff(written, root, **limits),
                "paths": lambda: G.check_paths(files, workspace.allowed_paths, root),
                "stubs": lambda: G.check_stubs(files),
                "tests": lambda: G.check_tests(workspace.test_command, root, **limits),
            }
            for name in G.ORDER:
                pending.remove(name)
                gate = checks[name]()
                report.append(gate)
                if not gate["passed"]:
                    break
    failed = report[-1]["gate"]
    report += [G.skipped(name, failed) for name in pending if name != failed]
    return report


def parse_files(text: str) -> tuple[dict[str, str], str]:
    """Read CodeSmith's ``{"files": [{"path", "content"}]}`` answer (a ```json fence is tolerated)."""
    body = text.strip()
    if fence := re.search(r"```(?:json)?\s*(.*?)```", body, re.S):
        body = fence.group(1)
    try:
        data = json.loads(body)
        files = {str(f["path"]): str(f["content"]) for f in data["files"]}
    except (ValueError, KeyError, TypeError) as exc:
        return {}, f'CodeSmith did not answer with {{"files": [{{"path", "content"}}]}} JSON ({type(exc).__name__})'
    return files, ""


def parse_pr(text: str, request: str) -> dict[str, str]:
    body = text.strip()
    if fence := re.search(r"```(?:json)?\s*(.*?)```", body, re.S):
        body = fence.group(1)
    try:
        data = json.loads(body)
        return {"title": str(data["title"])[:300], "description": str(data.get("description") or ""),
                "changelog": str(data.get("changelog") or "")[:300]}  # fmt: skip
    except (ValueError, KeyError, TypeError):
        lines = [line for line in text.strip().splitlines() if line.strip()] or [request[:72]]
        return {"title": lines[0].strip("# ")[:300], "description": "\n".join(lines[1:]), "changelog": ""}


def run(*, mission: Mission, provider) -> Outcome:
    from agents.services import mission_cancel_requested

    team = Team(mission, provider)
    base = team.run.base_commit or gitops.head(Path(team.workspace.path))
    if not team.run.base_commit:
        team._set(base_commit=base)

    def cancelled() -> Outcome | None:
        if mission_cancel_requested(mission=mission):
            return Outcome(Mission.Status.CANCELLED, Mission.StopReason.CANCELLED, "Cancelled by an operator.")
        return None

    requirements = team.specreader()["text"]
    if stop := cancelled():
        return stop
    plan = team.architect(requirements, base)["text"]
    rounds = 0 if not team.freeform else review_rounds()  # the deterministic generator cannot revise its output
    files: dict[str, str] = {}
    findings: list[str] = []
    for round_ in range(rounds + 1):
        if stop := cancelled():
            return stop
        smith = team.codesmith(round_, requirements, plan, files, findings)
        files = smith["files"]
        integ = team.integrator(round_, files, base)
        guard = team.qualityguard(round_, smith, integ, base)
        team._set(gates=guard["gates"], gates_passed=guard["passed"], review_rounds=round_, files=files,
                  diff=integ["diff"])  # fmt: skip
        if guard["passed"]:
            break
        findings = [f"[{g['gate']}] {f}" for g in guard["gates"] if g["passed"] is False for f in g["findings"]]
    pr = team.contentcraft(requirements, sorted(files), integ["diff"], base)
    team._set(current_role="done", title=pr["title"], description=pr["description"],
              changelog_line=pr["changelog"], mbox=pr["mbox"])  # fmt: skip
    data = {"codegen": {"gates_passed": guard["passed"], "review_rounds": team.run.review_rounds,
                        "title": pr["title"], "workspace": team.workspace.name}}  # fmt: skip
    text = f"# {pr['title']}\n\n{pr['description']}\n\n```diff\n{integ['diff']}```\n"
    if guard["passed"]:
        return Outcome(Mission.Status.SUCCEEDED, Mission.StopReason.COMPLETED, text=text, data=data)
    failed = next(g for g in guard["gates"] if g["passed"] is False)
    return Outcome(
        Mission.Status.FAILED, Mission.StopReason.COMPLETED, text=text, data=data,
        error=f"QualityGuard: the {failed['gate']} gate failed after {team.run.review_rounds} review round(s): "
        f"{'; '.join(failed['findings'])[:400]}",
    )  # fmt: skip
