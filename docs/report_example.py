"""The README's report example, made for real: a small model repository with a registry, DVC
files and gates, and ``gitops report`` on it. ``tests/test_docs_report_example.py`` checks that
the README shows exactly what this prints, so the example never drifts from the product.

    python docs/report_example.py            # print the Markdown
    python docs/report_example.py --update   # rewrite the README's example
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- report-example:start -->", "<!-- report-example:end -->"
GITOPS_YAML = """\
reports:
  gates:
    eval.accuracy: {min: 0.85, max_drop: 1%}
    "*latency*": {max: 120}
  history: 10
"""
DVC_YAML = """\
metrics: [metrics.json]
params: [params.yaml]
stages:
  train:
    cmd: python train.py
    params: [train.lr, train.epochs]
"""
VERSIONS = [  # version, accuracy, f1, loss, latency_ms.p95, lr
    ("v1.0.0", 0.861, 0.802, 0.412, 96.0, 0.01),
    ("v1.1.0", 0.874, 0.815, 0.377, 101.5, 0.01),
    ("v1.2.0", 0.889, 0.829, 0.351, 99.2, 0.005),
    ("v1.3.0", 0.902, 0.846, 0.332, 108.7, 0.003),
]


def _git(repo: Path, *args: str, when: int = 0) -> str:
    stamp = f"{1_767_000_000 + when} +0000"
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp,
           "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}  # fmt: skip
    done = subprocess.run(["git", "-C", str(repo), *args], env=env, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout.strip()


def build(repo: Path) -> None:
    """churn v1.0.0 .. v1.3.0, each trained and registered; prod held v1.0.0 .. v1.2.0."""
    _git(repo.parent, "init", "-q", "-b", "main", str(repo))
    (repo / "gitops.yaml").write_text(GITOPS_YAML)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "artifacts.yaml").write_text("churn:\n  type: model\n  path: models/churn.pkl\n")
    (repo / "models").mkdir()
    for i, (version, acc, f1, loss, p95, lr) in enumerate(VERSIONS):
        metrics = {
            "eval": {"accuracy": acc, "f1": f1, "loss": loss},
            "latency_ms": {"p95": p95},
            "train": {"epochs": 20, "samples": 48210},
        }
        (repo / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        (repo / "params.yaml").write_text(f"train:\n  lr: {lr}\n  epochs: 20\n")
        (repo / "models" / "churn.pkl").write_text(f"weights {version}\n")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", f"Train churn {version}", when=i * 1000)
        _git(repo, "tag", "-a", f"churn@{version}", "-m", f"Registering churn {version}",
             when=i * 1000 + 10)  # fmt: skip
        if version != "v1.3.0":
            _git(repo, "tag", "-a", f"churn#prod#{i + 1}", "-m", f"Promoting churn {version}",
                 when=i * 1000 + 20)  # fmt: skip


def example() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "models"
        build(repo)
        done = subprocess.run(
            [sys.executable, "-m", "gitops", "report", "churn@v1.3.0", "--stage", "prod",
             "--format", "md", "-r", str(repo)],
            capture_output=True, text=True, check=False, cwd=ROOT,
        )  # fmt: skip
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        return done.stdout


def readme_block(markdown: str) -> str:
    return f"{START}\n\n{markdown.rstrip()}\n\n{END}"


def main() -> None:
    text = example()
    if "--update" not in sys.argv:
        sys.stdout.write(text)
        return
    readme = ROOT / "README.md"
    current = readme.read_text(encoding="utf-8")
    before, _, rest = current.partition(START)
    _, _, after = rest.partition(END)
    readme.write_text(before + readme_block(text) + after, encoding="utf-8")


if __name__ == "__main__":
    main()
