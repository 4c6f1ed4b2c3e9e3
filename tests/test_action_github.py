"""The action as GitHub runs it: a tag-less depth-1 checkout, an event file, output files."""

from __future__ import annotations

from pathlib import Path

import pytest
from cienv import TOKEN, Origin, Run, active_commands, checkout_like_github, run_github
from gitutil import git

T0 = 1_760_000_000


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    """churn v1.0.0 (in dev), v1.1.0 (in prod); fraud v0.1.0 — all on origin."""
    o = Origin(tmp_path)
    d = o.dev
    files = {
        "artifacts.yaml": "churn:\n  type: model\n  path: models/churn.pkl\n"
        "  description: Churn classifier\n"
    }
    c1 = d.commit(files=files, epoch=T0)
    d.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    c2 = d.commit(epoch=T0 + 100)
    d.tag("churn@v1.1.0", c2, epoch=T0 + 110)
    d.tag("fraud@v0.1.0", c2, epoch=T0 + 120)
    d.tag("churn#dev#1", c1, epoch=T0 + 200)
    d.tag("churn#prod#2", c2, epoch=T0 + 300)
    o.publish()
    return o


def push_tag(o: Origin, tag: str, target: str, epoch: int, tagger=("Carol", "carol@x")) -> str:
    o.dev.tag(tag, o.dev.rev(target), epoch=epoch, tagger=tagger)
    o.publish()
    return o.dev.rev(tag)


def tag_push(tmp: Path, o: Origin, tag: str, **inputs: str) -> Run:
    ws = checkout_like_github(o, tmp / "ws", tag)
    sha = o.dev.rev(tag)
    tag_object = git(o.dev.path, "rev-parse", f"refs/tags/{tag}")
    payload = {
        "ref": f"refs/tags/{tag}",
        "before": "0" * 40,
        "after": tag_object,  # the tag object, as GitHub sends it for an annotated tag
        "created": True,
        "deleted": False,
        "head_commit": {"id": sha},
    }
    return run_github(tmp, ws, "push", payload, f"refs/tags/{tag}", tag_object, inputs)


