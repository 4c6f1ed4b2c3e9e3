"""Expected errors: a short message on stderr, no traceback, the right exit code.

Exit codes (gitops/errors.py, README): 1 for failures (``GitopsError``), 2 for bad input
(``UsageError``: unknown artifact, invalid name, malformed ``.gto``/``artifacts.yaml`` with file
and line, not a repository). Hostile names (newlines, control characters, shell metacharacters)
must neither break the output nor reach the terminal raw.

Most tests call ``gitops.cli.main`` in-process (fast; an unexpected exception fails the test);
the last section runs the installed ``gitops`` command as a subprocess for one case of every
error kind, so what a user's terminal gets is checked too.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from gitutil import BASE_ENV, Repo

from gitops import cli

GITOPS = str(Path(sys.executable).parent / "gitops")  # the installed entry point
ESC = "\x1b"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def _argv(args: tuple[str, ...], repo: Repo | Path | None) -> list[str]:
    """``-r REPO`` right after the command, so ``--`` and positionals may follow."""
    argv = list(args)
    if repo is not None:
        argv[1:1] = ["-r", str(repo.path if isinstance(repo, Repo) else repo)]
    return argv


def run(*args: str, repo: Repo | Path | None = None) -> Result:
    """``gitops ARGS`` in-process; argparse's exits become exit codes like a real run."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(_argv(args, repo))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


def run_installed(*args: str, repo: Repo | Path | None = None) -> Result:
    """``gitops ARGS`` as a real process of the installed command."""
    proc = subprocess.run(
        [GITOPS, *_argv(args, repo)],
        capture_output=True,
        text=True,
        env={**os.environ, **BASE_ENV},
        timeout=60,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def assert_clean_error(result: Result, code: int, *needles: str, lines: int = 1) -> None:
    """Exit ``code``; stderr is ``error: ...`` on ``lines`` lines, with each needle, and no
    traceback or raw control character; nothing on stdout."""
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.rstrip("\n").splitlines()) == lines, result.stderr
    assert all(ch.isprintable() or ch == "\n" for ch in result.stderr), repr(result.stderr)
    for needle in needles:
        assert needle in result.stderr


# -- where the registry is ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ["show"],
        ["show", "churn"],
        ["history"],
        ["check-ref", "churn@v1.0.0"],
        ["register", "churn"],
        ["assign", "churn", "--stage", "prod"],
        ["deprecate", "churn"],
        ["moves", "churn@v1.0.0"],
    ],
    ids=lambda c: c[0] if len(c) == 1 else "-".join(c[:2]),
)
def test_not_a_git_repository(tmp_path: Path, command: list[str]) -> None:
    assert_clean_error(run(*command, repo=tmp_path), 2, f"{tmp_path} is not a git repository")


def test_repository_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    assert_clean_error(run("show", repo=missing), 2, f"{missing} is not a directory")


def test_empty_repository_reads_as_empty_and_refuses_writes(tmp_path: Path) -> None:
    empty = Repo(tmp_path / "empty")  # no commit yet
    shown = run("show", "--json", repo=empty)
    assert (shown.returncode, json.loads(shown.stdout), shown.stderr) == (0, {}, "")
    assert run("history", repo=empty).stdout == "Nothing found in the current workspace\n"  # GTO
    for write in (["register", "churn"], ["assign", "churn", "--stage", "prod"]):
        assert_clean_error(run(*write, repo=empty), 2, "'HEAD' is not a commit")


# -- unknown names and bad arguments -----------------------------------------------------------


def test_unknown_artifact(repo: Repo) -> None:
    repo.commit()
    repo.tag("churn@v1.0.0")
    assert_clean_error(run("show", "nope", repo=repo), 2, "artifact 'nope' is not in the registry")
    assert_clean_error(run("show", "nope#prod", repo=repo), 2, "'nope'")


@pytest.mark.parametrize("version", ["1.0.0", "v1.0", "v1.0.0.0", "v1.0.0-01"])
def test_invalid_version(repo: Repo, version: str) -> None:
    repo.commit()
    result = run("register", "churn", "--version", version, repo=repo)
    assert_clean_error(result, 2, f"version {version!r} is not valid", "'v1.0.0'")


