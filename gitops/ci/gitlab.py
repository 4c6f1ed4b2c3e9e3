"""GitLab CI: the Context from ``CI_*`` variables; outputs as a dotenv report; log sections.

A dotenv report is strict (GitLab: one ``KEY=value`` per line, no quotes or newlines, at most
5 KB and 20 variables on GitLab.com), so values are single-line and the full outputs also go to
a JSON file beside it that later jobs can read as an artifact.

GitLab's log viewer (``Gitlab::Ci::Ansi2json::Converter``) opens and closes a collapsible section
on ``section_start:<ts>:<name>[options]\\r\\e[0K`` anywhere in the trace, and a bare CR drops
what the line held so far. Every line we print is one visible line (``safetext.visible``: CR, ESC
and other controls shown as escapes), so no string can open, close or hide anything.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from gitops.ci.context import ZERO_SHA, Context, EventKind, Platform
from gitops.ci.reporter import Reporter, lines_of
from gitops.safetext import one_line, visible, well_formed, without_nul

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
        # merged-results pipelines run on a merge commit: the source branch's tip is the head
        head_sha=(env.get("CI_MERGE_REQUEST_SOURCE_BRANCH_SHA", "") or env.get("CI_COMMIT_SHA", ""))
        if iid
        else "",
        diff_base_sha=env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA", "") if iid else "",
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
        self._summary_started = False

    def error(self, message: str, file: str | None = None, line: int | None = None) -> None:
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        self._print_colored("31;1", "ERROR: " + where + message)

    def warning(self, message: str) -> None:
        self._print_colored("33;1", "WARNING: " + message)

    def _print_colored(self, color: str, text: str) -> None:
        for line in lines_of(self.redact(text)):
            self._print(f"\x1b[{color}m{visible(line)}\x1b[0m")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        section = _SECTION_ID.sub("_", title.lower())[:40] or "gitops"
        self._print(
            f"\x1b[0Ksection_start:{int(time.time())}:{section}[collapsed=true]\r\x1b[0K"
            + visible(self.redact(title))
        )
        try:
            yield
        finally:
            self._print(f"\x1b[0Ksection_end:{int(time.time())}:{section}\r\x1b[0K")

    def set_outputs(self, values: Mapping[str, str]) -> None:
        """The JSON file holds every value whole (well-formed, NUL as U+FFFD, as on GitHub); the
        dotenv file one line each (controls and line separators as spaces), as many as fit."""
        values = {k: without_nul(self.redact(v)) for k, v in values.items()}
        self._json.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
        lines = [f"{dotenv_name(k)}={one_line(v, show_invisible=False)}" for k, v in values.items()]
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
        """Like GitHub's step summary: each call adds a section. The file starts empty in each
        run (a workspace kept from an earlier job may still hold one)."""
        markdown = well_formed(self.redact(markdown))
        markdown = markdown if markdown.endswith("\n") else markdown + "\n"
        with open(self._summary, "a" if self._summary_started else "w", encoding="utf-8") as out:
            out.write("\n" + markdown if self._summary_started else markdown)
        self._summary_started = True