def test_first_assignment_to_a_stage(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#staging#3", "churn@v1.1.0", T0 + 400)
    run = tag_push(tmp_path, origin, "churn#staging#3")
    assert run.code == 0, run.stderr
    assert run.moves == [
        {
            "artifact": "churn",
            "stage": "staging",
            "from_version": None,
            "to_version": "v1.1.0",
            "to_commit": origin.dev.rev("churn@v1.1.0"),
            "tag": "churn#staging#3",
            "actor": "Carol",
            "time": "2025-10-09T09:00:00+00:00",
            "kind": "deploy",
        }
    ]
    assert run.outputs["changed"] == "true"
    assert run.outputs["event"] == "assignment"
    assert run.outputs["name"] == "churn"
    assert run.outputs["version"] == "v1.1.0"
    assert run.outputs["stage"] == "staging"
    assert run.outputs["type"] == "model"  # artifacts.yaml at the version's commit
    assert run.outputs["path"] == "models/churn.pkl"
    assert run.outputs["description"] == "Churn classifier"


def test_the_checkout_is_completed_with_annotated_tags(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#staging#3", "churn@v1.1.0", T0 + 400)
    run = tag_push(tmp_path, origin, "churn#staging#3")
    ws = tmp_path / "ws"
    kinds = git(ws, "for-each-ref", "--format=%(objecttype)", "refs/tags/").split()
    assert kinds == ["tag"] * 6  # every tag, and the pushed one annotated again
    assert "the pushed tag was rewritten as a lightweight tag" in run.stdout
    assert "::group::Fetch registry tags" in run.stdout
    safe = (tmp_path / "home" / ".gitconfig").read_text()
    assert str(ws.resolve()) in safe  # marked as a safe.directory in the global config


def test_newer_version_replaces_older(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#dev#3", "churn@v1.1.0", T0 + 400)
    run = tag_push(tmp_path, origin, "churn#dev#3")
    [move] = run.moves
    assert (move["stage"], move["from_version"], move["to_version"], move["kind"]) == (
        "dev",
        "v1.0.0",
        "v1.1.0",
        "update",
    )


def test_rollback_to_an_older_version(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#prod#3", "churn@v1.0.0", T0 + 400)
    run = tag_push(tmp_path, origin, "churn#prod#3")
    [move] = run.moves
    assert (move["from_version"], move["to_version"], move["kind"]) == (
        "v1.1.0",
        "v1.0.0",
        "rollback",
    )


def test_unassign_falls_back_to_the_previous_version(tmp_path: Path, origin: Origin) -> None:
    origin.dev.tag("churn#prod#3", origin.dev.rev("churn@v1.0.0"), epoch=T0 + 400)
    push_tag(origin, "churn#prod!#4", "churn@v1.0.0", T0 + 500)
    run = tag_push(tmp_path, origin, "churn#prod!#4")
    assert run.outputs["event"] == "unassignment"
    [move] = run.moves
    assert (move["stage"], move["from_version"], move["to_version"]) == (
        "prod",
        "v1.0.0",
        "v1.1.0",
    )


def test_unassigning_the_only_version_empties_the_stage(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#dev!#3", "churn@v1.0.0", T0 + 400)
    run = tag_push(tmp_path, origin, "churn#dev!#3")
    [move] = run.moves
    assert (move["stage"], move["from_version"], move["to_version"], move["kind"]) == (
        "dev",
        "v1.0.0",
        None,
        "vacate",
    )


def test_deprecation_vacates_every_stage(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn@deprecated#3", "churn@v1.1.0", T0 + 400)
    run = tag_push(tmp_path, origin, "churn@deprecated#3")
    assert run.outputs["event"] == "deprecation"
    assert sorted((m["stage"], m["from_version"], m["to_version"]) for m in run.moves) == [
        ("dev", "v1.0.0", None),
        ("prod", "v1.1.0", None),
    ]


def test_registration_is_reported_but_moves_nothing(tmp_path: Path, origin: Origin) -> None:
    c3 = origin.dev.commit(epoch=T0 + 350)
    push_tag(origin, "churn@v1.2.0", c3, T0 + 400)
    run = tag_push(tmp_path, origin, "churn@v1.2.0")
    assert run.code == 0
    assert run.moves == []
    assert run.outputs["changed"] == "false"
    assert (run.outputs["event"], run.outputs["version"]) == ("registration", "v1.2.0")
    assert "registration" in run.summary


def test_three_tags_in_one_push(tmp_path: Path, origin: Origin) -> None:
    origin.dev.tag("churn#staging#3", origin.dev.rev("churn@v1.1.0"), epoch=T0 + 400)
    origin.dev.tag("fraud#staging#1", origin.dev.rev("fraud@v0.1.0"), epoch=T0 + 400)
    push_tag(origin, "churn#dev#4", "churn@v1.1.0", T0 + 401)
    tags = "refs/tags/churn#staging#3 fraud#staging#1, churn#dev#4"
    run = tag_push(tmp_path, origin, "churn#dev#4", ref=tags)
    got = sorted((m["artifact"], m["stage"], m["from_version"], m["to_version"]) for m in run.moves)
    assert got == [
        ("churn", "dev", "v1.0.0", "v1.1.0"),
        ("churn", "staging", None, "v1.1.0"),
        ("fraud", "staging", None, "v0.1.0"),
    ]


def test_repushing_an_assignment_moves_nothing(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#prod#3", "churn@v1.1.0", T0 + 400)  # prod already holds v1.1.0
    run = tag_push(tmp_path, origin, "churn#prod#3")
    assert run.moves == []
    assert run.outputs["changed"] == "false"


def test_tag_deletion_reports_the_reverse_move(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#prod#3", "churn@v1.0.0", T0 + 400)
    tag_object = git(origin.dev.path, "rev-parse", "refs/tags/churn#prod#3")
    origin.delete_remote_tag("churn#prod#3")
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    payload = {
        "ref": "refs/tags/churn#prod#3",
        "before": tag_object,
        "after": "0" * 40,
        "created": False,
        "deleted": True,
        "head_commit": None,
    }
    run = run_github(tmp_path, ws, "push", payload, "refs/tags/churn#prod#3")
    assert run.code == 0, run.stderr
    [move] = run.moves
    assert (move["stage"], move["to_version"]) == ("prod", "v1.1.0")
    assert move["from_version"] is None  # git no longer has the deleted tag's target


def test_a_non_registry_tag_moves_nothing(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "release-2025.10", "main", T0 + 400)
    run = tag_push(tmp_path, origin, "release-2025.10")
    assert run.code == 0, run.stderr
    assert run.moves == []
    assert run.outputs["event"] == ""
    assert "not a registry tag" in run.summary


def test_a_branch_push_moves_nothing(tmp_path: Path, origin: Origin) -> None:
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    payload = {"ref": "refs/heads/main", "before": "1" * 40, "after": origin.dev.rev()}
    run = run_github(tmp_path, ws, "push", payload, "refs/heads/main", origin.dev.rev())
    assert run.code == 0, run.stderr
    assert run.outputs["changed"] == "false"
    assert run.moves == []


def test_malformed_gitops_yaml_is_an_annotated_error(tmp_path: Path, origin: Origin) -> None:
    c3 = origin.dev.commit(
        files={"gitops.yaml": "environments:\n  prod:\n    stage: prod\n    colour: blue\n"},
        epoch=T0 + 350,
    )
    push_tag(origin, "churn#prod#3", c3, T0 + 400)
    run = tag_push(tmp_path, origin, "churn#prod#3")
    assert run.code == 2
    assert "::error file=gitops.yaml,line=4::" in run.stdout
    assert "colour" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_the_summary_links_tags_and_commits(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#staging#3", "churn@v1.1.0", T0 + 400)
    run = tag_push(tmp_path, origin, "churn#staging#3")
    sha = origin.dev.rev("churn@v1.1.0")
    assert "| Model | Stage | From | To | Change | Tag | By |" in run.summary
    assert f"(https://github.com/acme/models/commit/{sha})" in run.summary
    assert "(https://github.com/acme/models/releases/tag/churn%23staging%233)" in run.summary
    assert "[Run](https://github.com/acme/models/actions/runs/4242)" in run.summary


def test_hostile_names_are_escaped_everywhere(tmp_path: Path, origin: Origin) -> None:
    hostile = "x$(touch_pwned)`id`<img/src=x/onerror=alert(1)>|@admin;%0A&&rm"
    push_tag(origin, hostile, "main", T0 + 400)
    run = tag_push(tmp_path, origin, hostile)
    assert run.code == 0, run.stderr
    assert not (tmp_path / "ws" / "touch_pwned").exists()
    # shown only inside a code span (never HTML), backticks replaced, the pipe escaped
    shown = "`x$(touch_pwned)ˋidˋ<img/src=x/onerror=alert(1)>\\|@admin;%0A&&rm`"
    assert shown in run.summary
    assert run.summary.count("<img") == 1
    for line in run.summary.splitlines():
        if line.startswith("| `x$"):
            assert line.count(" | ") == 4  # the pipe did not add a table cell
    for command in active_commands(run.stdout):
        assert command.startswith(("::group::", "::endgroup::")), command


def test_hostile_pr_title_cannot_issue_workflow_commands(tmp_path: Path, origin: Origin) -> None:
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    payload = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": "fix\n::error::pwned\n::set-output name=x::y",
            "head": {"ref": "feat", "sha": origin.dev.rev(), "repo": {"full_name": "eve/models"}},
            "base": {"ref": "main", "sha": origin.dev.rev(), "repo": {"full_name": "acme/models"}},
        },
    }
    run = run_github(tmp_path, ws, "pull_request", payload, "refs/pull/7/merge", origin.dev.rev())
    assert run.code == 0, run.stderr
    assert "pwned" in run.stdout  # it is logged ...
    for command in active_commands(run.stdout):
        assert "pwned" not in command and "set-output" not in command, command


def test_the_token_never_appears(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#staging#3", "churn@v1.1.0", T0 + 400)
    run = tag_push(tmp_path, origin, "churn#staging#3")
    assert run.code == 0
    assert TOKEN not in run.everything()


def test_token_in_a_failing_fetch_url_is_redacted(tmp_path: Path, origin: Origin) -> None:
    push_tag(origin, "churn#staging#3", "churn@v1.1.0", T0 + 400)
    ws = checkout_like_github(origin, tmp_path / "ws", "churn#staging#3")
    git(ws, "remote", "set-url", "origin", f"http://x-access-token:{TOKEN}@127.0.0.1:9/r.git")
    payload = {"ref": "refs/tags/churn#staging#3", "deleted": False}
    run = run_github(tmp_path, ws, "push", payload, "refs/tags/churn#staging#3")
    assert run.code == 1
    assert "fetch-depth: 0" in run.stdout  # says which checkout setting to add
    assert TOKEN not in run.everything()
    assert "Traceback" not in run.stderr