@pytest.mark.parametrize("stage", ["prod_", "prod!", "pr od", "prod#2", "p.q"])
def test_invalid_stage_name(repo: Repo, stage: str) -> None:
    repo.commit()
    result = run("assign", "churn", f"--stage={stage}", repo=repo)
    assert_clean_error(result, 2, f"invalid stage name {stage!r}")


def test_ref_that_is_not_a_commit(repo: Repo) -> None:
    repo.commit()
    result = run("register", "churn", "no-such-branch", repo=repo)
    assert_clean_error(result, 2, "'no-such-branch' is not a commit in this repository")


def test_refused_write_exits_2_and_says_why(repo: Repo) -> None:
    repo.commit()
    repo.tag("churn@v1.0.0")
    result = run("register", "churn", "--version", "v2.0.0", repo=repo)
    assert_clean_error(result, 2, "already registered on this commit as v1.0.0", "--force")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["assign", "churn"], "the following arguments are required: --stage"),
        (["show", "--sort", "newest"], "invalid choice: 'newest'"),
        (["register", "churn", "--version", "v1.0.0", "--bump-minor"], "not allowed with"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_argument_errors_exit_2_with_usage(args: list[str], needle: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: gitops")
    assert needle in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(("option", "value"), [("--vs", "-5"), ("--av", "-2")])
def test_out_of_range_show_options(repo: Repo, option: str, value: str) -> None:
    repo.commit()
    assert_clean_error(run("show", option, value, repo=repo), 2, f"{option} must be -1")


def test_no_command_prints_help_and_exits_2() -> None:
    result = run()
    assert result.returncode == 2
    assert "usage: gitops" in result.stdout and "register" in result.stdout


# -- malformed .gto, artifacts.yaml and dvc.yaml: file and line ---------------------------------


@pytest.mark.parametrize(
    ("content", "where", "needle"),
    [
        ("stages: [dev, prod]\nfoo: 1\n", ".gto:2", "foo"),
        ("stages: [dev\n", ".gto:2", "invalid YAML"),
        ("stages:\n  - dev\n  - prod_\n", ".gto:", "'prod_'"),
        ("types: [model]\ntypes: [data]\n", ".gto:2", "duplicate key 'types'"),
        ("- stages\n", ".gto:1", "must be a mapping"),
    ],
    ids=["unknown-key", "bad-yaml", "bad-stage", "duplicate-key", "not-a-mapping"],
)
def test_malformed_gto_config(repo: Repo, content: str, where: str, needle: str) -> None:
    repo.commit()
    (repo.path / ".gto").write_text(content)
    for command in (["show"], ["history"], ["register", "churn"]):
        assert_clean_error(run(*command, repo=repo), 2, where, needle)


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        ("churn:\n  type: model\n  labels: [ok, 'bad label']\n", 3, "'bad label'"),
        ("churn:\n  virtual: maybe\n", 2, "churn.virtual"),
        ("churn:\n  path: [\n", 3, "invalid YAML"),
        ('ok:\n  path: a\n"bad\\x1bname":\n  path: b\n', 3, "invalid artifact name 'bad\\x1bname'"),
    ],
    ids=["bad-label", "bad-bool", "bad-yaml", "control-char-name"],
)
def test_malformed_artifacts_yaml(repo: Repo, content: str, line: int, needle: str) -> None:
    """artifacts.yaml is read from commits: the message names the commit, file and line."""
    commit = repo.commit(files={"artifacts.yaml": content})
    result = run("show", repo=repo)
    assert_clean_error(result, 2, f"artifacts.yaml (at commit {commit[:12]}):{line}", needle)


def test_malformed_dvc_yaml_when_writing(repo: Repo) -> None:
    (repo.path / ".gto").write_text("types: [model]\n")
    repo.commit(files={"models/dvc.yaml": "artifacts:\n  net:\n    path: n.pt\n    bogus: 1\n"})
    result = run("register", "models:net", repo=repo)
    assert_clean_error(result, 2, "models/dvc.yaml:4", "bogus")


# -- conflicts and check-ref -------------------------------------------------------------------


