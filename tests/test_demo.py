"""``gitops demo``: builds its sample registry in a temp dir and shows it (README quick start).

The demo pins every date, so its output is fully known: two models moving through dev, staging
and prod (``churn``'s prod falls back after an unassignment) and one deprecated model.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from gto.cli import app as gto_app

GITOPS = str(Path(sys.executable).parent / "gitops")  # the installed entry point


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GITOPS, *args], capture_output=True, text=True, timeout=60)


def sections(output: str) -> dict[str, list[str]]:
    """``== Title ==`` blocks of the demo output -> their non-empty lines."""
    found: dict[str, list[str]] = {}
    title = "intro"
    for line in output.splitlines():
        m = re.fullmatch(r"== (.+) ==", line)
        if m:
            title = m[1]
            found[title] = []
        elif line.strip():
            found.setdefault(title, []).append(line.rstrip())
    return found


@pytest.fixture(scope="module")
def demo() -> subprocess.CompletedProcess[str]:
    return run("demo")


def test_demo_runs_cleanly(demo: subprocess.CompletedProcess[str]) -> None:
    assert demo.returncode == 0, demo.stderr
    assert demo.stderr == ""


def test_demo_removes_its_temp_repository(demo: subprocess.CompletedProcess[str]) -> None:
    m = re.match(r"Sample registry built in (\S+)", demo.stdout)
    assert m is not None
    assert m[1].endswith("/registry")
    assert not Path(m[1]).parent.exists()  # the registry and the deployments dir beside it


def test_demo_registry_state(demo: subprocess.CompletedProcess[str]) -> None:
    """Stage columns come from the sample's .gto; the deprecated model is not listed."""
    assert sections(demo.stdout)["Registry state (gitops show)"] == [
        "name   latest  #dev    #staging  #prod",
        "-----  ------  ------  --------  ------",
        "churn  v1.1.1  v1.1.1  v1.1.0    v1.0.0",
        "fraud  v0.1.0  -       v0.1.0    -",
    ]


def test_demo_versions_of_churn(demo: subprocess.CompletedProcess[str]) -> None:
    lines = sections(demo.stdout)["Versions of churn (gitops show churn)"]
    assert lines[0].split() == ["artifact", "version", "stage", "created_at", "ref"]
    assert [line.split() for line in lines[2:]] == [
        ["churn", "v1.1.1", "dev", "2026-01-01T03:26:00+00:00", "churn@v1.1.1"],
        ["churn", "v1.1.0", "staging", "2026-01-01T03:23:00+00:00", "churn@v1.1.0"],
        ["churn", "v1.0.0", "prod", "2026-01-01T03:20:00+00:00", "churn@v1.0.0"],
    ]


def test_demo_explains_the_unassignment(demo: subprocess.CompletedProcess[str]) -> None:
    assert sections(demo.stdout)["What a tag means (gitops check-ref 'churn#prod!#6')"] == [
        'Stage "prod" was unassigned from version "v1.1.0" of artifact "churn"',
        "  -> prod fell back to the version assigned before v1.1.0",
    ]


def test_demo_history_is_newest_first(demo: subprocess.CompletedProcess[str]) -> None:
    lines = sections(demo.stdout)["History (gitops history)"]
    rows = [line.split() for line in lines[2:]]
    assert [(r[1], r[2], r[-1]) for r in rows] == [
        ("legacy-scorer", "deprecation", "legacy-scorer@deprecated"),
        ("legacy-scorer", "registration", "legacy-scorer@v0.9.0"),
        ("fraud", "assignment", "fraud#staging#1"),
        ("fraud", "registration", "fraud@v0.1.0"),
        ("churn", "unassignment", "churn#prod!#6"),
        ("churn", "assignment", "churn#dev#5"),
        ("churn", "registration", "churn@v1.1.1"),
        ("churn", "assignment", "churn#prod#4"),
        ("churn", "assignment", "churn#staging#3"),
        ("churn", "registration", "churn@v1.1.0"),
        ("churn", "assignment", "churn#prod#2"),
        ("churn", "assignment", "churn#staging#1"),
        ("churn", "registration", "churn@v1.0.0"),
    ]
    assert rows[0][0] == "2026-01-01T03:31:00+00:00"
    assert rows[-1][0] == "2026-01-01T03:20:00+00:00"
    commit = {r[-1]: r[-2] for r in rows}
    # both first registrations are on the first training commit; the deprecation follows it
    assert commit["churn@v1.0.0"] == commit["legacy-scorer@v0.9.0"]
    assert commit["legacy-scorer@deprecated"] == commit["legacy-scorer@v0.9.0"]
    assert commit["churn@v1.1.0"] == commit["fraud@v0.1.0"] != commit["churn@v1.0.0"]


