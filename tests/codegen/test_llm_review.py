"""With the in-suite OpenAI-compatible server: the roles ask the model with their own system prompts; a CodeSmith
answer with a syntax error, a stub or a path escape is refused by QualityGuard naming the gate and the line or
path, and a syntax error is corrected in the next review round."""

from __future__ import annotations

import json

import pytest

from agents.codegen.services import codegen_run_start
from agents.models import LlmCall, Mission
from agents.services import mission_run
from tests.agents.conftest import completion

pytestmark = pytest.mark.django_db

GOOD = {
    "apps/slugs/__init__.py": "",
    "apps/slugs/text.py": (
        'import re\n\n\ndef slugify_title(title: str) -> str:\n    """Lowercase words joined by hyphens."""\n'
        '    return "-".join(re.findall(r"[a-z0-9]+", title.lower()))\n'
    ),
    "apps/slugs/tests.py": (
        "from django.test import SimpleTestCase\n\nfrom .text import slugify_title\n\n\n"
        "class SlugTests(SimpleTestCase):\n    def test_words_are_joined(self):\n"
        '        self.assertEqual(slugify_title("Gold Bars, 1 oz"), "gold-bars-1-oz")\n'
    ),
}
SYNTAX_ERROR = GOOD | {"apps/slugs/text.py": "def slugify_title(title: str) -> str\n    return title\n"}
STUB = GOOD | {"apps/slugs/text.py": 'def slugify_title(title: str) -> str:\n    """Slug."""\n    pass\n'}
ESCAPE = GOOD | {"../outside.py": "VALUE = 1\n"}


def _files(files: dict[str, str]) -> str:
    return json.dumps({"files": [{"path": p, "content": c} for p, c in files.items()]})


def _script(server, answers: list[dict[str, str]]):
    smith = []

    def script(body, number):
        system = body["messages"][0]["content"]
        if "You are CodeSmith" in system:
            smith.append(body)
            return 200, completion(content=_files(answers[min(len(smith), len(answers)) - 1])), {}
        if "You are ContentCraft" in system:
            pr = {"title": "Add slugify_title", "description": "Slugs for titles.", "changelog": "Added: slugs."}
            return 200, completion(content=json.dumps(pr)), {}
        return 200, completion(content="1. Add slugify_title(title) in apps/slugs/text.py with a test."), {}

    server.script = script
    return smith


def _run(settings, django_capture_on_commit_callbacks):
    settings.CODEGEN_REVIEW_ROUNDS = 2
    with django_capture_on_commit_callbacks(execute=False):
        run = codegen_run_start(workspace="demo", spec={"request": "Add a slugify_title helper with a test."})
    mission = mission_run(mission_id=run.mission_id)
    run.refresh_from_db()
    return mission, run


def test_a_syntax_error_is_corrected_in_the_next_review_round(
    fake_openai, workspace, settings, django_capture_on_commit_callbacks
):
    smith = _script(fake_openai, [SYNTAX_ERROR, GOOD])
    mission, run = _run(settings, django_capture_on_commit_callbacks)
    assert mission.status == Mission.Status.SUCCEEDED, (mission.error, run.gates)
    assert run.review_rounds == 1 and run.gates_passed is True
    assert len(smith) == 2
    second = smith[1]["messages"][1]["content"]
    assert "[parse] apps/slugs/text.py:1: SyntaxError" in second
    roles = [s.output["role"] for s in mission.steps.order_by("number")]
    assert roles == ["specreader", "architect", "codesmith", "integrator", "qualityguard", "codesmith",
                     "integrator", "qualityguard", "contentcraft"]  # fmt: skip
    # Each role asked with its own agent's system prompt; the calls have the fixed sequence numbers.
    assert sorted(LlmCall.objects.filter(mission=mission).values_list("seq", flat=True)) == [1, 2, 10, 11, 30]
    assert mission.cost_usd > 0 and run.title == "Add slugify_title"
    assert "+++ b/apps/slugs/text.py" in run.diff and "Subject: [PATCH] Add slugify_title" in run.mbox


def test_a_stub_is_refused_naming_the_gate_and_line(
    fake_openai, workspace, settings, django_capture_on_commit_callbacks
):
    _script(fake_openai, [STUB])
    mission, run = _run(settings, django_capture_on_commit_callbacks)
    assert mission.status == Mission.Status.FAILED and run.review_rounds == 2
    stubs = next(g for g in run.gates if g["gate"] == "stubs")
    assert stubs["passed"] is False
    assert stubs["findings"] == ["apps/slugs/text.py:1: function slugify_title() has only pass/... as its body"]
    assert next(g for g in run.gates if g["gate"] == "tests")["passed"] is None  # not run after a failed gate
    assert "stubs gate failed" in mission.error and run.diff and run.mbox  # the patch comes with its failed report


def test_a_path_escape_is_refused_with_the_offending_path(
    fake_openai, workspace, settings, django_capture_on_commit_callbacks, tmp_path
):
    _script(fake_openai, [ESCAPE])
    _mission, run = _run(settings, django_capture_on_commit_callbacks)
    paths = next(g for g in run.gates if g["gate"] == "paths")
    assert paths["passed"] is False and paths["findings"] == ["../outside.py: escapes the workspace (`..`)"]
    assert "outside.py" not in run.diff
    assert not (tmp_path / "outside.py").exists()
