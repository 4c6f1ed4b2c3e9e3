"""GitHub Actions: the Context from ``GITHUB_*`` and the event payload; outputs, summary, logs.

Workflow commands are parsed from our stdout, so every untrusted string we print is escaped
(GitHub's ``%``/CR/LF rules) and free text goes between ``::stop-commands::`` markers.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from gitops.ci.context import ZERO_SHA, Context, EventKind, Platform
from gitops.ci.github_payload import Payload, parse_payload
from gitops.ci.reporter import Reporter
from gitops.errors import UsageError

SUMMARY_LIMIT = 1024 * 1024  # GitHub rejects a step summary over 1 MiB


def read_payload(path: str) -> Payload:
    if not path:
        return Payload()
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return parse_payload(data)
    except (OSError, ValueError) as exc:  # a PayloadError too: pydantic's first message
        raise UsageError(f"cannot read the event payload {path}: {exc}") from None


def _event_kind(name: str, ref: str, payload: Payload) -> EventKind:
    if name == "push":
        if ref.startswith("refs/tags/"):
            return EventKind.TAG_DELETE if payload.deleted else EventKind.TAG_PUSH
        return EventKind.BRANCH_PUSH
    if name in ("create", "delete") and payload.ref_type == "tag":
        return EventKind.TAG_PUSH if name == "create" else EventKind.TAG_DELETE
    if name in ("create", "delete"):
        return EventKind.OTHER
    if name in ("pull_request", "pull_request_target"):
        return EventKind.PULL_REQUEST
    if name == "schedule":
        return EventKind.SCHEDULE
    if name in ("workflow_dispatch", "repository_dispatch"):
        return EventKind.MANUAL
    return EventKind.OTHER


def context_from_env(env: Mapping[str, str]) -> Context:
    name = env.get("GITHUB_EVENT_NAME", "")
    payload = read_payload(env.get("GITHUB_EVENT_PATH", ""))
    ref = env.get("GITHUB_REF", "")
    if name in ("create", "delete") and payload.ref and payload.ref_type == "tag":
        ref = f"refs/tags/{payload.ref}"
    sha = env.get("GITHUB_SHA", "")
    if payload.head_commit and payload.head_commit.id:
        sha = payload.head_commit.id  # the commit, also when `after` is a tag object
    pr = payload.pull_request
    server = env.get("GITHUB_SERVER_URL", "https://github.com")
    repository = env.get("GITHUB_REPOSITORY", "")
    run_id = env.get("GITHUB_RUN_ID", "")
    fork = bool(
        pr and pr.head.repo and pr.base.repo and pr.head.repo.full_name != pr.base.repo.full_name
    )
    return Context(
        platform=Platform.GITHUB,
        event=_event_kind(name, ref, payload),
        event_name=name,
        workspace=Path(env.get("GITHUB_WORKSPACE") or "."),
        ref=ref,
        sha=sha,
        before=payload.before if payload.before != ZERO_SHA else "",
        repository=repository,
        server_url=server,
        api_url=env.get("GITHUB_API_URL", "https://api.github.com"),
        pr_number=pr.number if pr else None,
        pr_title=pr.title if pr else "",
        head_ref=pr.head.ref if pr else "",
        base_ref=pr.base.ref if pr else "",
        actor=env.get("GITHUB_ACTOR", ""),
        run_url=f"{server}/{repository}/actions/runs/{run_id}" if repository and run_id else "",
        token=env.get("INPUT_TOKEN") or env.get("GITHUB_TOKEN") or env.get("GITOPS_TOKEN", ""),
        token_kind="github",
        read_only_token=fork,
    )


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped as GitHub's toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GitHubReporter(Reporter):
    def __init__(
        self,
        env: Mapping[str, str],
        print_fn: Callable[[str], None] | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        super().__init__(print_fn, secrets)
        self._output = env.get("GITHUB_OUTPUT", "")
        self._summary = env.get("GITHUB_STEP_SUMMARY", "")

    def log(self, message: str) -> None:
        self._print(self._safe_line(message))

    def _safe_line(self, text: str) -> str:
        """One log line that cannot start a workflow command, whatever it contains."""
        text = text.replace("\r", "\\r").replace("\n", "\\n")
        return text if not text.lstrip().startswith("::") else " " + text

    def log_block(self, text: str) -> None:
        token = secrets.token_hex(16)
        self._print(f"::stop-commands::{token}")
        for line in text.splitlines():
            self._print(line.replace("\r", "\\r"))
        self._print(f"::{token}::")

    def error(self, message: str, file: str | None = None, line: int | None = None) -> None:
        props = []
        if file:
            props.append(f"file={escape_property(file)}")
        if line:
            props.append(f"line={line}")
        joined = (" " + ",".join(props)) if props else ""
        self._print(f"::error{joined}::{escape_data(message)}")

    def warning(self, message: str) -> None:
        self._print(f"::warning::{escape_data(message)}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._print(f"::group::{escape_data(title)}")
        try:
            yield
        finally:
            self._print("::endgroup::")

    def set_outputs(self, values: Mapping[str, str]) -> None:
        if not self._output:
            return
        with open(self._output, "a", encoding="utf-8") as out:
            for name, value in values.items():
                value = self.redact(value)
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
                while delimiter in value:  # cannot happen with a fresh uuid, but never risk it
                    delimiter = f"ghadelimiter_{uuid.uuid4()}"
                out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def write_summary(self, markdown: str) -> None:
        if not self._summary:
            return
        markdown = self.redact(markdown)
        data = markdown.encode("utf-8")
        if len(data) > SUMMARY_LIMIT - 1024:
            note = "\n\n_(summary cut: over GitHub's 1 MiB limit; the full text is in the log)_\n"
            cut = data[: SUMMARY_LIMIT - 1024].decode("utf-8", "ignore")
            markdown = cut[: cut.rfind("\n") + 1] + note
        with open(self._summary, "a", encoding="utf-8") as out:
            out.write(markdown if markdown.endswith("\n") else markdown + "\n")
