"""A registry repo with a gitops.yaml, and real deploy scripts, for the deploy tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml
from gitutil import Repo

T0 = 1_760_000_000
ROOT = Path(__file__).resolve().parent.parent

DEPLOY_SCRIPT = """\
#!/usr/bin/env python3
# A real deploy command: records what it was asked to do, fails on request.
import json, os, sys, time
log = os.environ["DEPLOY_LOG"]
facts = {k: v for k, v in os.environ.items() if k.startswith("GITOPS_")}
with open(log, "a") as f:
    f.write(json.dumps(facts) + "\\n")
bad = os.environ.get("FAIL_VERSION", "")
if bad and os.environ["GITOPS_VERSION"] == bad:
    print("cannot deploy", bad)
    sys.exit(3)
if os.environ.get("SLEEP_VERSION") == os.environ["GITOPS_VERSION"]:
    time.sleep(30)
print("deployed", os.environ["GITOPS_ARTIFACT"], os.environ["GITOPS_VERSION"])
"""


def registry_repo(path: Path, config: dict, scripts: bool = True) -> Repo:
    """churn v1.0.0 and v1.1.0, fraud v0.1.0; staging=churn v1.1.0; prod=churn v1.0.0, fraud."""
    repo = Repo(path)
    files = {
        "artifacts.yaml": textwrap.dedent(
            """\
            churn: {type: model, path: models/churn.pkl}
            fraud: {type: model, path: models/fraud.onnx}
            features: {type: dataset, path: data/features.csv}
            """
        ),
        "models/churn.pkl": "churn-1\n",
        "models/fraud.onnx": "fraud-1\n",
        "gitops.yaml": yaml.safe_dump(config, sort_keys=False),
        ".gitignore": ".gitops/\n",
    }
    if scripts:
        files["deploy.py"] = DEPLOY_SCRIPT
    c1 = repo.commit(files=files, epoch=T0)
    if scripts:
        os.chmod(path / "deploy.py", 0o755)
    repo.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    repo.tag("fraud@v0.1.0", c1, epoch=T0 + 11)
    repo.tag("features@v1.0.0", c1, epoch=T0 + 12)
    c2 = repo.commit(files={"models/churn.pkl": "churn-2\n"}, epoch=T0 + 100)
    repo.tag("churn@v1.1.0", c2, epoch=T0 + 110)
    repo.tag("churn#staging#1", c2, epoch=T0 + 200)
    repo.tag("churn#prod#2", c1, epoch=T0 + 300)
    repo.tag("fraud#prod#1", c1, epoch=T0 + 301)
    repo.tag("features#prod#1", c1, epoch=T0 + 302)
    return repo


def command_env(log: Path, **extra: str) -> dict:
    return {
        "driver": "command",
        "run": [sys.executable, "deploy.py"],
        "env": {"DEPLOY_LOG": str(log), **extra},
    }


def read_log(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def gitops(
    repo: Path, *args: str, env: dict | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """The CLI as a real process (the way users and CI run it)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI"))}
    return subprocess.run(
        [sys.executable, "-m", "gitops", *args, "-r", str(repo)],
        capture_output=True,
        text=True,
        env={**full, **(env or {})},
        timeout=timeout,
        cwd=ROOT,
    )
