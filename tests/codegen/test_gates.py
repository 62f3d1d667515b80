"""QualityGuard's pure gates and the sandbox: stubs named by file and line, path escapes, symlinks, no network."""

from __future__ import annotations

import sys
import time

import pytest

from agents.codegen import gates, sandbox
from agents.codegen import spec as S


def test_stub_detector_names_file_and_line():
    source = (
        '"""Module."""\n\n\ndef real(x):\n    return x\n\n\ndef empty():\n    """Doc."""\n    ...\n\n\n'
        "def later():\n    raise NotImplementedError\n\n\nclass Error(Exception):\n    pass\n\n\n"
        "VALUE = 1  # TODO: tune\n"
    )
    assert gates.stubs_in("apps/x/m.py", source) == [
        "apps/x/m.py:8: function empty() has only pass/... as its body",
        "apps/x/m.py:14: raises NotImplementedError",
        "apps/x/m.py:21: TODO marker",
    ]
    assert gates.stubs_in("apps/x/README.md", "ok\nFIXME later\n") == ["apps/x/README.md:2: FIXME marker"]
    assert gates.check_stubs({"apps/x/ok.py": "def f():\n    return 1\n"})["passed"] is True


def test_paths_must_stay_inside_the_allowed_paths(tmp_path):
    allowed = ["apps/"]
    assert gates.path_problem("apps/a/models.py", allowed) is None
    assert gates.path_problem("apps/../demo/settings.py", allowed) == "escapes the workspace (`..`)"
    assert gates.path_problem("/etc/passwd", allowed) == "absolute path"
    assert gates.path_problem("demo/settings.py", allowed) == "outside the allowed paths (apps/)"
    assert gates.path_problem("appsx/a.py", allowed).startswith("outside")
    (tmp_path / "apps").mkdir()
    (tmp_path / "apps" / "link").symlink_to(tmp_path.parent)
    report = gates.check_paths({"apps/link/evil.py": "x = 1\n"}, allowed, tmp_path)
    assert report["findings"] == ["apps/link/evil.py: resolves through a symlink outside the workspace"]


def test_parse_gate_names_the_line():
    report = gates.check_parse({"apps/a.py": "x = 1\ndef f(:\n"})
    assert report["passed"] is False and report["findings"][0].startswith("apps/a.py:2: SyntaxError")


@pytest.mark.parametrize("isolation", ["probed", "sitecustomize"])
def test_the_sandbox_has_no_network_and_a_scrubbed_environment(tmp_path, monkeypatch, isolation):
    if isolation == "sitecustomize":  # the fallback where unshare is not allowed
        monkeypatch.setattr(sandbox, "network_isolation", lambda: "sitecustomize")
    monkeypatch.setenv("DREAMNET_SECRET_KEY", "do-not-leak")
    probe = (
        "import os, socket\n"
        "print('secret' if 'DREAMNET_SECRET_KEY' in os.environ else 'clean')\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "s.settimeout(3)\n"
        "try:\n    s.connect(('1.1.1.1', 53))\n    print('connected')\n"
        "except OSError as exc:\n    print('refused', type(exc).__name__)\n"
    )
    result = sandbox.run([sys.executable, "-c", probe], cwd=tmp_path, timeout_s=30, memory_mb=512)
    assert result.returncode == 0, result.output
    assert "clean" in result.output and "refused" in result.output and "connected" not in result.output
    assert sandbox.network_isolation() in ("netns", "sitecustomize")


def test_the_sandbox_enforces_time_and_memory(tmp_path):
    slow = sandbox.run([sys.executable, "-c", "import time; time.sleep(30)"], cwd=tmp_path, timeout_s=2,
                       memory_mb=512)  # fmt: skip
    assert slow.timed_out and "killed after 2 s" in slow.output
    started = time.monotonic()  # a child that forks: its whole process group goes, pipes and all
    forked = sandbox.run(["sh", "-c", "sleep 30 & sleep 30"], cwd=tmp_path, timeout_s=2, memory_mb=512)
    assert forked.timed_out and time.monotonic() - started < 10
    hog = sandbox.run([sys.executable, "-c", "x = bytearray(900 * 1024 * 1024)"], cwd=tmp_path, timeout_s=30,
                      memory_mb=300)  # fmt: skip
    assert hog.returncode != 0 and "MemoryError" in hog.output


def test_spec_validation_is_per_field():
    assert S.validate({"name": "tag", "fields": [{"name": "label", "type": "str"}]})["fields"][0]["max_length"] == 200
    with pytest.raises(S.SpecError) as refused:
        S.validate({"name": "tag", "fields": [{"name": "label", "type": "text", "unique": True, "required": False}]})
    assert {e["field"] for e in refused.value.errors} == {"fields[0].unique"}
