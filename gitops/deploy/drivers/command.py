"""Run the user's deploy command (an argv list, never a shell string) with the facts in
``GITOPS_*`` environment variables. A timeout kills the whole process group."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from gitops.deploy.drivers.base import DeployOutcome, DeployRequest, Driver
from gitops.deploy.drivers.settings import CommandSettings

OUTPUT_TAIL = 2000  # characters of the command's output kept in the record


def run_command(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> tuple[int | None, str]:
    """(exit code, output tail); exit code None on timeout. Never a shell."""
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a timeout kills children too
        )
    except OSError as exc:
        return 127, f"cannot run {argv[0]!r}: {exc.strerror or exc}"
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out.decode("utf-8", "replace")[-OUTPUT_TAIL:]
    return proc.returncode, out.decode("utf-8", "replace")[-OUTPUT_TAIL:]


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
        code, output = run_command(
            argv,
            {**self.settings.env, **request.env_vars()},
            request.repo / self.settings.cwd,
            timeout,
        )
        details = {"exit_code": code, "output": output}
        if code == 0:
            return DeployOutcome(True, f"{argv[0]} succeeded", details)
        last = output.strip().splitlines()[-1:] if output.strip() else []
        said = f": {last[0][:200]}" if last else ""
        return DeployOutcome(False, f"{argv[0]} {describe_exit(code, timeout)}{said}", details)
