"""The job summary reads well: each section once, blank lines between, a final newline, and a
deleted tag's rows say what its name says instead of linking to a tag that is gone."""

from __future__ import annotations

from pathlib import Path

import pytest
from cienv import Origin, checkout_like_github, run_github
from gitutil import git
from test_action_github import T0, push_tag

from gitops.ci.github import GitHubReporter
from gitops.ci.gitlab import GitLabReporter


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    """churn v1.0.0 and v1.1.0, v1.1.0 in prod."""
    o = Origin(tmp_path)
    c1 = o.dev.commit(epoch=T0)
    o.dev.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    c2 = o.dev.commit(epoch=T0 + 100)
    o.dev.tag("churn@v1.1.0", c2, epoch=T0 + 110)
    o.dev.tag("churn#prod#2", c2, epoch=T0 + 300)
    o.publish()
    return o


def test_deleted_tag_rows_are_filled_from_its_name_and_link_nowhere(
    tmp_path: Path, origin: Origin
) -> None:
    push_tag(origin, "churn#prod#3", "churn@v1.0.0", T0 + 400)
    tag_object = git(origin.dev.path, "rev-parse", "refs/tags/churn#prod#3")
    origin.delete_remote_tag("churn#prod#3")
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    payload = {"ref": "refs/tags/churn#prod#3", "before": tag_object, "deleted": True}
    run = run_github(tmp_path, ws, "push", payload, "refs/tags/churn#prod#3")
    assert run.code == 0, run.stderr
    assert "releases/tag/churn%23prod%233" not in run.summary  # the tag is gone
    [move_row] = [r for r in run.summary.splitlines() if r.startswith("| `churn` | `prod` |")]
    cells = [c.strip() for c in move_row.strip("|").split(" | ")]
    assert cells[2] == "_(unknown)_"  # From: git no longer knows what the tag assigned
    assert cells[5] == "`churn#prod#3` (deleted)"
    assert cells[6] == "alice"  # whoever pushed the deletion
    assert (
        "| `churn#prod#3` (deleted) | deleted assignment | `churn` | _(unknown)_ | `prod` |"
        in run.summary
    )


def test_a_pushed_tag_still_links_to_its_page(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#staging#3", "churn@v1.1.0", T0 + 400)
    ws = checkout_like_github(origin, tmp_path / "ws", "churn#staging#3")
    payload = {"ref": "refs/tags/churn#staging#3", "head_commit": {"id": origin.dev.rev()}}
    run = run_github(tmp_path, ws, "push", payload, "refs/tags/churn#staging#3")
    assert "(https://github.com/acme/models/releases/tag/churn%23staging%233)" in run.summary
    assert "(deleted)" not in run.summary


def test_github_summary_sections_are_apart_and_end_with_a_newline(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text("earlier step\n")
    reporter = GitHubReporter({"GITHUB_STEP_SUMMARY": str(path)})
    reporter.write_summary("## One\n\n| a |")
    reporter.write_summary("## Two")
    assert path.read_text() == "earlier step\n\n## One\n\n| a |\n\n## Two\n"


def test_gitlab_summary_starts_fresh_and_keeps_every_section(tmp_path: Path) -> None:
    (tmp_path / "gitops-summary.md").write_text("left from an earlier job\n")
    reporter = GitLabReporter({}, tmp_path)
    reporter.write_summary("## One")
    reporter.write_summary("## Two\n")
    assert (tmp_path / "gitops-summary.md").read_text() == "## One\n\n## Two\n"


def test_errors_are_code_blocks_nothing_inside_can_close() -> None:
    from gitops.ci.summary import errors_markdown

    hostile = "push refused\nremote: ```\n<img src=x onerror=alert(1)>\n````` done \x1b[31m"
    text = errors_markdown([hostile])
    assert text.startswith("## Failed\n\n``````text\n")  # one backtick longer than inside
    body = text.split("``````text\n", 1)[1].split("\n``````\n", 1)[0]
    assert body.splitlines() == [
        "push refused",
        "remote: ```",
        "<img src=x onerror=alert(1)>",
        "````` done \\x1b[31m",
    ]
    assert text.endswith("``````\n\n")