def test_conflicted_artifact_is_a_failure_naming_commit_and_tags(repo: Repo) -> None:
    commit = repo.commit()
    repo.tag("churn@v1.0.0")
    repo.tag("churn@v1.1.0")
    repo.tag("churn#prod#1")
    for command in (["show", "churn"], ["history", "churn"], ["check-ref", "churn#prod#1"]):
        result = run(*command, repo=repo)
        assert_clean_error(result, 1, commit[:12], "churn@v1.0.0", "churn@v1.1.0")
    written = run("assign", "churn", "--version", "v1.0.0", "--stage", "dev", repo=repo)
    assert_clean_error(written, 1, commit[:12])


@pytest.mark.parametrize(
    "ref",
    [
        "churn@v9.9.9",  # no such tag
        "release-1",  # a tag, not a registry tag
        "lw@v1.0.0",  # lightweight
        "refs/heads/main",  # a branch
        "",
        "churn@v1.0.0\nchurn@v1.0.0",
        "$(touch pwned); `id` | cat",
    ],
    ids=["missing", "not-registry", "lightweight", "branch", "empty", "newline", "shell"],
)
def test_check_ref_of_a_non_registry_ref_prints_nothing(repo: Repo, ref: str) -> None:
    """As GTO: no output and exit 0 for anything that is not a registry tag."""
    repo.commit()
    repo.tag("churn@v1.0.0")
    repo.tag("release-1")
    repo.tag("lw@v1.0.0", annotated=False)
    for args in (["check-ref", ref], ["check-ref", ref, "--json"]):
        result = run(*args, repo=repo)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not (repo.path / "pwned").exists()


def test_check_ref_accepts_refs_tags_prefix(repo: Repo) -> None:
    repo.commit()
    repo.tag("churn@v1.0.0")
    result = run("check-ref", "refs/tags/churn@v1.0.0", "--json", repo=repo)
    assert result.returncode == 0
    assert json.loads(result.stdout)["event"] == "registration"


# -- hostile names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["churn\nrm -rf /", "churn\x1b[31m", "churn\r", "$(id)", "a;b", "`id`", "a'b\"c"],
    ids=["newline", "ansi", "cr", "subshell", "semicolon", "backtick", "quotes"],
)
def test_hostile_artifact_argument_is_quoted_in_one_line(repo: Repo, name: str) -> None:
    repo.commit()
    assert_clean_error(run("show", name, repo=repo), 2, repr(name))
    assert_clean_error(run("register", "--", name, repo=repo), 2, "invalid artifact name")
    assert_clean_error(run("deprecate", "--", name, repo=repo), 2, repr(name))
    assert not (repo.path / "pwned").exists()


def test_hostile_ref_argument_is_quoted_in_one_line(repo: Repo) -> None:
    repo.commit()
    result = run("register", "churn", "HEAD\n; touch pwned", repo=repo)
    assert_clean_error(result, 2, repr("HEAD\n; touch pwned"))


def hostile_repo(repo: Repo) -> None:
    """One good artifact among tags whose names and messages try to break the output."""
    repo.commit()
    evil_message = "line1\n\x1b[2J\x1b[31mred\rline3\x07"
    repo.tag("churn@v1.0.0", message=evil_message, tagger=("Eve\x1b[5m", "eve@example.com"))
    repo.tag("churn#prod#1", message=evil_message)
    for name in (
        "x$(touch${IFS}pwned)@v1.0.0",
        "a;b#prod#1",
        "q'x@v1.0.0",
        "t`id`@v2.0.0",
        "é@v1.0.0",
    ):
        repo.tag(name, message=evil_message)


def test_hostile_tags_are_ignored_and_never_reach_the_terminal_raw(repo: Repo) -> None:
    hostile_repo(repo)
    commands = [
        ["show"],
        ["show", "churn"],
        ["show", "--json"],
        ["show", "churn", "--json"],
        ["history"],
        ["history", "--json"],
        ["check-ref", "churn@v1.0.0"],
        ["check-ref", "churn#prod#1", "--json"],
        ["moves", "churn#prod#1"],
    ]
    for command in commands:
        result = run(*command, repo=repo)
        assert (result.returncode, result.stderr) == (0, ""), command
        assert (
            ESC not in result.stdout and "\r" not in result.stdout and "\x07" not in result.stdout
        )
    shown = json.loads(run("show", "--json", repo=repo).stdout)
    assert shown == {
        "churn": {
            "version": "v1.0.0",
            "stage": {"prod": "v1.0.0"},
            "registered": True,
            "active": True,
        }
    }
    event = json.loads(run("check-ref", "churn@v1.0.0", "--json", repo=repo).stdout)
    assert event["message"] == "line1\n\x1b[2J\x1b[31mred\rline3\x07"  # JSON keeps it, escaped
    assert event["author"] == "Eve\x1b[5m"
    assert not (repo.path / "pwned").exists()


