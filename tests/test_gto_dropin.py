"""A CI script written for `gto`, run once with GTO 1.10.1 and once with `gitops` put in its
place (a `gto` on PATH that runs gitops): the same output, byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gitutil import Repo

GTO = Path(sys.executable).parent / "gto"
T0 = 1_760_000_000

SCRIPT = r"""set -eu
tag="$1"
name=$(gto check-ref "$tag" --name)
stage=$(gto check-ref "$tag" --stage)
event=$(gto check-ref "$tag" --event)
version=$(gto show "$name#$stage" --version)
ref=$(gto show "$name#$stage" --ref)
echo "event=$event name=$name stage=$stage version=$version ref=$ref"
echo "greatest=$(gto show "$name@greatest" --version)"
gto check-ref "$tag"
gto history "$name" --plain
gto show --plain
gto show "$name"
gto stages
gto show --name
"""


def registry(path: Path) -> Repo:
    repo = Repo(path)
    for i in range(3):
        sha = repo.commit(epoch=T0 + 100 * i)
        repo.tag(f"churn@v1.{i}.0", sha, epoch=T0 + 100 * i + 10)
    repo.tag("churn#staging#4", repo.rev("churn@v1.2.0"), epoch=T0 + 400)
    repo.tag("churn#prod#5", repo.rev("churn@v1.1.0"), epoch=T0 + 410)
    sha = repo.commit(epoch=T0 + 500)
    repo.tag("fraud@v0.1.0", sha, epoch=T0 + 510)
    repo.tag("fraud#prod#1", sha, epoch=T0 + 520)
    return repo


def run_script(repo: Path, bindir: Path, tag: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    env.pop("COLUMNS", None)
    return subprocess.run(["sh", "-c", SCRIPT, "script", tag], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_a_gto_script_prints_the_same_with_gitops_in_its_place(tmp_path: Path) -> None:
    repo = registry(tmp_path / "repo")
    real, ours = tmp_path / "real", tmp_path / "ours"
    real.mkdir()
    ours.mkdir()
    (real / "gto").symlink_to(GTO)
    shim = ours / "gto"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gitops "$@"\n')
    shim.chmod(0o755)
    for tag in ("churn#prod#5", "fraud#prod#1"):
        theirs = run_script(repo.path, real, tag)
        mine = run_script(repo.path, ours, tag)
        assert theirs.returncode == 0, theirs.stderr
        assert (mine.returncode, mine.stdout) == (0, theirs.stdout), mine.stderr
    assert "event=assignment name=fraud stage=prod version=v0.1.0 ref=fraud@v0.1.0" in mine.stdout
