"""Stage moves computed by comparing the registry without and with the pushed tags."""

from __future__ import annotations

import json

import pytest
from gitutil import Repo

from gitops.cli import main
from gitops.registry.moves import compute_changes
from gitops.registry.reader import RegistrySource

T0 = 1_750_000_000


@pytest.fixture
def registry(repo: Repo) -> Repo:
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    c2 = repo.commit(epoch=T0 + 20)
    repo.tag("churn@v1.1.0", c2, epoch=T0 + 30)
    repo.tag("churn#prod#1", c1, epoch=T0 + 40)
    repo.tag("churn#prod#2", c2, epoch=T0 + 50)
    return repo


def moves(repo: Repo, pushed=(), deleted=()) -> list[tuple]:
    changes = compute_changes(RegistrySource.read(repo.path), pushed, deleted)
    return [(m.artifact, m.stage, m.from_version, m.to_version, m.kind) for m in changes.moves]


def test_deregistering_the_prod_version_falls_back(registry: Repo) -> None:
    registry.tag("churn@v1.1.0!#3", registry.rev("churn@v1.1.0"), epoch=T0 + 60)
    assert moves(registry, ["churn@v1.1.0!#3"]) == [
        ("churn", "prod", "v1.1.0", "v1.0.0", "rollback")
    ]


def test_re_registration_brings_the_stage_back(registry: Repo) -> None:
    registry.tag("churn@v1.1.0!#3", registry.rev("churn@v1.1.0"), epoch=T0 + 60)
    registry.tag("churn@v1.1.0#4", registry.rev("churn@v1.1.0"), epoch=T0 + 70)
    assert moves(registry, ["churn@v1.1.0#4"]) == [("churn", "prod", "v1.0.0", "v1.1.0", "update")]


def test_reactivation_after_deprecation_restores_stages(registry: Repo) -> None:
    registry.tag("churn@deprecated#3", registry.rev(), epoch=T0 + 60)
    registry.tag("churn#prod#4", registry.rev("churn@v1.0.0"), epoch=T0 + 70)
    assert moves(registry, ["churn#prod#4"]) == [("churn", "prod", None, "v1.0.0", "deploy")]


def test_assignment_to_an_unregistered_commit_moves_to_its_sha(registry: Repo) -> None:
    c3 = registry.commit(epoch=T0 + 55)
    registry.tag("churn#dev#3", c3, epoch=T0 + 60)
    assert moves(registry, ["churn#dev#3"]) == [("churn", "dev", None, c3, "deploy")]


def test_later_tags_of_the_same_push_are_judged_together(registry: Repo) -> None:
    registry.tag("churn#prod#3", registry.rev("churn@v1.0.0"), epoch=T0 + 60)
    registry.tag("churn#prod#4", registry.rev("churn@v1.1.0"), epoch=T0 + 61)
    # both in one push: prod went v1.1.0 -> v1.0.0 -> v1.1.0, so nothing moved in the end
    assert moves(registry, ["churn#prod#3", "churn#prod#4"]) == []


def test_deleted_tag_still_known_locally_is_replayed(registry: Repo) -> None:
    assert moves(registry, [], ["churn#prod#2"]) == [
        ("churn", "prod", "v1.1.0", "v1.0.0", "rollback")
    ]


def test_unknown_tags_are_ignored_quietly(registry: Repo) -> None:
    changes = compute_changes(RegistrySource.read(registry.path), ["no-such-tag"])
    assert changes.moves == [] and changes.tags == []


def test_moves_cli_json(registry: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    registry.tag("churn#staging#3", registry.rev("churn@v1.0.0"), epoch=T0 + 60)
    assert main(["moves", "-r", str(registry.path), "churn#staging#3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tags"] == [
        {
            "tag": "churn#staging#3",
            "deleted": False,
            "event": "assignment",
            "artifact": "churn",
            "version": "v1.0.0",
            "stage": "staging",
        }
    ]
    assert [(m["stage"], m["to_version"], m["kind"]) for m in out["moves"]] == [
        ("staging", "v1.0.0", "deploy")
    ]


def test_moves_cli_table(registry: Repo, capsys: pytest.CaptureFixture[str]) -> None:
    registry.tag("churn#prod!#3", registry.rev("churn@v1.1.0"), epoch=T0 + 60)
    assert main(["moves", "-r", str(registry.path), "refs/tags/churn#prod!#3"]) == 0
    out = capsys.readouterr().out
    assert "tag churn#prod!#3: unassignment" in out
    assert "churn prod: v1.1.0 -> v1.0.0 (rollback, tag churn#prod!#3)" in out
