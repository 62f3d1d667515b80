"""Request file parsing (pure: no Django, no database): JSON, YAML and Markdown front matter, with line numbers in
the errors."""

from __future__ import annotations

import pytest

from agents.watcher.parse import RequestFieldError, RequestParseError, format_of, request_fields, request_parse


def test_formats_follow_the_extension():
    assert [format_of(n) for n in ("a.json", "a.YAML", "a.yml", "a.md", "a.markdown", "a.txt", "json", ".json")] == [
        "json", "yaml", "yaml", "markdown", "markdown", None, None, None,
    ]  # fmt: skip


def test_json_yaml_and_markdown_give_the_same_request():
    want = {"kind": "task", "agent": "orchestrator", "prompt": "Check the log.", "budget_usd": 0.5}
    assert request_parse(b'{"kind": "task", "agent": "orchestrator", "prompt": "Check the log.", "budget_usd": 0.5}',
                         name="r.json") == want  # fmt: skip
    assert (
        request_parse(b"kind: task\nagent: orchestrator\nprompt: Check the log.\nbudget_usd: 0.5\n", name="r.yml")
        == want
    )
    md = b"---\nkind: task\nagent: orchestrator\nbudget_usd: 0.5\n---\n\nCheck the log.\n\n"
    assert request_parse(md, name="r.md") == want


def test_a_byte_order_mark_is_accepted_and_yaml_dates_become_text():
    parsed = request_parse("\ufeffkind: brief\nagent: analyst\nas_of: 2026-11-22\n".encode(), name="b.yaml")
    assert parsed["as_of"] == "2026-11-22"


@pytest.mark.parametrize(
    ("name", "content", "line", "words"),
    [
        ("bad.json", b'{\n  "kind": "task"\n  "agent": "x"\n}', 3, "Expecting ',' delimiter"),
        ("bad.yaml", b"kind: task\nagent: x\n  prompt: y\n", 3, "YAML"),
        ("bad.md", b"---\nkind: task\nagent: [x\n---\nbody\n", 3, "YAML"),
        ("open.md", b"---\nkind: task\n", 1, "never closed"),
        ("plain.md", b"# A title\n", 1, "starts with a '---' line"),
        ("latin1.yaml", b"kind: task\nprompt: caf\xe9\n", 2, "not UTF-8"),
    ],
)
def test_syntax_errors_name_the_line(name, content, line, words):
    with pytest.raises(RequestParseError) as caught:
        request_parse(content, name=name)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ") and words in str(caught.value)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("list.json", b"[1, 2]", "must be a mapping of fields (kind, agent, ...), not a list"),
        ("empty.yaml", b"", "not empty"),
        ("keys.yaml", b"1: one\n", "key 1 is not a string"),
        ("nan.json", b'{"budget_usd": NaN}', "not a finite number"),
        ("alias.yaml", b"a: &x [1, 2]\nb: *x\n", "aliases (*name) are not accepted"),
        ("both.md", b"---\nprompt: one\n---\ntwo\n", "has a prompt and the file also has a body (from line 4)"),
        ("r.txt", b"kind: task", "unsupported file type"),
    ],
)
def test_documents_that_are_not_requests_are_refused(name, content, words):
    with pytest.raises(RequestParseError) as caught:
        request_parse(content, name=name)
    assert words in str(caught.value)


def test_fields_split_into_the_mission_and_the_kinds_data():
    kind, agent, budget, model, data = request_fields(
        {"kind": " task ", "agent": "orchestrator", "budget_usd": 0.25, "model": "gpt-4o", "prompt": "p", "x": 1}
    )
    assert (kind, agent, budget, model, data) == ("task", "orchestrator", "0.25", "gpt-4o", {"prompt": "p", "x": 1})
    assert request_fields({"kind": "brief", "agent": "analyst"})[2:] == (None, None, {})


@pytest.mark.parametrize(
    ("request_", "code", "words"),
    [
        ({"agent": "a"}, "kind_required", "missing field 'kind'; request files need kind and agent"),
        ({"kind": "task", "agent": "  "}, "agent_required", "missing field 'agent'"),
        ({"kind": ["task"], "agent": "a"}, "bad_kind", "field 'kind' must be text, not list"),
        ({"kind": "task", "agent": "a", "budget_usd": True}, "bad_budget", "amount in US dollars"),
        ({"kind": "task", "agent": "a", "model": 4}, "bad_model", "model name"),
    ],
)
def test_missing_or_mistyped_fields_have_codes(request_, code, words):
    with pytest.raises(RequestFieldError) as caught:
        request_fields(request_)
    assert caught.value.code == code and words in str(caught.value)
