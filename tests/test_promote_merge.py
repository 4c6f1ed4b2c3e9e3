"""The merge half of a promotion on real repositories: which requests a push brought in, and
which still need their stage tag (a re-run or a second, racing merge needs none)."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitutil import Repo, git

from gitops.promote.merge import pending, requests_in_push
from gitops.promote.request import PromotionRequest
from gitops.registry.reader import load_registry
from gitops.yamlfile import YamlFileError

T = 1_767_225_600


def _request(r: Repo, version: str, stage: str = "prod") -> PromotionRequest:
    return PromotionRequest("churn", version, stage, r.rev(f"churn@{version}"), "alice", "why",
                            "2026-01-01T00:00:00Z")  # fmt: skip


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    r = Repo(tmp_path / "r")
    for i, v in enumerate(["v1.0.0", "v1.1.0"]):
        r.commit(files={"m.pkl": v}, epoch=T + i * 10)
        r.tag(f"churn@{v}", epoch=T + i * 10 + 1)
    r.tag("churn#prod#1", ref=r.rev("churn@v1.0.0"), epoch=T + 100)
    return r


def test_a_merge_brings_in_the_requests_it_adds_or_changes(repo: Repo) -> None:
    before = repo.rev()
    first = _request(repo, "v1.1.0")
    other = _request(repo, "v1.0.0", "staging")
    git(repo.path, "checkout", "-q", "-b", "promote")
    repo.commit(files={first.path: first.to_yaml(), other.path: other.to_yaml()}, epoch=T + 200)
    git(repo.path, "checkout", "-q", "main")
    git(repo.path, "merge", "-q", "--no-ff", "-m", "Merge", "promote")
    after = repo.rev()
    assert sorted(requests_in_push(repo.path, before, after), key=str) == sorted(
        [first, other], key=str
    )
    assert requests_in_push(repo.path, after, after) == []  # nothing new: a re-run sees none
    assert len(requests_in_push(repo.path, "0" * 40, after)) == 2  # a new branch: all of them


def test_what_each_request_still_needs(repo: Repo) -> None:
    wanted = _request(repo, "v1.1.0")
    done = _request(repo, "v1.0.0")
    unknown = PromotionRequest("churn", "v9.0.0", "prod", "a" * 40, "x", "", "2026-01-01T00:00:00Z")
    moved = PromotionRequest(
        "churn", "v1.1.0", "staging", "b" * 40, "x", "", "2026-01-01T00:00:00Z"
    )
    states = [p.state for p in pending(load_registry(repo.path), [wanted, done, unknown, moved])]
    assert states == ["to-tag", "done", "unknown-version", "moved"]
    repo.tag("churn#prod#2", ref=wanted.commit, epoch=T + 300)  # the other merge won the race
    assert pending(load_registry(repo.path), [wanted])[0].state == "done"


def test_a_broken_request_names_its_file_and_line(repo: Repo) -> None:
    before = repo.rev()
    repo.commit(files={".gitops/promotions/prod/churn.yaml": "artifact: churn\nversion: 3\n"})
    with pytest.raises(YamlFileError) as info:
        requests_in_push(repo.path, before, repo.rev())
    assert info.value.file == ".gitops/promotions/prod/churn.yaml" and info.value.line == 2
