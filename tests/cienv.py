"""Run the action the way a CI runner does: an origin repo, a CI-style checkout, env, files.

``origin`` is a real bare repository; the workspace is cloned from it as ``actions/checkout``
leaves it (depth 1, no tags, the pushed tag rewritten as lightweight) or as GitLab does (only the
pipeline's tag). ``entrypoint.py`` then runs as a real subprocess with the platform's variables.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from gitutil import Repo, git

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "entrypoint.py"
TOKEN = "ghs_s3cr3tT0kenValue1234567890"


class Origin:
    """A registry repo (built with ``Repo``) published to a bare ``origin``."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.dev = Repo(tmp / "dev")
        self.bare = tmp / "origin.git"
        subprocess.run(
            ["git", "init", "-q", "--bare", "-b", "main", str(self.bare)], check=True, timeout=30
        )
        git(self.dev.path, "remote", "add", "origin", str(self.bare))

    def publish(self) -> None:
        git(self.dev.path, "push", "-q", "--force", "origin", "main", "--tags")

    def delete_remote_tag(self, tag: str) -> None:
        git(self.dev.path, "push", "-q", "origin", f":refs/tags/{tag}")
        self.dev.delete_tag(tag)


def checkout_like_github(origin: Origin, dest: Path, tag: str | None) -> Path:
    """``actions/checkout`` defaults: depth 1, no tags, the tag fetched as a lightweight ref."""
    dest.mkdir(parents=True, exist_ok=True)
    git(dest, "init", "-q")
    git(dest, "remote", "add", "origin", str(origin.bare))
    if tag:
        sha = git(origin.dev.path, "rev-parse", f"refs/tags/{tag}^{{commit}}")
        git(dest, "fetch", "-q", "--no-tags", "--depth=1", "origin", f"+{sha}:refs/tags/{tag}")
        git(dest, "checkout", "-q", "--detach", f"refs/tags/{tag}")
    else:
        git(
            dest,
            "fetch",
            "-q",
            "--no-tags",
            "--depth=1",
            "origin",
            "+main:refs/remotes/origin/main",
        )
        git(dest, "checkout", "-q", "--detach", "refs/remotes/origin/main")
    return dest


def checkout_like_gitlab(origin: Origin, dest: Path, tag: str) -> Path:
    """GitLab's tag pipeline: depth 20, only ``+refs/tags/<tag>:refs/tags/<tag>`` (annotated)."""
    dest.mkdir(parents=True, exist_ok=True)
    git(dest, "init", "-q")
    git(dest, "remote", "add", "origin", str(origin.bare))
    git(
        dest,
        "fetch",
        "-q",
        "--no-tags",
        "--depth=20",
        "origin",
        f"+refs/tags/{tag}:refs/tags/{tag}",
    )
    git(dest, "checkout", "-q", "--detach", f"refs/tags/{tag}")
    return dest


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    files: dict[str, str] = field(default_factory=dict)

    @property
    def moves(self) -> list[dict]:
        return json.loads(self.outputs["moves"])

    def everything(self) -> str:
        """Every byte the run left anywhere a person or a log could see."""
        return "\n".join([self.stdout, self.stderr, self.summary, *self.files.values()])


def parse_github_output(text: str) -> dict[str, str]:
    """``name<<DELIM`` / value lines / ``DELIM`` blocks, as the runner reads them."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            values[name] = "\n".join(lines[i + 1 : end])
            i = end + 1
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
            i += 1
        else:
            i += 1
    return values


def raw_text(data: bytes) -> str:
    """A process's output as a runner receives it: strict UTF-8, CR kept (``text=True`` would
    turn a bare CR into LF and hide exactly what a log line must not hold)."""
    return data.decode("utf-8")


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB", "CI"))}
    env = {k: v for k, v in env.items() if not k.startswith(("INPUT_", "GIT_", "GITOPS_"))}
    env["HOME"] = str(home)
    return env


def run_github(
    tmp: Path,
    workspace: Path,
    event_name: str,
    payload: dict,
    ref: str,
    sha: str = "",
    inputs: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> Run:
    """Run ``entrypoint.py`` as GitHub's runner runs a Docker action (no arguments)."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    event_path = tmp / "event.json"
    event_path.write_text(json.dumps(payload))
    output, summary = tmp / "github_output", tmp / "step_summary"
    output.write_text("")
    summary.write_text("")
    env = _base_env(home) | {
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event_name,
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REF": ref,
        "GITHUB_SHA": sha,
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_API_URL": "https://api.github.com",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_ACTOR": "alice",
        "INPUT_TOKEN": TOKEN,
        "INPUT_COMMAND": "auto",
    }
    for name, value in (inputs or {}).items():
        env[f"INPUT_{name.upper()}"] = value
    env.update(extra_env or {})
    proc = subprocess.run(
        [sys.executable, str(ENTRYPOINT)],
        cwd=workspace,
        env=env,
        capture_output=True,
        timeout=120,
    )
    out_text = output.read_bytes().decode("utf-8")  # as the runner reads it: no newline mangling
    return Run(
        proc.returncode,
        raw_text(proc.stdout),
        raw_text(proc.stderr),
        parse_github_output(out_text),
        summary.read_bytes().decode("utf-8"),
        {"GITHUB_OUTPUT": out_text},
    )


