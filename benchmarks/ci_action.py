"""The action on a tag push, set up as GitHub's runner runs it, for the benchmark.

``origin`` is a bare clone of the benchmark registry; the workspace is a clone of it checked out
at the pushed tag's commit, as ``actions/checkout`` leaves it with ``fetch-depth: 0`` (every tag
already there: the action's fetch from ``origin`` runs and finds nothing new) or with its
defaults (``shallow``: depth 1, no tags, the pushed tag rewritten as a lightweight one: the
action fetches every tag). ``gitops action`` then runs with the variables the runner sets, a push
payload and ``GITHUB_OUTPUT``/``GITHUB_STEP_SUMMARY`` files (as ``tests/cienv.py`` does).
Standard library only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

DUMMY_TOKEN = "ghs_benchmarkTokenNeverSentAnywhere000000"


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:3])} failed in {repo}: {proc.stderr.strip()}")
    return proc.stdout.strip()


class ActionRun:
    """One registry's origin, workspace and environment for ``gitops action`` on ``tag``."""

    def __init__(self, registry: Path, tag: str, shallow: bool = False) -> None:
        self.registry, self.tag, self.shallow = registry, tag, shallow
        self.dir = registry / ".git" / "benchmark-action"  # goes when the registry is rebuilt
        self.origin = self.dir / "origin.git"
        self.workspace = self.dir / ("workspace-shallow" if shallow else "workspace")
        self.output = self.dir / "github_output"
        self.summary = self.dir / "step_summary"
        self.commit = _git(registry, "rev-parse", f"refs/tags/{tag}^{{commit}}")

    def prepare(self) -> None:
        """Origin (once) and the workspace; call ``reset`` before each timed run."""
        if not self.origin.exists():
            tmp = self.dir / f"origin.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            self.dir.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                ["git", "clone", "-q", "--bare", str(self.registry), str(tmp)], check=True
            )
            tmp.rename(self.origin)
        (self.dir / "home").mkdir(parents=True, exist_ok=True)
        if not self.shallow and not self.workspace.exists():
            tmp = self.dir / f"workspace.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            subprocess.run(["git", "clone", "-q", str(self.origin), str(tmp)], check=True)
            _git(tmp, "checkout", "-q", "--detach", self.commit)
            tmp.rename(self.workspace)
        tag_object = _git(self.registry, "rev-parse", f"refs/tags/{self.tag}")
        payload = {
            "ref": f"refs/tags/{self.tag}",
            "before": "0" * 40,
            "after": tag_object,
            "created": True,
            "deleted": False,
            "forced": False,
            "base_ref": None,
            "commits": [],
            "head_commit": {"id": self.commit, "message": "Train run", "distinct": True},
            "repository": {"full_name": "acme/models", "name": "models"},
            "pusher": {"name": "alice"},
        }
        (self.dir / "event.json").write_text(json.dumps(payload))
        self.reset()

    def reset(self) -> None:
        """Empty output files; a shallow workspace is cloned again (the last run completed it)."""
        self.output.write_text("")
        self.summary.write_text("")
        if not self.shallow:
            return
        shutil.rmtree(self.workspace, ignore_errors=True)
        self.workspace.mkdir(parents=True)
        ws = self.workspace
        _git(ws, "init", "-q")
        _git(ws, "remote", "add", "origin", str(self.origin))
        _git(ws, "fetch", "-q", "--no-tags", "--depth=1", "origin",
             f"+{self.commit}:refs/tags/{self.tag}")  # fmt: skip
        _git(ws, "checkout", "-q", "--detach", f"refs/tags/{self.tag}")

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        base = dict(os.environ if base is None else base)
        env = {
            k: v
            for k, v in base.items()
            if not k.startswith(("GITHUB_", "GITLAB", "CI", "INPUT_", "GIT_", "GITOPS_"))
        }
        return env | {
            "HOME": str(self.dir / "home"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_EVENT_PATH": str(self.dir / "event.json"),
            "GITHUB_REF": f"refs/tags/{self.tag}",
            "GITHUB_SHA": self.commit,
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_OUTPUT": str(self.output),
            "GITHUB_STEP_SUMMARY": str(self.summary),
            "GITHUB_REPOSITORY": "acme/models",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "https://api.github.com",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_ACTOR": "alice",
            "INPUT_TOKEN": DUMMY_TOKEN,
            "INPUT_COMMAND": "auto",
        }

    def check(self) -> str | None:
        """What is wrong with the last run's outputs, if anything."""
        text = self.output.read_text()
        if "moves" not in text or "changed" not in text:
            return "no `moves`/`changed` output"
        if "Registry stage moves" not in self.summary.read_text():
            return "no job summary"
        return None