def test_tables_replace_control_characters_in_any_cell() -> None:
    """Defence in depth: registry names cannot hold control characters, but table cells are
    cleaned whatever they hold (one line per row, nothing for the terminal to interpret)."""
    from gitops.registry.render import table

    out = table(["name", "note"], [["churn", "a\nb\x1b[2Jc\rd\x07"], ["rf", None]])
    assert out.splitlines() == [
        "name   note",
        "-----  -----------",
        "churn  a?b?[2Jc?d?",
        "rf     -",
    ]


def test_push_hint_quotes_tag_names_for_the_shell(repo: Repo) -> None:
    repo.commit()
    result = run("assign", "churn", "--stage", "prod", repo=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "    git push origin 'churn#prod#1'"


# -- the installed command, one real process per kind of error ---------------------------------


def _not_a_repo(repo: Repo) -> tuple[list[str], Path]:
    return ["show"], repo.path.parent / "elsewhere"


def _unknown_artifact(repo: Repo) -> tuple[list[str], Repo]:
    return ["show", "nope"], repo


def _malformed_gto(repo: Repo) -> tuple[list[str], Repo]:
    (repo.path / ".gto").write_text("stages: [dev]\nfoo: 1\n")
    return ["register", "churn"], repo


def _malformed_artifacts_yaml(repo: Repo) -> tuple[list[str], Repo]:
    repo.commit(files={"artifacts.yaml": "churn:\n  path: [\n"})
    return ["history"], repo


def _conflict(repo: Repo) -> tuple[list[str], Repo]:
    for tag in ("churn@v1.0.0", "churn@v1.1.0", "churn#prod#1"):
        repo.tag(tag)
    return ["check-ref", "churn#prod#1"], repo


def _invalid_version(repo: Repo) -> tuple[list[str], Repo]:
    return ["register", "churn", "--version", "1.0"], repo


def _hostile_name(repo: Repo) -> tuple[list[str], Repo]:
    return ["show", "churn\n\x1b[31mred"], repo


INSTALLED_CASES: dict[str, tuple[Callable[[Repo], tuple[list[str], Repo | Path]], int, str]] = {
    "not-a-repo": (_not_a_repo, 2, "is not a directory"),
    "unknown-artifact": (_unknown_artifact, 2, "artifact 'nope' is not in the registry"),
    "malformed-gto": (_malformed_gto, 2, ".gto:2: foo"),
    "malformed-artifacts-yaml": (_malformed_artifacts_yaml, 2, "):3: invalid YAML"),
    "conflict": (_conflict, 1, "churn@v1.1.0"),
    "invalid-version": (_invalid_version, 2, "version '1.0' is not valid"),
    "hostile-name": (_hostile_name, 2, "'churn\\n\\x1b[31mred'"),
}


@pytest.mark.parametrize("case", list(INSTALLED_CASES))
def test_installed_command_prints_one_clean_line(repo: Repo, case: str) -> None:
    setup, code, needle = INSTALLED_CASES[case]
    repo.commit()
    args, where = setup(repo)
    assert_clean_error(run_installed(*args, repo=where), code, needle)


def test_installed_command_usage_error_has_no_traceback() -> None:
    result = run_installed("assign", "churn")
    assert result.returncode == 2
    assert result.stderr.startswith("usage: gitops") and "Traceback" not in result.stderr


def test_installed_command_shows_hostile_tags_without_control_characters(repo: Repo) -> None:
    hostile_repo(repo)
    for command in (["show"], ["history"], ["check-ref", "churn#prod#1"]):
        result = run_installed(*command, repo=repo)
        assert (result.returncode, result.stderr) == (0, ""), command
        assert "churn" in result.stdout
        assert all(ch.isprintable() or ch == "\n" for ch in result.stdout), repr(result.stdout)