def run_gitlab(
    tmp: Path,
    workspace: Path,
    variables: dict[str, str],
    inputs: dict[str, str] | None = None,
) -> Run:
    """Run ``gitops action`` as a GitLab job script does, with ``CI_*`` variables."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env = _base_env(home) | {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(workspace),
        "CI_PROJECT_PATH": "acme/models",
        "CI_SERVER_URL": "https://gitlab.example.com",
        "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
        "CI_PIPELINE_URL": "https://gitlab.example.com/acme/models/-/pipelines/7",
        "CI_JOB_TOKEN": TOKEN,
        "GITLAB_USER_LOGIN": "bob",
        **variables,
    }
    for name, value in (inputs or {}).items():
        env[f"INPUT_{name.upper().replace('-', '_')}"] = value
    proc = subprocess.run(
        [sys.executable, str(ENTRYPOINT), "action"],
        cwd=workspace,
        env=env,
        capture_output=True,
        timeout=120,
    )
    dotenv = workspace / "gitops.env"
    files = {p.name: p.read_text() for p in workspace.glob("gitops*") if p.is_file()}
    outputs = {}
    if dotenv.exists():
        for line in dotenv.read_text().splitlines():
            name, _, value = line.partition("=")
            outputs[name] = value
    return Run(
        proc.returncode,
        raw_text(proc.stdout),
        raw_text(proc.stderr),
        outputs,
        files.get("gitops-summary.md", ""),
        files,
    )


def active_commands(stdout: str) -> list[str]:
    """Lines the GitHub runner would run as workflow commands (outside ``stop-commands``)."""
    active, resume = [], None
    for line in stdout.splitlines():
        stripped = line.strip()
        if resume is not None:
            if stripped == f"::{resume}::":
                resume = None
            continue
        if stripped.startswith("::stop-commands::"):
            resume = stripped.removeprefix("::stop-commands::")
        elif stripped.startswith("::"):
            active.append(stripped)
    return active


# --- GitHub's runner reading our stdout (actions/runner) ----------------------------------------

# Commands the runner registers (ActionCommandManager extensions), compared ignoring case.
RUNNER_COMMANDS = frozenset(
    {
        "error",
        "warning",
        "notice",
        "debug",
        "group",
        "endgroup",
        "echo",
        "add-mask",
        "set-output",
        "set-env",
        "save-state",
        "add-path",
        "add-matcher",
        "remove-matcher",
        "stop-commands",
    }
)
# .NET's Char.IsWhiteSpace, which String.TrimStart() removes
DOTNET_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
) + "\u2028\u2029\u202f\u205f\u3000"


@dataclass(frozen=True)
class RunnerCommand:
    form: str  # "v2" (`::name::data`) or "legacy" (`##[name]data`)
    name: str
    data: str
    line: str


def runner_lines(stdout: str) -> list[str]:
    """Lines as the runner reads them: .NET's ReadLine ends a line at LF, CR or CRLF."""
    return re.split(r"\r\n|\r|\n", stdout)


def parse_runner_command(line: str, registered: frozenset[str]) -> RunnerCommand | None:
    """``ActionCommand.TryParseV2``, then ``ActionCommand.TryParse`` (src/Runner.Common)."""
    message = line.lstrip(DOTNET_WHITESPACE)
    if message.startswith("::"):
        end = message.find("::", 2)
        if end >= 0:
            name = message[2:end].split(" ", 1)[0]
            if name.lower() in registered:
                return RunnerCommand("v2", name.lower(), message[end + 2 :], line)
    start = line.find("##[")  # anywhere in the line
    if start >= 0:
        bracket = line.find("]", start)
        if bracket >= 0:
            name = line[start + 3 : bracket].split(" ", 1)[0]
            if name.lower() in registered:
                return RunnerCommand("legacy", name.lower(), line[bracket + 1 :], line)
    return None


def runner_commands(stdout: str) -> list[RunnerCommand]:
    """The commands GitHub's runner would act on in ``stdout``, ``stop-commands`` honoured: while
    stopped, every command is parsed but ignored until the token comes back, in either form
    (``ActionCommandManager.TryProcessCommand``)."""
    acted: list[RunnerCommand] = []
    stop_token: str | None = None
    for line in runner_lines(stdout):
        registered = RUNNER_COMMANDS | ({stop_token} if stop_token else set())
        command = parse_runner_command(line, registered)
        if command is None:
            continue
        if stop_token is not None:
            if command.name == stop_token:
                stop_token = None
            continue
        if command.name == "stop-commands":
            stop_token = command.data.lower()
            continue
        acted.append(command)
    return acted
