"""Run the user's deploy command (an argv list, never a shell string) with the facts in
``GITOPS_*`` environment variables. A timeout kills the whole process group.

What the command prints is not lost: stdout and stderr are read apart, line by line as they
come (``DeployRequest.on_output`` streams them to the log), and the last ``TAIL_LINES`` of each
are kept for the result, the JSON outputs and the state record.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from gitops.deploy.drivers.base import DeployOutcome, DeployRequest, Driver
from gitops.deploy.drivers.settings import CommandSettings
from gitops.errors import GitopsError
from gitops.text import shorten

TAIL_LINES = 50  # lines of each stream kept in the result and the record
LINE_LIMIT = 4096  # characters of one line kept (a line without end is cut in pieces)
READER_GRACE = 5.0  # seconds to drain the pipes after the process ended or was killed


@dataclass
class CommandResult:
    code: int | None  # None: timed out (killed)
    stdout: list[str] = field(default_factory=list)  # the last TAIL_LINES lines
    stderr: list[str] = field(default_factory=list)

    def last_line(self) -> str:
        """What the command said last: its error output first, for a failure."""
        for lines in (self.stderr, self.stdout):
            for line in reversed(lines):
                if line.strip():
                    return line.strip()
        return ""


def _pump(
    pipe: IO[bytes], name: str, tail: deque[str], on_line: Callable[[str, str], None] | None
) -> None:
    with pipe:
        while True:
            raw = pipe.readline(LINE_LIMIT)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            tail.append(line)
            if on_line is not None:
                try:
                    on_line(name, line)
                except Exception:  # noqa: BLE001 - a listener's bug must not stop the deploy
                    pass


def run_streaming(
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    on_line: Callable[[str, str], None] | None = None,
) -> CommandResult:
    """Run ``argv`` (never a shell), streaming its lines to ``on_line(stream, line)``."""
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills children too
        )
    except OSError as exc:
        return CommandResult(127, [], [f"cannot run {argv[0]!r}: {exc.strerror or exc}"])
    tails: dict[str, deque[str]] = {"stdout": deque(maxlen=TAIL_LINES)}
    tails["stderr"] = deque(maxlen=TAIL_LINES)
    readers = [
        threading.Thread(target=_pump, args=(pipe, name, tails[name], on_line), daemon=True)
        for pipe, name in ((proc.stdout, "stdout"), (proc.stderr, "stderr"))
    ]
    for reader in readers:
        reader.start()
    code: int | None
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        code = None
    for reader in readers:
        reader.join(READER_GRACE)  # a child that escaped the group may hold a pipe open
    return CommandResult(code, list(tails["stdout"]), list(tails["stderr"]))


def run_command(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> tuple[int | None, str]:
    """(exit code, what it said last); exit code None on timeout. Never a shell."""
    result = run_streaming(argv, env, cwd, timeout)
    return result.code, result.last_line()


def describe_exit(code: int | None, timeout: float) -> str:
    if code is None:
        return f"timed out after {timeout:g} s (killed)"
    if code < 0:
        name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        return f"killed by signal {name}"
    return f"exited with code {code}"


class CommandDriver(Driver):
    name = "command"
    Settings = CommandSettings

    def deploy(self, request: DeployRequest) -> DeployOutcome:
        assert isinstance(self.settings, CommandSettings)
        argv = self.settings.run
        if request.dry_run:
            return DeployOutcome(True, f"would run {argv[0]} for {request.version}")
        timeout = self.settings.timeout or request.timeout
        try:
            facts = self._facts(request)
        except GitopsError as exc:
            return DeployOutcome.untouched(f"{exc}; {argv[0]} was not run")
        result = run_streaming(
            argv,
            {**self.settings.env, **facts},
            request.repo / self.settings.cwd,
            timeout,
            request.on_output,
        )
        details = {"exit_code": result.code, "stdout": result.stdout, "stderr": result.stderr}
        if result.code == 0:
            return DeployOutcome(True, f"{argv[0]} succeeded", details)
        said = result.last_line()
        said = f": {shorten(said, 200)}" if said else ""
        return DeployOutcome(
            False, f"{argv[0]} {describe_exit(result.code, timeout)}{said}", details
        )

    def _facts(self, request: DeployRequest) -> dict[str, str]:
        """``GITOPS_*``, with the version's files fetched and ``GITOPS_PATH`` pointing at them
        (``fetch: true``), and where DVC keeps them (``GITOPS_URL``). A path that is in neither
        Git nor DVC (a URL, say) is passed as it is annotated."""
        assert isinstance(self.settings, CommandSettings)
        facts = request.env_vars() | {"GITOPS_SOURCE": "", "GITOPS_URL": ""}
        if request.version is None or request.commit is None or not request.path:
            return facts
        try:
            source = request.source()
        except GitopsError:
            return facts  # a path in neither Git nor DVC: the command knows where its bytes are
        if self.settings.fetch:
            facts["GITOPS_PATH"] = str(request.fetch().path)  # a failed fetch fails the deploy
        return facts | {"GITOPS_SOURCE": source.kind, "GITOPS_URL": source.url}
