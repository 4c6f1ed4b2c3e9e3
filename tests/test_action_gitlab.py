"""The action as a GitLab tag pipeline runs it: CI_* variables, a dotenv report, sections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cienv import TOKEN, Origin, checkout_like_gitlab, run_gitlab
from gitutil import git

T0 = 1_760_000_000


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    o = Origin(tmp_path)
    d = o.dev
    c1 = d.commit(epoch=T0)
    d.tag("models=churn@v1.0.0", c1, epoch=T0 + 10)
    c2 = d.commit(epoch=T0 + 100)
    d.tag("models=churn@v1.1.0", c2, epoch=T0 + 110)
    d.tag("models=churn#prod#1", c1, epoch=T0 + 200)
    d.tag("models=churn#prod#2", c2, epoch=T0 + 300, tagger=("Dana", "dana@x"))
    o.publish()
    return o


def tag_pipeline(tmp: Path, o: Origin, tag: str, **inputs: str):
    ws = checkout_like_gitlab(o, tmp / "ws", tag)
    variables = {
        "CI_PIPELINE_SOURCE": "push",
        "CI_COMMIT_TAG": tag,
        "CI_COMMIT_REF_NAME": tag,
        "CI_COMMIT_SHA": o.dev.rev(tag),
        "CI_COMMIT_BEFORE_SHA": "0" * 40,
    }
    return run_gitlab(tmp, ws, variables, inputs)


def test_tag_pipeline_writes_a_dotenv_report(tmp_path: Path, origin: Origin) -> None:
    run = tag_pipeline(tmp_path, origin, "models=churn#prod#2")
    assert run.code == 0, run.stderr
    assert run.outputs["GITOPS_EVENT"] == "assignment"
    assert run.outputs["GITOPS_NAME"] == "models:churn"
    assert run.outputs["GITOPS_VERSION"] == "v1.1.0"
    assert run.outputs["GITOPS_STAGE"] == "prod"
    assert run.outputs["GITOPS_CHANGED"] == "true"
    [move] = json.loads(run.outputs["GITOPS_MOVES"])
    assert (move["artifact"], move["from_version"], move["to_version"], move["actor"]) == (
        "models:churn",
        "v1.0.0",
        "v1.1.0",
        "Dana",
    )
    dotenv = (tmp_path / "ws" / "gitops.env").read_text()
    for line in dotenv.splitlines():  # GitLab's dotenv rules: KEY=value, one line, no blanks
        key, sep, _ = line.partition("=")
        assert sep and key.isidentifier() and key.isupper()
    full = json.loads((tmp_path / "ws" / "gitops.json").read_text())
    assert full["moves"] == run.outputs["GITOPS_MOVES"]


def test_only_the_pipeline_tag_was_fetched_the_rest_is_fetched(
    tmp_path: Path, origin: Origin
) -> None:
    run = tag_pipeline(tmp_path, origin, "models=churn#prod#2")
    assert "fetched tags from origin: 4 tags (+3)" in run.stdout
    tags = git(tmp_path / "ws", "tag", "--list").split()
    assert len(tags) == 4


def test_log_uses_collapsible_sections(tmp_path: Path, origin: Origin) -> None:
    run = tag_pipeline(tmp_path, origin, "models=churn#prod#2")
    assert "section_start:" in run.stdout and "[collapsed=true]" in run.stdout
    assert run.stdout.count("section_start:") == run.stdout.count("section_end:")
    assert "models:churn prod: v1.0.0 -> v1.1.0" in run.stdout


def test_summary_links_use_gitlab_urls(tmp_path: Path, origin: Origin) -> None:
    run = tag_pipeline(tmp_path, origin, "models=churn#prod#2")
    sha = origin.dev.rev("models=churn@v1.1.0")
    assert f"https://gitlab.example.com/acme/models/-/commit/{sha}" in run.summary
    assert "https://gitlab.example.com/acme/models/-/tags/models%3Dchurn%23prod%232" in run.summary


def test_job_token_is_never_written(tmp_path: Path, origin: Origin) -> None:
    run = tag_pipeline(tmp_path, origin, "models=churn#prod#2")
    assert TOKEN not in run.everything()


def test_malformed_config_names_file_and_line(tmp_path: Path, origin: Origin) -> None:
    c3 = origin.dev.commit(files={"ops/gitops.yaml": "environments: [prod\n"}, epoch=T0 + 400)
    origin.dev.tag("models=churn#prod#3", c3, epoch=T0 + 500)
    origin.publish()
    run = tag_pipeline(tmp_path, origin, "models=churn#prod#3", config="ops/gitops.yaml")
    assert run.code == 2
    assert "ops/gitops.yaml:2:" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_too_long_values_leave_the_dotenv_for_the_json_file(tmp_path: Path, origin: Origin) -> None:
    d = origin.dev
    tags = []
    for i in range(60):  # 60 stage moves: the moves JSON is far over GitLab's 5 KB
        tag = f"models=churn#stage-{i:02d}#{10 + i}"
        d.tag(tag, d.rev("models=churn@v1.1.0"), epoch=T0 + 1000 + i)
        tags.append(tag)
    origin.publish()
    run = tag_pipeline(tmp_path, origin, tags[-1], ref=" ".join(tags))
    assert run.code == 0, run.stderr
    assert "GITOPS_MOVES" not in run.outputs
    assert run.outputs["GITOPS_CHANGED"] == "true"
    assert len((tmp_path / "ws" / "gitops.env").read_bytes()) <= 5 * 1024
    full = json.loads((tmp_path / "ws" / "gitops.json").read_text())
    assert len(json.loads(full["moves"])) == 60
    assert "GITOPS_MOVES is too long" in run.stdout
