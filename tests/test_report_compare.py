"""What a report compares: refs, versions, a candidate against a stage, a stage move, a stage's
history, the artifacts a PR touches and the merge base of a shallow PR clone (real repos)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops.ci.context import Context, EventKind, Platform
from gitops.errors import GitopsError, UsageError
from gitops.registry.moves import compute_changes
from gitops.registry.reader import RegistrySource, load_registry
from gitops.report import compare
from tests.gitutil import Repo, git

T = 1_700_000_000


def _registry(tmp_path: Path) -> tuple[Repo, dict[str, str]]:
    """churn v1.0.0..v1.3.0, staging held 1.0, 1.1, 1.1 again, 1.2, then 1.3; prod 1.1."""
    repo = Repo(tmp_path / "r")
    shas = {}
    for i, v in enumerate(["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"]):
        shas[v] = repo.commit(files={"models/churn.pkl": v, "metrics.json": f'{{"acc": 0.{i}}}'},
                              epoch=T + i * 100)  # fmt: skip
        repo.tag(f"churn@{v}", epoch=T + i * 100 + 1)
    steps = [("staging", "v1.0.0"), ("staging", "v1.1.0"), ("prod", "v1.1.0"),
             ("staging", "v1.1.0"), ("staging", "v1.2.0"), ("staging", "v1.3.0")]  # fmt: skip
    for n, (stage, v) in enumerate(steps, start=1):
        repo.tag(f"churn#{stage}#{n}", ref=shas[v], epoch=T + 1000 + n)
    return repo, shas


def test_refs_resolve_to_commits_and_refuse_options_and_unknown_names(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    first = repo.commit()
    second = repo.commit()
    c = compare.refs(repo.path, "HEAD~1", "main")
    assert (c.base.sha, c.head.sha) == (first, second)
    assert (c.base.label, c.head.label) == ("HEAD~1", "main")
    with pytest.raises(UsageError, match="no commit named 'nope'"):
        compare.refs(repo.path, "nope", "HEAD")
    with pytest.raises(UsageError, match="not a revision"):
        compare.refs(repo.path, "--output=/tmp/x", "HEAD")


def test_a_version_is_compared_with_the_version_below_it(tmp_path: Path) -> None:
    repo, shas = _registry(tmp_path)
    registry = load_registry(repo.path)
    c = compare.version(registry, "churn", "v1.2.0")
    assert c.head.sha == shas["v1.2.0"] and c.base.sha == shas["v1.1.0"]
    assert c.base.version == "v1.1.0"
    first = compare.version(registry, "churn", "v1.0.0")
    assert first.base is None and "no registered version before" in first.notes[0]
    with pytest.raises(UsageError, match="no version 'v9'"):
        compare.version(registry, "churn", "v9")


def test_a_candidate_is_compared_with_what_the_stage_holds(tmp_path: Path) -> None:
    repo, shas = _registry(tmp_path)
    registry = load_registry(repo.path)
    c = compare.candidate(registry, "churn", "prod")  # latest: v1.3.0 against prod's v1.1.0
    assert (c.head.version, c.base.version) == ("v1.3.0", "v1.1.0")
    assert c.head.sha == shas["v1.3.0"] and c.base.sha == shas["v1.1.0"]
    c = compare.candidate(registry, "churn", "dev", "v1.2.0")
    assert c.base is None and c.notes == ("first version in dev: dev holds no version of churn",)


def test_stage_history_lists_what_the_stage_held_oldest_first(tmp_path: Path) -> None:
    repo, shas = _registry(tmp_path)
    registry = load_registry(repo.path)
    held = compare.stage_history(registry, "churn", "staging", 10)
    assert [h.version for h in held] == ["v1.0.0", "v1.1.0", "v1.2.0", "v1.3.0"]
    assert held[-1].tag == "churn#staging#6" and held[-1].sha == shas["v1.3.0"]
    assert [h.version for h in compare.stage_history(registry, "churn", "staging", 2)] == [
        "v1.2.0",
        "v1.3.0",
    ]
    assert compare.stage_history(registry, "churn", "staging", 0) == []
    assert compare.stage_history(registry, "nope", "staging", 5) == []


def test_a_stage_move_compares_with_the_version_held_before(tmp_path: Path) -> None:
    repo, shas = _registry(tmp_path)
    repo.tag("churn#prod#7", ref=shas["v1.3.0"], epoch=T + 2000)
    changes = compute_changes(RegistrySource.read(repo.path), ["churn#prod#7"], [])
    (move,) = changes.moves
    c = compare.stage_move(changes.registry, move, lambda ref: f"https://x/{ref}")
    assert c.kind == "stage_move" and (c.artifact, c.stage) == ("churn", "prod")
    assert c.head.sha == shas["v1.3.0"] and c.head.url == "https://x/churn#prod#7"
    assert c.base.sha == shas["v1.1.0"] and c.base.version == "v1.1.0"
    assert c.title == "churn v1.3.0 in prod (was v1.1.0)"


def test_the_first_version_in_a_stage_has_no_base(tmp_path: Path) -> None:
    repo, shas = _registry(tmp_path)
    repo.tag("churn#qa#7", ref=shas["v1.2.0"], epoch=T + 2000)
    changes = compute_changes(RegistrySource.read(repo.path), ["churn#qa#7"], [])
    c = compare.stage_move(changes.registry, changes.moves[0])
    assert c.base is None and c.notes == ("first version in qa",)


def test_touched_artifacts_are_those_with_a_changed_file_under_their_path(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    repo.commit(files={"artifacts.yaml": "churn:\n  type: model\n  path: models/churn\n"
                       "fraud:\n  type: model\n  path: models/fraud.pkl\n",
                       "models/churn/w.bin": "1", "models/fraud.pkl": "1",
                       "models/churnx/other": "1"})  # fmt: skip
    repo.tag("churn@v1.0.0")
    repo.tag("fraud@v1.0.0")
    base = repo.rev()
    repo.commit(files={"models/churn/w.bin": "2", "models/churnx/other": "2"})
    registry = load_registry(repo.path)
    assert compare.touched_artifacts(repo.path, registry, base, repo.rev()) == ["churn"]
    repo.commit(files={"models/fraud.pkl": "2"})
    touched = compare.touched_artifacts(repo.path, registry, base, repo.rev())
    assert sorted(touched) == ["churn", "fraud"]


def _pr_context(workspace: Path, head: str, base_ref: str = "main", **extra: str) -> Context:
    return Context(
        platform=Platform.GITHUB,
        event=EventKind.PULL_REQUEST,
        event_name="pull_request",
        workspace=workspace,
        pr_number=7,
        pr_title="Better model",
        head_ref="feature",
        base_ref=base_ref,
        head_sha=head,
        **extra,
    )


def test_a_pr_is_compared_with_its_merge_base_not_the_target_tip(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    fork_point = repo.commit(files={"metrics.json": '{"acc": 0.5}'})
    git(repo.path, "checkout", "-q", "-b", "feature")
    head = repo.commit(files={"metrics.json": '{"acc": 0.7}'})
    git(repo.path, "checkout", "-q", "main")
    tip = repo.commit(files={"metrics.json": '{"acc": 0.6}'})
    git(repo.path, "update-ref", "refs/remotes/origin/main", tip)
    logged: list[str] = []
    c = compare.pull_request(repo.path, _pr_context(repo.path, head), logged.append)
    assert c.base.sha == fork_point and c.head.sha == head
    assert c.title == "pull request #7: Better model"
    assert logged == []  # nothing fetched: the history was there


def test_a_shallow_pr_clone_fetches_the_merge_base_and_says_so(tmp_path: Path) -> None:
    origin = Repo(tmp_path / "origin")
    fork_point = origin.commit(files={"metrics.json": '{"acc": 0.5}'})
    for _ in range(3):
        origin.commit()
    tip = origin.rev()
    git(origin.path, "checkout", "-q", "-b", "feature", fork_point)
    head = origin.commit(files={"metrics.json": '{"acc": 0.7}'})
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature",
        f"file://{origin.path}", str(clone))  # fmt: skip
    assert git(clone, "rev-parse", "--is-shallow-repository") == "true"
    logged: list[str] = []
    ctx = _pr_context(clone, head, base_sha=tip)
    c = compare.pull_request(clone, ctx, logged.append)
    assert c.base.sha == fork_point
    assert any("the clone is shallow" in line for line in logged)
    assert git(clone, "rev-parse", "--is-shallow-repository") == "false"


def test_no_merge_base_is_a_clear_error_naming_the_fix(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    head = repo.commit()
    git(repo.path, "checkout", "-q", "--orphan", "other")
    other = repo.commit()
    ctx = _pr_context(repo.path, head, base_sha=other)
    with pytest.raises(GitopsError, match="fetch-depth: 0"):
        compare.pull_request(repo.path, ctx, lambda _: None)


def test_gitlab_names_the_merge_base_itself(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "r")
    base = repo.commit()
    head = repo.commit()
    ctx = _pr_context(repo.path, head, diff_base_sha=base)
    c = compare.pull_request(repo.path, ctx, lambda _: None)
    assert c.base.sha == base