def test_demo_deploy_loop_moves_rolls_back_and_ends_in_sync(
    demo: subprocess.CompletedProcess[str],
) -> None:
    """The deploy half: each pushed tag is a stage move; the broken v1.2.0 is rolled back in
    staging and held back from prod; an edited model file is drift, and is put right."""
    moves = [line for line in demo.stdout.splitlines() if line.startswith("churn prod: ")]
    assert moves == [
        "churn prod: v1.0.0 -> v1.1.0",
        "churn prod: v1.1.0 -> v1.2.0",
        "churn prod: v1.2.0 -> v1.1.0",
    ]
    rolled_back = [line.split() for line in demo.stdout.splitlines() if "rolled-back" in line]
    assert [r[:5] for r in rolled_back] == [["staging", "churn", "rolled-back", "v1.1.0", "v1.2.0"]]
    assert "rolled back to v1.1.0: v1.2.0 failed" in demo.stdout
    waiting = [line.split(None, 6) for line in demo.stdout.splitlines() if " waiting " in line]
    assert [w[:5] for w in waiting] == [["prod", "churn", "waiting", "v1.1.0", "v1.2.0"]]
    assert waiting[0][6] == "waits for staging: v1.2.0 failed there and was rolled back"
    drift = [line.split(None, 6) for line in demo.stdout.splitlines() if "drift:" in line]
    assert drift == [
        ["*", "prod", "churn", "redeploy", "v1.1.0", "v1.1.0",
         "drift: modified (changed: models/churn.pkl)"],
    ]  # fmt: skip
    assert demo.stdout.rstrip().endswith(
        "Everything is in sync (4 artifact(s) in their environments)."
    )


def test_demo_reports_each_move_against_what_the_stage_held(
    demo: subprocess.CompletedProcess[str],
) -> None:
    """The metric report of a good move passes its gate; the broken v1.2.0's fails it."""
    out = demo.stdout
    assert "churn v1.1.0 in prod (was v1.0.0)" in out
    good = out.split("churn v1.1.0 in prod (was v1.0.0)")[1].split("== ")[0]
    assert "gates: pass (1)" in good
    rows = [line.split() for line in good.splitlines() if line.startswith("metrics.json  eval.")]
    assert rows[0][:5] == ["metrics.json", "eval.accuracy", "0.861", "0.874", "+0.013"]
    bad = out.split("churn v1.2.0 in staging (was v1.1.0)")[1].split("== ")[0]
    assert "gates: FAIL, 1 of 1" in bad and "eval.accuracy 0.812 < min 0.85" in bad


def test_demo_keep_leaves_a_registry_gto_reads_the_same() -> None:
    result = run("demo", "--keep")
    assert result.returncode == 0, result.stderr
    m = re.match(r"Sample registry built in (\S+)", result.stdout)
    assert m is not None
    repo = Path(m[1])
    try:
        assert f"Kept: try `gitops show -r {repo}`" in result.stdout
        shown = run("show", "-d", "--json", "-r", str(repo))
        assert shown.returncode == 0, shown.stderr
        assert json.loads(shown.stdout) == {
            "churn": {  # after the deploy loop: v1.2.0 registered, left prod, v1.1.0 is back
                "version": "v1.2.0",
                "stage": {"dev": "v1.1.1", "staging": "v1.1.0", "prod": "v1.1.0"},
                "registered": True,
                "active": True,
            },
            "fraud": {
                "version": "v0.1.0",
                "stage": {"dev": None, "staging": "v0.1.0", "prod": None},
                "registered": True,
                "active": True,
            },
            "legacy-scorer": {
                "version": "v0.9.0",
                "stage": {"dev": None, "staging": None, "prod": None},
                "registered": True,
                "active": False,
            },
        }
        theirs = CliRunner().invoke(gto_app, ["show", "-d", "--json", "-r", str(repo)])
        assert theirs.exit_code == 0, theirs.output
        assert theirs.stdout == shown.stdout
    finally:
        shutil.rmtree(repo.parent, ignore_errors=True)
