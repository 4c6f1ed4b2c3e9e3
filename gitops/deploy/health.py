"""Is the new version healthy? An HTTP URL answering 2xx and/or a command exiting 0, retried."""

from __future__ import annotations

import time
from collections.abc import Callable

from gitops.config import HealthCheck
from gitops.deploy.drivers.base import DeployRequest
from gitops.deploy.drivers.command import describe_exit, run_command
from gitops.text import shorten


def _http_ok(url: str, timeout: float) -> tuple[bool, str]:
    import requests

    try:
        response = requests.get(url, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return False, f"GET {url}: {type(exc).__name__}"
    if 200 <= response.status_code < 300:
        return True, f"GET {url}: {response.status_code}"
    return False, f"GET {url}: HTTP {response.status_code}"


def _command_ok(check: HealthCheck, request: DeployRequest) -> tuple[bool, str]:
    assert check.command is not None
    code, last = run_command(check.command, request.env_vars(), request.repo, check.timeout)
    detail = f" ({shorten(last, 200)})" if last else ""
    return code == 0, f"{check.command[0]} {describe_exit(code, check.timeout)}{detail}"


def check_health(
    check: HealthCheck | None,
    request: DeployRequest,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, str]:
    """(healthy, what the last try said). No check configured: healthy."""
    if check is None or (check.http is None and check.command is None):
        return True, "no health check"
    message = ""
    for attempt in range(check.retries + 1):
        if attempt:
            sleep(check.interval)
        results = []
        if check.http:
            results.append(_http_ok(check.http, check.timeout))
        if check.command:
            results.append(_command_ok(check, request))
        message = "; ".join(m for _, m in results)
        if all(ok for ok, _ in results):
            return True, message
    tries = f"{check.retries + 1} tries" if check.retries else "1 try"
    return False, f"unhealthy after {tries}: {message}"
