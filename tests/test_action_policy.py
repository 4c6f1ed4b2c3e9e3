"""A hand-pushed stage tag is checked against its stage's policy before anything deploys: a
refused move leaves its environments as they are, the run fails saying which rule and how to
meet it, and nothing is deleted; an allowed one deploys as before."""

from __future__ import annotations

import json
from pathlib import Path

from cienv import Origin
from gitutil import git
from test_action_github import tag_push

T0 = 1_760_000_000


def _origin(tmp_path: Path, policy: str) -> Origin:
    o = Origin(tmp_path)
    local = f"{{driver: local, dir: {json.dumps(str(tmp_path / 'deployed'))}}}"
    config = (
        "state: {forge_records: false, store: file}\n"
        "environments:\n"
        f"  staging: {{stage: staging, deploy: {local}, allow_unknown_stage: true}}\n"
        f"  prod: {{stage: prod, deploy: {local}}}\n"
        f"policies:\n  prod:\n{policy}"
    )
    sha = o.dev.commit(files={"gitops.yaml": config, "model.pkl": "w1"}, epoch=T0)
    o.dev.tag("churn@v1.0.0", sha, epoch=T0 + 10)
    return o


def test_a_refused_tag_deploys_nothing_and_says_why(tmp_path: Path) -> None:
    o = _origin(tmp_path, "    approvals: 1\n")
    o.dev.tag("churn#prod#1", o.dev.rev("churn@v1.0.0"), epoch=T0 + 20,
              tagger=("Mallory", "m@example.com"))  # fmt: skip
    o.publish()
    run = tag_push(tmp_path, o, "churn#prod#1")
    assert run.code == 1
    assert "churn#prod#1 is not deployed: policy approvals" in run.stdout
    assert "gitops promote churn v1.0.0 prod" in run.outputs["error"]
    assert not (tmp_path / "deployed" / "prod").exists()
    assert run.outputs["deployments"] == "[]"
    assert git(o.bare, "tag", "--list", "churn#prod#1") == "churn#prod#1"  # nothing deleted


def test_an_allowed_tag_deploys(tmp_path: Path) -> None:
    o = _origin(tmp_path, "    actors: [Ops]\n")
    o.dev.tag("churn#prod#1", o.dev.rev("churn@v1.0.0"), epoch=T0 + 20,
              tagger=("Ops", "ops@example.com"))  # fmt: skip
    o.publish()
    run = tag_push(tmp_path, o, "churn#prod#1")
    assert run.code == 0, run.stdout + run.stderr
    assert "policies: every stage move is allowed" in run.stdout
    assert (tmp_path / "deployed" / "prod" / "churn" / "model.pkl").read_text() == "w1"


def test_only_the_refused_stage_is_held(tmp_path: Path) -> None:
    """Two tags in one event: staging has no policy and deploys; prod's is refused."""
    o = _origin(tmp_path, "    after: [staging]\n")
    sha = o.dev.rev("churn@v1.0.0")
    o.dev.tag("churn#staging#1", sha, epoch=T0 + 20)
    o.dev.tag("churn#prod#2", sha, epoch=T0 + 21)
    o.publish()
    run = tag_push(tmp_path, o, "churn#prod#2", ref="churn#staging#1 churn#prod#2")
    assert run.code == 1
    assert "in staging (stage staging): v1.0.0 has not run there" in run.outputs["error"]
    assert (tmp_path / "deployed" / "staging" / "churn" / "model.pkl").exists()
    assert not (tmp_path / "deployed" / "prod").exists()
