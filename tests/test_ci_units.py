"""Small pieces of the CI layer: escaping, output files, event detection, inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cienv import parse_github_output

from gitops.ci.action import Inputs
from gitops.ci.context import EventKind, Platform
from gitops.ci.detect import detect
from gitops.ci.github import GitHubReporter, escape_data, escape_property
from gitops.ci.gitlab import dotenv_name
from gitops.errors import UsageError
from gitops.markdown import code, escape, table


def test_markdown_escape_neutralises_links_html_and_mentions() -> None:
    text = escape("[x](http://evil) <b>hi</b> @admin *bold* a|b\nnew")
    assert "](" not in text.replace("\\](", "").replace("\\(", "")
    assert "\\<b\\>" in text and "\\@admin" in text and "\\*bold\\*" in text
    assert "\\|" in text and "\n" not in text


def test_code_span_cannot_be_closed_or_split() -> None:
    assert code("a`b|c\nd") == "`aˋb\\|c d`"
    assert code("a|b", in_table=False) == "`a|b`"


def test_table_rows_have_one_cell_per_column() -> None:
    out = table(["A", "B"], [[code("x|y"), escape("p|q")]])
    row = out.splitlines()[2]
    assert row.replace("\\|", "").count("|") == 3


def test_workflow_command_escaping() -> None:
    assert escape_data("50%\r\n::x") == "50%25%0D%0A::x"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_github_outputs_survive_a_value_holding_a_delimiter_like_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("")
    reporter = GitHubReporter({"GITHUB_OUTPUT": str(out)}, print_fn=lambda _: None)
    tricky = "line1\nghadelimiter_x\nEOF\nchanged=true"
    reporter.set_outputs({"moves": tricky, "changed": "false"})
    assert parse_github_output(out.read_text()) == {"moves": tricky, "changed": "false"}


def test_github_reporter_redacts_secrets(tmp_path: Path) -> None:
    lines: list[str] = []
    summary = tmp_path / "summary"
    reporter = GitHubReporter(
        {"GITHUB_STEP_SUMMARY": str(summary)}, print_fn=lines.append, secrets=["hunter2-token"]
    )
    reporter.log("fetch https://x:hunter2-token@host failed")
    reporter.error("again hunter2-token")
    reporter.write_summary("token hunter2-token")
    assert lines == ["fetch https://x:***@host failed", "::error::again ***"]
    assert summary.read_text() == "token ***\n"


def test_github_log_line_cannot_start_a_command() -> None:
    lines: list[str] = []
    GitHubReporter({}, print_fn=lines.append).log("::error::x\n::warning::y")
    assert len(lines) == 1 and not lines[0].startswith("::")


def test_github_summary_is_cut_below_one_mebibyte(tmp_path: Path) -> None:
    summary = tmp_path / "summary"
    reporter = GitHubReporter({"GITHUB_STEP_SUMMARY": str(summary)}, print_fn=lambda _: None)
    reporter.write_summary("| row |\n" * 200_000)
    text = summary.read_text()
    assert len(text.encode()) < 1024 * 1024
    assert "summary cut" in text


def _github_env(tmp_path: Path, name: str, payload: dict, ref: str) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps(payload))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": name,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_REF": ref,
        "GITHUB_SHA": "c" * 40,
        "GITHUB_WORKSPACE": str(tmp_path),
    }


@pytest.mark.parametrize(
    ("name", "payload", "ref", "kind"),
    [
        ("push", {"ref": "refs/tags/a@v1.0.0", "deleted": False}, "refs/tags/a@v1.0.0", "tag_push"),
        (
            "push",
            {"ref": "refs/tags/a@v1.0.0", "deleted": True},
            "refs/tags/a@v1.0.0",
            "tag_delete",
        ),
        ("push", {"ref": "refs/heads/main"}, "refs/heads/main", "branch_push"),
        ("create", {"ref": "a#prod#1", "ref_type": "tag"}, "refs/heads/main", "tag_push"),
        ("delete", {"ref": "a#prod#1", "ref_type": "tag"}, "refs/heads/main", "tag_delete"),
        ("create", {"ref": "feature", "ref_type": "branch"}, "refs/heads/feature", "other"),
        ("schedule", {}, "refs/heads/main", "schedule"),
        ("workflow_dispatch", {}, "refs/heads/main", "manual"),
        (
            "pull_request",
            {"number": 3, "pull_request": {"number": 3}},
            "refs/pull/3/merge",
            "pull_request",
        ),
    ],
)
def test_github_event_kinds(tmp_path: Path, name: str, payload: dict, ref: str, kind: str) -> None:
    ctx = detect(_github_env(tmp_path, name, payload, ref))
    assert ctx.platform == Platform.GITHUB
    assert ctx.event == EventKind(kind)


def test_annotated_tag_push_uses_the_commit_not_the_tag_object(tmp_path: Path) -> None:
    payload = {"ref": "refs/tags/a#prod#1", "after": "t" * 40, "head_commit": {"id": "d" * 40}}
    ctx = detect(_github_env(tmp_path, "push", payload, "refs/tags/a#prod#1"))
    assert ctx.sha == "d" * 40
    assert ctx.tag == "a#prod#1"


def test_fork_pull_request_gets_a_read_only_token(tmp_path: Path) -> None:
    pr = {
        "number": 9,
        "title": "t",
        "head": {"ref": "f", "repo": {"full_name": "eve/r"}},
        "base": {"ref": "main", "repo": {"full_name": "acme/r"}},
    }
    ctx = detect(_github_env(tmp_path, "pull_request", {"pull_request": pr}, "refs/pull/9/merge"))
    assert (ctx.pr_number, ctx.head_ref, ctx.base_ref, ctx.read_only_token) == (
        9,
        "f",
        "main",
        True,
    )


def test_unreadable_payload_is_a_clear_error(tmp_path: Path) -> None:
    env = _github_env(tmp_path, "push", {}, "refs/heads/main")
    Path(env["GITHUB_EVENT_PATH"]).write_text("{not json")
    with pytest.raises(UsageError, match="cannot read the event payload"):
        detect(env)


@pytest.mark.parametrize(
    ("variables", "kind"),
    [
        ({"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_TAG": "a#prod#1"}, "tag_push"),
        ({"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main"}, "branch_push"),
        (
            {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "4"},
            "pull_request",
        ),
        ({"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "main"}, "schedule"),
        ({"CI_PIPELINE_SOURCE": "web", "CI_COMMIT_BRANCH": "main"}, "manual"),
    ],
)
def test_gitlab_event_kinds(variables: dict[str, str], kind: str) -> None:
    ctx = detect({"GITLAB_CI": "true", **variables})
    assert ctx.platform == Platform.GITLAB
    assert ctx.event == EventKind(kind)


def test_gitlab_prefers_an_access_token_over_the_job_token() -> None:
    ctx = detect({"GITLAB_CI": "true", "CI_JOB_TOKEN": "job", "GITOPS_TOKEN": "pat"})
    assert (ctx.token, ctx.token_kind) == ("pat", "private")
    ctx = detect({"GITLAB_CI": "true", "CI_JOB_TOKEN": "glcbt-s3cret"})
    assert (ctx.token, ctx.token_kind) == ("glcbt-s3cret", "job")
    assert "s3cret" not in repr(ctx)  # tokens stay out of reprs (and so out of tracebacks)


def test_inputs_read_both_hyphen_and_underscore_names() -> None:
    assert Inputs.from_env({"INPUT_DRY-RUN": "true"}).dry_run is True
    assert Inputs.from_env({"INPUT_DRY_RUN": "TRUE"}).dry_run is True
    inputs = Inputs.from_env({})
    assert (inputs.command, inputs.config, inputs.comment) == ("auto", "gitops.yaml", "update")


def test_inputs_ref_lists_tags() -> None:
    inputs = Inputs.from_env({"INPUT_REF": "refs/tags/a#p#1, b@v1.0.0\nc#d"})
    assert inputs.tags() == ["a#p#1", "b@v1.0.0", "c#d"]


def test_unknown_command_input_is_refused() -> None:
    with pytest.raises(UsageError, match="input `command` is 'deploy-everything'"):
        Inputs.from_env({"INPUT_COMMAND": "deploy-everything"})


def test_dotenv_names() -> None:
    assert dotenv_name("comment-url") == "GITOPS_COMMENT_URL"
    assert dotenv_name("moves") == "GITOPS_MOVES"
