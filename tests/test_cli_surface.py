"""The command line explains itself and speaks one JSON: every positional argument has help, and
``plan --json`` and ``apply --json`` have one shape and one format (apply adds the results)."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from deploy_fixtures import command_env, gitops, registry_repo
from gitutil import Repo

from gitops.cli import build_parser
from gitops.jsonout import dumps


def subcommands() -> dict[str, argparse.ArgumentParser]:
    [sub] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_every_positional_of_every_command_has_help() -> None:
    commands = subcommands()
    assert {"register", "assign", "promote", "deprecate", "plan", "apply"} <= set(commands)
    missing = [
        f"{name} {action.dest}"
        for name, parser in commands.items()
        for action in parser._actions
        if not action.option_strings and not (action.help and action.help != argparse.SUPPRESS)
    ]
    assert missing == []


def test_deprecate_help_explains_its_positionals(tmp_path: Path) -> None:
    text = gitops(tmp_path, "deprecate", "--help").stdout
    positionals = text.split("positional arguments:", 1)[1].split("options:", 1)[0]
    for name, words in (("name", "deprecate it"), ("version", "deregister"), ("stage", "unassign")):
        [line] = [x for x in positionals.splitlines() if x.strip().startswith(name + " ")]
        assert words in line, line


def test_plan_and_apply_json_share_shape_and_format(tmp_path: Path) -> None:
    log = tmp_path / "log"
    config = {"environments": {"prod": {"stage": "prod", "deploy": command_env(log)}}}
    repo = registry_repo(tmp_path / "r", config)
    plan_text = gitops(repo.path, "plan", "--json").stdout
    apply = gitops(repo.path, "apply", "--dry-run", "--json")
    assert apply.returncode == 0, apply.stderr
    plan, applied = json.loads(plan_text), json.loads(apply.stdout)
    assert list(applied) == [*plan, "results"]
    assert applied["actions"] == plan["actions"] and applied["results"]
    for text in (plan_text, apply.stdout):  # one format: the CLI's (and GTO's) indent of 4
        assert text == dumps(json.loads(text)) + "\n"
    assert apply.stdout.startswith(plan_text.removesuffix("\n}\n"))


def test_no_command_reads_an_option_from_its_prefix(tmp_path: Path) -> None:
    """argparse's prefix matching once read `show churn --version -1` as `--vs -1`: every
    parser refuses an option that is not spelled out."""
    assert all(not parser.allow_abbrev for parser in subcommands().values())
    result = gitops(tmp_path, "show", "churn", "--version", "-1", "--json")
    assert result.returncode == 2  # --version is GTO's flag now, never --vs
    assert "not allowed with argument" in result.stderr or "-1" in result.stderr
    result = gitops(tmp_path, "history", "--asce")
    assert result.returncode == 2 and "unrecognized arguments: --asce" in result.stderr
    result = gitops(tmp_path, "show", "--versions-per", "2")
    assert result.returncode == 2 and "unrecognized arguments: --versions-per" in result.stderr


def test_doctor_says_the_settings_and_the_problems(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    Repo(repo).commit()
    (repo / ".gto").write_text("types: [model]\nstages: [staging, prod]\n")
    done = gitops(repo, "doctor")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "types=['model']" in lines and "stages=['staging', 'prod']" in lines
    assert lines[-1] == "✅  No issues found"
    (repo / ".gto").write_text("stages: [staging, prod\n")
    broken = gitops(repo, "doctor")
    assert broken.returncode == 2 and "error: .gto:2: invalid YAML" in broken.stderr


def test_verbose_says_how_long_on_stderr_only(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    Repo(repo).commit()
    quiet = gitops(repo, "stages", "--json")
    loud = subprocess.run([sys.executable, "-m", "gitops", "-v", "stages", "--json", "-r",
                           str(repo)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert loud.stdout == quiet.stdout
    assert re.fullmatch(r"debug: gitops stages took \d+\.\d{3} s\n", loud.stderr)
