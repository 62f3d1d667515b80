"""Request folder watcher: files dropped into DREAMNET_REQUESTS_DIR become missions, exactly once per content;
bad files fail with a reason beside them; files still being written are left alone."""

from __future__ import annotations

import io
import json
import os
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django_q.models import Schedule

from agents.models import Agent, Mission
from agents.watcher import services
from agents.watcher.models import RequestFile
from agents.watcher.services import request_folder_scan
from mesh.models import Event

pytestmark = pytest.mark.django_db

TASK_JSON = json.dumps({"kind": "task", "agent": "orchestrator", "prompt": "Quote 10 oz of gold."})


@pytest.fixture
def folder(settings, tmp_path) -> Path:
    settings.REQUESTS_DIR = tmp_path / "requests"
    settings.REQUESTS_SETTLE_S = 2
    settings.REQUESTS_MAX_BYTES = 4096
    return settings.REQUESTS_DIR


def drop(folder: Path, name: str, text: str | bytes, *, age: float = 10) -> Path:
    """Write a request file whose modification time is ``age`` seconds ago (age 0: being written now)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


@pytest.fixture
def scan(folder, django_capture_on_commit_callbacks):
    """Scan the folder and run the after-commit callbacks (events; mission tasks go to the ORM queue)."""

    def run():
        with django_capture_on_commit_callbacks(execute=True):
            return request_folder_scan(directory=folder)

    return run


def topics(name: str) -> list[dict]:
    return [e.payload for e in Event.objects.filter(topic=name).order_by("log_index")]


# Valid files -----------------------------------------------------------------------------------------------


def test_a_json_file_becomes_a_mission(folder, scan):
    drop(folder, "quote.json", TASK_JSON)
    result = scan()
    mission = Mission.objects.get()
    assert (mission.kind, mission.agent.slug, mission.input) == (
        "task",
        "orchestrator",
        {"prompt": "Quote 10 oz of gold."},
    )
    assert mission.created_via == "requests:quote.json"
    assert [(p.name, p.status, p.mission_id) for p in result.picked] == [("quote.json", "processed", mission.pk)]
    assert not (folder / "quote.json").exists()
    assert (folder / "processed" / "quote.json").read_text() == TASK_JSON
    assert list((folder / "processing").iterdir()) == []
    row = RequestFile.objects.get()
    assert (row.status, row.format, row.mission, row.moved_to) == ("processed", "json", mission, "processed/quote.json")
    assert topics("request.picked_up") == [
        {"file": "quote.json", "blake3": row.blake3, "mission": mission.pk, "kind": "task", "agent": "orchestrator",
         "ignored_fields": []}
    ]  # fmt: skip
    assert topics("mission.created")[0]["mission"] == mission.pk


def test_a_yaml_brief_becomes_a_mission_and_unused_fields_are_reported(folder, scan):
    drop(folder, "brief.yaml", "kind: brief\nagent: analyst\nmetals: [Silver, gold]\naudience: buyers\ncolour: red\n")
    scan()
    mission = Mission.objects.get()
    assert mission.kind == "brief"
    assert mission.input == {"metals": ["gold", "silver"], "audience": "buyers"}
    row = RequestFile.objects.get()
    assert (row.format, row.ignored_fields) == ("yaml", ["colour"])
    assert topics("request.picked_up")[0]["ignored_fields"] == ["colour"]


def test_a_markdown_file_takes_its_body_as_the_prompt(folder, scan):
    drop(
        folder,
        "ask.md",
        "---\nkind: task\nagent: orchestrator\nbudget_usd: 0.50\n---\n\nCompare gold bars\nand coins.\n",
    )
    scan()
    mission = Mission.objects.get()
    assert mission.input == {"prompt": "Compare gold bars\nand coins."}
    assert mission.budget_usd == Decimal("0.5")
    assert (folder / "processed" / "ask.md").exists()


# Invalid files ---------------------------------------------------------------------------------------------

INVALID = [
    ("syntax.json", '{"kind": "task",\n "agent": "orchestrator"\n "prompt": "x"}', "parse_error", "line 3"),
    ("syntax.yaml", "kind: task\nagent: [orchestrator\n", "parse_error", "line 3"),
    ("nofront.md", "Just a prompt, no front matter.\n", "parse_error", "starts with a '---' line"),
    ("list.yaml", "- kind: task\n", "parse_error", "must be a mapping"),
    ("alias.yaml", "kind: task\nagent: orchestrator\nprompt: &p hi\nnotes: *p\n", "parse_error", "aliases"),
    ("kind.json", '{"kind": "dream", "agent": "orchestrator", "prompt": "x"}', "unknown_kind", "Unknown mission kind"),
    ("agent.yaml", "kind: task\nprompt: hello\n", "agent_required", "missing field 'agent'; request files need kind and agent"),
    ("prompt.yaml", "kind: task\nagent: orchestrator\n", "prompt_required", "needs a prompt"),
    ("who.yaml", "kind: task\nagent: nobody\nprompt: hi\n", "unknown_agent", "No agent has the slug 'nobody'"),
    ("draft.yaml", "kind: task\nagent: request-watcher\nprompt: hi\n", "agent_not_active", "only active agents"),
    ("budget.yaml", "kind: task\nagent: orchestrator\nprompt: hi\nbudget_usd: lots\n", "bad_budget", "US dollars"),
    ("metal.yaml", "kind: brief\nagent: analyst\nmetals: [tin]\n", "unknown_metal", "Unknown metal(s) tin"),
    ("ingest.yaml", "kind: ingest\nagent: orchestrator\ndocuments: [a]\n", "documents_required", "needs sources"),
    ("notes.txt", "kind: task\n", "parse_error", "unsupported file type"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "text", "code", "reason"), INVALID, ids=[row[0] for row in INVALID])
def test_an_invalid_file_fails_with_its_reason_and_creates_nothing(folder, scan, name, text, code, reason):
    drop(folder, name, text)
    result = scan()
    assert [(p.name, p.status, p.code) for p in result.picked] == [(name, "failed", code)]
    assert reason in result.picked[0].error
    assert not Mission.objects.exists()
    assert (folder / "failed" / name).read_bytes() == text.encode()
    note = (folder / "failed" / f"{name}.error").read_text()
    assert f"code: {code}" in note and reason in note
    row = RequestFile.objects.get()
    assert (row.status, row.code, row.mission, row.moved_to) == ("failed", code, None, f"failed/{name}")
    assert topics("request.failed") == [{"file": name, "blake3": row.blake3, "code": code, "reason": row.error}]
    assert not topics("mission.created")


def test_an_oversized_file_fails_without_being_read(folder, scan):
    drop(folder, "big.json", '{"kind": "task", "agent": "orchestrator", "prompt": "' + "x" * 5000 + '"}')
    result = scan()
    assert result.picked[0].code == "too_large"
    assert "DREAMNET_REQUESTS_MAX_BYTES" in (folder / "failed" / "big.json.error").read_text()
    assert not Mission.objects.exists()


def test_a_failed_name_that_clashes_gets_a_suffix(folder, scan):
    drop(folder, "r.yaml", "kind: task\n")
    scan()
    drop(folder, "r.yaml", "kind: task\nagent: nobody\n")
    scan()
    assert sorted(p.name for p in (folder / "failed").iterdir()) == [
        "r-2.yaml",
        "r-2.yaml.error",
        "r.yaml",
        "r.yaml.error",
    ]
    assert "unknown_agent" in (folder / "failed" / "r-2.yaml.error").read_text()


def test_a_failed_file_runs_once_its_cause_is_fixed(folder, scan):
    text = "kind: task\nagent: request-watcher\nprompt: hi\n"
    drop(folder, "later.yaml", text)
    scan()
    Agent.objects.filter(slug="request-watcher").update(status=Agent.Status.ACTIVE)
    drop(folder, "later.yaml", text)
    result = scan()
    assert result.picked[0].status == "processed"
    assert Mission.objects.get().agent.slug == "request-watcher"


# Duplicates ------------------------------------------------------------------------------------------------


def test_the_same_content_twice_makes_one_mission(folder, scan):
    drop(folder, "a.json", TASK_JSON, age=20)
    drop(folder, "b.json", TASK_JSON, age=10)
    result = scan()
    mission = Mission.objects.get()
    assert [(p.name, p.status, p.mission_id) for p in result.picked] == [
        ("a.json", "processed", mission.pk),
        ("b.json", "duplicate", mission.pk),
    ]
    drop(folder, "a.json", TASK_JSON)  # the same name and content again, in a later scan
    result = scan()
    assert result.picked[0].status == "duplicate"
    assert Mission.objects.count() == 1
    assert sorted(p.name for p in (folder / "processed").iterdir()) == ["a-2.json", "a.json", "b.json"]
    assert [e["file"] for e in topics("request.duplicate")] == ["b.json", "a.json"]
    assert {e["mission"] for e in topics("request.duplicate")} == {mission.pk}


def test_different_content_makes_another_mission(folder, scan):
    drop(folder, "a.json", TASK_JSON)
    drop(folder, "b.json", TASK_JSON + "\n")
    scan()
    assert Mission.objects.count() == 2


# Files still being written ---------------------------------------------------------------------------------


def test_a_file_still_being_written_is_left_alone_then_taken(folder, scan):
    path = drop(folder, "slow.json", TASK_JSON[:20], age=0)
    result = scan()
    assert (result.picked, result.waiting) == ([], ["slow.json"])
    assert path.exists() and not RequestFile.objects.exists()
    drop(folder, "slow.json", TASK_JSON, age=5)  # finished, and quiet for longer than the settle time
    result = scan()
    assert result.picked[0].status == "processed"
    assert Mission.objects.count() == 1


@pytest.mark.parametrize("name", ["req.json.part", "req.json.tmp", ".req.json", "req.json~", "req.json.partial"])
def test_temporary_names_are_never_taken(folder, scan, name):
    drop(folder, name, TASK_JSON, age=60)
    assert scan().picked == []
    assert (folder / name).exists()
    os.rename(folder / name, folder / "req.json")  # renamed into place: taken (its mtime is already old)
    assert scan().picked[0].status == "processed"


def test_a_file_that_changes_between_two_looks_is_left_for_later(folder, scan, monkeypatch):
    path = drop(folder, "grow.json", TASK_JSON)
    real_lstat = os.lstat

    def lstat(p, *args, **kwargs):
        st = real_lstat(p, *args, **kwargs)
        if Path(p) == path:  # the writer appends between the listing and the second look
            with open(path, "a") as fh:
                fh.write(" ")
            return real_lstat(p, *args, **kwargs)
        return st

    monkeypatch.setattr(services.os, "lstat", lstat)
    result = scan()
    assert (result.picked, result.waiting) == ([], ["grow.json"])
    assert path.exists()


# Crashes and claims ----------------------------------------------------------------------------------------


def test_a_crash_before_the_move_makes_no_second_mission(folder, scan, monkeypatch):
    drop(folder, "once.json", TASK_JSON)
    real_finish = services._finish
    monkeypatch.setattr(services, "_finish", lambda *a, **k: (_ for _ in ()).throw(OSError("disk gone")))
    scan()  # the mission and its row commit; the move fails, so the file stays claimed
    mission = Mission.objects.get()
    [claimed] = (folder / "processing").iterdir()
    assert claimed.name.endswith(".once.json")
    monkeypatch.setattr(services, "_finish", real_finish)
    assert scan().recovered == 0  # a fresh claim may belong to a live watcher
    monkeypatch.setattr(services, "CLAIM_STALE_S", 0)
    assert scan().recovered == 1
    assert Mission.objects.get() == mission
    assert (folder / "processed" / "once.json").exists()
    assert RequestFile.objects.get().moved_to == "processed/once.json"
    assert len(topics("request.picked_up")) == 1


def test_a_claim_left_undecided_goes_back_and_is_taken(folder, scan, monkeypatch):
    (folder / "processing").mkdir(parents=True)
    stale = folder / "processing" / f"{int(time.time()) - 600}-0123abcd.orphan.json"
    stale.write_text(TASK_JSON)
    old = time.time() - 600
    os.utime(stale, (old, old))
    result = scan()
    assert result.recovered == 1
    assert [(p.name, p.status) for p in result.picked] == [("orphan.json", "processed")]
    assert Mission.objects.get().created_via == "requests:orphan.json"


# Command, schedule, console --------------------------------------------------------------------------------


def test_watch_requests_once(folder, django_capture_on_commit_callbacks):
    drop(folder, "cmd.yaml", "kind: task\nagent: orchestrator\nprompt: Check the log.\n")
    drop(folder, "bad.yaml", "kind: task\n")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("watch_requests", "--once", stdout=out)
    mission = Mission.objects.get()
    text = out.getvalue()
    assert f"cmd.yaml: mission {mission.pk} created -> processed/cmd.yaml" in text
    assert "bad.yaml: failed (agent_required): missing field 'agent'" in text


def test_serve_setup_schedules_the_scan(folder):
    out = io.StringIO()
    apps.get_app_config("agents").serve_setup(out)
    assert str(folder) in out.getvalue()
    schedule = Schedule.objects.get(name="agents: request folder")
    assert (schedule.func, schedule.minutes) == ("agents.watcher.tasks.request_folder_scan_task", 1)
    drop(folder, "sched.json", TASK_JSON)
    from agents.watcher.tasks import request_folder_scan_task

    assert request_folder_scan_task() == 1


def test_the_console_lists_request_files(client, olivia, folder, scan):
    drop(folder, "shown.json", TASK_JSON)
    drop(folder, "broken.yaml", "kind: task\n")
    scan()
    client.force_login(olivia)
    page = client.get("/console/requests/")
    assert page.status_code == 200
    html = page.content.decode()
    assert str(folder) in html and "shown.json" in html and "agent_required" in html
    mission = Mission.objects.get()
    assert mission.get_absolute_url() in html
    partial = client.get("/console/requests/", headers={"HX-Request": "true"})
    assert partial.content.decode().lstrip().startswith('<section id="request-files"')


def test_the_console_scans_on_request(client, olivia, folder, django_capture_on_commit_callbacks):
    drop(folder, "now.json", TASK_JSON)
    client.force_login(olivia)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/console/requests/", follow=True)
    assert "1 mission(s) created" in response.content.decode()
    assert Mission.objects.count() == 1


def test_the_console_denies_charlie(client, charlie, folder):
    client.force_login(charlie)
    assert client.get("/console/requests/").status_code in (302, 403)


def test_a_copy_that_loses_the_race_is_a_duplicate_and_its_mission_rolls_back(folder, scan, monkeypatch):
    drop(folder, "first.json", TASK_JSON)
    scan()
    # The second copy looks before the first commits (another watcher): it creates a mission, then the
    # content's unique row refuses it and the savepoint takes that mission back.
    monkeypatch.setattr(services, "_original", lambda digest: None)
    drop(folder, "second.json", TASK_JSON)
    result = scan()
    mission = Mission.objects.get()
    assert [(p.name, p.status, p.mission_id) for p in result.picked] == [("second.json", "duplicate", mission.pk)]
    assert len(topics("mission.created")) == 1
    assert [e["file"] for e in topics("request.duplicate")] == ["second.json"]


def test_a_long_file_name_is_taken_and_kept(folder, scan):
    name = "r" * 240 + ".json"
    drop(folder, name, TASK_JSON)
    result = scan()
    assert result.picked[0].status == "processed"
    assert (folder / "processed" / name).exists()
    assert RequestFile.objects.get().name == name


def test_two_movers_of_one_file_leave_one_copy(tmp_path):
    src = tmp_path / "a.json"
    src.write_text("x")
    out = tmp_path / "processed"
    out.mkdir()
    (out / "a.json").write_text("another file")
    os.link(src, out / "a-2.json")  # a racing mover linked the file but has not removed the original yet
    assert services._move_no_clobber(src, out, "a.json") == out / "a-2.json"
    assert not src.exists()
    assert sorted(p.name for p in out.iterdir()) == ["a-2.json", "a.json"]
    assert services._move_no_clobber(src, out, "a.json") is None  # the other mover finds it gone


def test_a_name_that_is_not_utf8_is_left_alone(folder, scan):
    folder.mkdir()
    raw = os.fsencode(folder) + b"/caf\xe9.json"
    with open(raw, "wb") as fh:
        fh.write(TASK_JSON.encode())
    os.utime(raw, (time.time() - 60, time.time() - 60))
    assert scan().picked == []
    assert os.path.exists(raw) and not RequestFile.objects.exists()


def test_health_reports_a_request_nobody_takes(client, folder, scan):
    drop(folder, "fresh.json", TASK_JSON)
    scan()  # creates the folder

    def request_folder_probe():
        return next(p for p in client.get("/api/health").json()["probes"] if p["name"] == "request_folder")

    probe = request_folder_probe()
    assert (probe["ok"], probe["detail"]) == (True, "0 request file(s) waiting")
    drop(folder, "forgotten.json", TASK_JSON, age=services.CLAIM_STALE_S + 600)
    probe = request_folder_probe()
    assert probe["ok"] is False and probe["required"] is False
    assert "1 request file(s) have waited over 3 minutes" in probe["detail"]
