"""A fixed registry for the catalog's tests: three models (one deprecated, one whose name needs
a digest in its file name), metrics at every version, two environments with live state written
by hand (a rollback, a failed deploy, an artifact no longer in the registry), a promotion story
and hostile strings wherever the repository lets a person write text: a description, a metric
name, a tag message with a foreign PR link, a deploy message. Every date is fixed, so what the
catalog makes of it is the same on every run (the golden checks)."""

from __future__ import annotations

import json
from pathlib import Path

from gitutil import Repo, git

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
HOSTILE = "<img src=x onerror=\"document.title='pwned';window.__pwned=1\">"
HOSTILE_METRIC = "<svg onload=window.__pwned=2>"
SCRIPT_BREAK = "</script><script>window.__pwned=3</script>"

ARTIFACTS = f"""\
churn:
  type: model
  path: models/churn.pkl
  description: {json.dumps(f"Churn {HOSTILE} {SCRIPT_BREAK}")}
  labels: [tabular, prod-critical]
fraud:
  type: model
  path: models/fraud.onnx
  description: Fraud scores
Legacy_Scorer:
  type: model
  path: models/legacy.pkl
"""

GITOPS_YAML = """\
environments:
  staging:
    stage: staging
    deploy: {driver: local, dir: .deployments}
  prod:
    stage: prod
    after: [staging]
    deploy: {driver: local, dir: .deployments}
"""


def _metrics(accuracy: float, loss: float, p95: float) -> str:
    return json.dumps(
        {
            "eval": {"accuracy": accuracy, "loss": loss},
            "latency_ms": {"p95": p95},
            HOSTILE_METRIC: 1,
            "train": {"epochs": 20},
        },
        indent=2,
    )


def _deployed(version: str | None, commit: str | None, status: str, at: str, **more: str) -> dict:
    return {"version": version, "commit": commit, "status": status, "at": at, **more}


def make_sample(path: Path) -> Path:
    """The sample repository at ``path``; returns it."""
    repo = Repo(path)
    commits: dict[str, str] = {}
    scores = {"v1.0.0": (0.861, 0.412, 96.0), "v1.1.0": (0.874, 0.377, 101.5),
              "v1.2.0": (0.889, 0.351, 131.0)}  # fmt: skip
    t = T0
    for version, (acc, loss, p95) in scores.items():
        t += 3600
        files = {"artifacts.yaml": ARTIFACTS, "metrics.json": _metrics(acc, loss, p95),
                 "models/churn.pkl": f"churn {version}\n"}  # fmt: skip
        commits[version] = repo.commit(f"train churn {version}", files, epoch=t)
        repo.tag(f"churn@{version}", epoch=t + 60, message=f"Registering churn {version}")
    fraud = repo.commit("fraud", {"models/fraud.onnx": "fraud\n"}, epoch=t + 100)
    repo.tag("fraud@v0.1.0", fraud, epoch=t + 160)
    legacy = repo.commit("legacy", {"models/legacy.pkl": "old\n"}, epoch=t + 200)
    repo.tag("Legacy_Scorer@v0.9.0", legacy, epoch=t + 260)
    repo.tag("Legacy_Scorer@deprecated", legacy, epoch=T0 + 100_000)  # after every commit
    # stage moves, oldest first
    moves = [("churn#staging#1", "v1.0.0"), ("churn#prod#2", "v1.0.0"),
             ("churn#staging#3", "v1.1.0"), ("churn#prod#4", "v1.1.0"),
             ("churn#staging#5", "v1.2.0")]  # fmt: skip
    t += 1000
    for n, (tag, version) in enumerate(moves):
        message = f"Assigning stage {tag.split('#')[1]} to artifact churn version {version}"
        if tag == "churn#prod#4":
            message += (
                f"\n\nPromotion PR: https://evil.example/pr/1 {HOSTILE}\nMerged by: mallory\n"
            )
        repo.tag(tag, commits[version], epoch=t + 600 * n, message=message,
                 tagger=("Mallory O'Brien & \"Co\"", "mallory@example.com"))  # fmt: skip
    repo.tag("fraud#staging#1", fraud, epoch=t + 3600)
    (path / "gitops.yaml").write_text(GITOPS_YAML)
    git(path, "add", "gitops.yaml")
    repo.commit("gitops.yaml", epoch=t + 4000)
    _write_state(path, commits, fraud)
    return path


def _write_state(path: Path, commits: dict[str, str], fraud: str) -> None:
    state = path / ".gitops" / "state"
    state.mkdir(parents=True)
    staging = {
        "schema_version": 1,
        "deployed": {
            "churn": _deployed(
                "v1.1.0",
                commits["v1.1.0"],
                "rolled-back",
                "2026-01-01T06:00:00+00:00",
                attempted="v1.2.0",
                kind="rollback",
                by="ci-bot",
                why="churn#staging#5",
                run_url="https://ci.example/runs/7",
                message=f"health check failed {HOSTILE}",
            ),  # fmt: skip
            "fraud": _deployed(
                "v0.1.0",
                fraud,
                "deployed",
                "2026-01-01T05:00:00+00:00",
                by="ci-bot",
                why="fraud#staging#1",
                run_url="javascript:alert(1)",
            ),  # fmt: skip
        },
        "history": {
            "churn": [
                _deployed(
                    "v1.1.0",
                    commits["v1.1.0"],
                    "deployed",
                    "2026-01-01T04:30:00+00:00",
                    by="ci-bot",
                    why="churn#staging#3",
                ),  # fmt: skip
                _deployed(
                    "v1.0.0",
                    commits["v1.0.0"],
                    "deployed",
                    "2026-01-01T04:00:00+00:00",
                    by="ci-bot",
                    why="churn#staging#1",
                ),  # fmt: skip
            ]
        },
    }
    prod = {
        "schema_version": 1,
        "deployed": {
            "churn": _deployed(
                "v1.1.0",
                commits["v1.1.0"],
                "deployed",
                "2026-01-01T05:30:00+00:00",
                by="alice",
                why="churn#prod#4",
            ),  # fmt: skip
            "retired-model": _deployed("v3.0.0", None, "deployed", "2025-12-01T00:00:00+00:00"),
        },
        "history": {},
    }
    (state / "staging.json").write_text(json.dumps(staging, indent=2))
    (state / "prod.json").write_text(json.dumps(prod, indent=2))
