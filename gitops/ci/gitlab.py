"""GitLab CI: the Context from ``CI_*`` variables; outputs as a dotenv report; log sections.

A dotenv report is strict (GitLab: one ``KEY=value`` per line, no quotes or newlines, at most
5 KB and 20 variables on GitLab.com), so values are single-line and the full outputs also go to
a JSON file beside it that later jobs can read as an artifact.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from gitops.ci.context import ZERO_SHA, Context, EventKind, Platform
from gitops.ci.reporter import Reporter
from gitops.markdown import strip_control

DOTENV_LIMIT = 5 * 1024
_SECTION_ID = re.compile(r"[^a-z0-9_]")


def _event_kind(env: Mapping[str, str]) -> EventKind:
    source = env.get("CI_PIPELINE_SOURCE", "")
    if source == "merge_request_event" or env.get("CI_MERGE_REQUEST_IID"):
        return EventKind.PULL_REQUEST
    if source == "schedule":
        return EventKind.SCHEDULE
    if env.get("CI_COMMIT_TAG"):
        return EventKind.TAG_PUSH  # GitLab runs no pipeline for a deleted tag
    if source == "push":
        return EventKind.BRANCH_PUSH
    if source in ("web", "api", "trigger", "pipeline", "parent_pipeline", "chat"):
        return EventKind.MANUAL
    return EventKind.OTHER


def _token(env: Mapping[str, str]) -> tuple[str, str]:
    """An access token if the user gave one (it can comment and open MRs), else the job token."""
    for name in ("GITOPS_TOKEN", "GITLAB_TOKEN"):
        if env.get(name):
            return env[name], "private"
    if env.get("CI_JOB_TOKEN"):
        return env["CI_JOB_TOKEN"], "job"
    return "", ""


def context_from_env(env: Mapping[str, str]) -> Context:
    tag = env.get("CI_COMMIT_TAG", "")
    branch = env.get("CI_COMMIT_BRANCH", "") or env.get("CI_COMMIT_REF_NAME", "")
    ref = f"refs/tags/{tag}" if tag else (f"refs/heads/{branch}" if branch else "")
    iid = env.get("CI_MERGE_REQUEST_IID", "")
    before = env.get("CI_COMMIT_BEFORE_SHA", "")
    token, kind = _token(env)
    return Context(
        platform=Platform.GITLAB,
        event=_event_kind(env),
        event_name=env.get("CI_PIPELINE_SOURCE", ""),
        workspace=Path(env.get("CI_PROJECT_DIR") or "."),
        ref=ref,
        sha=env.get("CI_COMMIT_SHA", ""),
        before=before if before != ZERO_SHA else "",
        repository=env.get("CI_PROJECT_PATH", ""),
        server_url=env.get("CI_SERVER_URL", ""),
        api_url=env.get("CI_API_V4_URL", ""),
        pr_number=int(iid) if iid.isdigit() else None,
        pr_title=env.get("CI_MERGE_REQUEST_TITLE", ""),
        head_ref=env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", ""),
        base_ref=env.get("CI_MERGE_REQUEST_TARGET_BRANCH_NAME", ""),
        actor=env.get("GITLAB_USER_LOGIN", ""),
        run_url=env.get("CI_PIPELINE_URL", "") or env.get("CI_JOB_URL", ""),
        token=token,
        token_kind=kind,
    )


def dotenv_name(output: str) -> str:
    return "GITOPS_" + re.sub(r"[^A-Z0-9_]", "_", output.upper())


class GitLabReporter(Reporter):
    def __init__(
        self,
        env: Mapping[str, str],
        workspace: Path,
        print_fn: Callable[[str], None] | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        super().__init__(print_fn, secrets)
        self._dotenv = workspace / (env.get("GITOPS_DOTENV") or "gitops.env")
        self._json = self._dotenv.with_suffix(".json")
        self._summary = workspace / (env.get("GITOPS_SUMMARY") or "gitops-summary.md")

    def error(self, message: str, file: str | None = None, line: int | None = None) -> None:
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        self._print(f"\x1b[31;1mERROR: {strip_control(where + message)}\x1b[0m")

    def warning(self, message: str) -> None:
        self._print(f"\x1b[33;1mWARNING: {strip_control(message)}\x1b[0m")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        section = _SECTION_ID.sub("_", title.lower())[:40] or "gitops"
        self._print(
            f"\x1b[0Ksection_start:{int(time.time())}:{section}[collapsed=true]\r\x1b[0K"
            + strip_control(title)
        )
        try:
            yield
        finally:
            self._print(f"\x1b[0Ksection_end:{int(time.time())}:{section}\r\x1b[0K")

    def set_outputs(self, values: Mapping[str, str]) -> None:
        values = {k: self.redact(v) for k, v in values.items()}
        self._json.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
        lines = [f"{dotenv_name(k)}={strip_control(v)}" for k, v in values.items()]
        kept: list[str] = []
        size = 0
        for line in sorted(lines, key=len):  # keep the most variables within the limit
            if size + len(line.encode()) + 1 > DOTENV_LIMIT:
                self.warning(
                    f"{line.split('=', 1)[0]} is too long for GitLab's dotenv report; "
                    f"read it from {self._json.name}"
                )
                continue
            kept.append(line)
            size += len(line.encode()) + 1
        order = {line: i for i, line in enumerate(lines)}
        text = "".join(line + "\n" for line in sorted(kept, key=order.__getitem__))
        self._dotenv.write_text(text, encoding="utf-8")

    def write_summary(self, markdown: str) -> None:
        self._summary.write_text(self.redact(markdown), encoding="utf-8")
