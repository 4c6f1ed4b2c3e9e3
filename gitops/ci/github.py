"""GitHub Actions: the Context from ``GITHUB_*`` and the event payload; outputs, summary, logs.

The runner (actions/runner) reads workflow commands from our stdout one line at a time
(``StreamReader.ReadLine`` in ``src/Runner.Sdk/ProcessInvoker.cs``: a line ends at LF, CR or
CRLF). Its parser (``src/Runner.Common/ActionCommand.cs``, called for every line by
``ActionCommandManager.TryProcessCommand``) knows two forms:

- ``::name props::data``: ``TryParseV2`` trims leading whitespace (.NET ``TrimStart``), then
  needs ``::`` at the very start;
- ``##[name props]data``: the legacy ``TryParse`` looks for ``##[`` *anywhere* in the line.

Either form names a registered command (``error``, ``add-mask``, ``set-output``, ``group``,
``stop-commands``, ...). While ``::stop-commands::T`` is in force every command is parsed but
ignored, legacy ones too, until the token ``T`` comes back (as ``::T::`` or ``##[T]``).

So every line we print goes through ``command_safe``: one visible line (CR, LF and other controls
shown as escapes, ``safetext.visible``), ``##[`` written ``##\\[`` wherever it is, and a line that
starts with ``::`` after trimming gets a ``\\`` in front of it. Free text is also put between
``::stop-commands::`` markers, and command data is escaped with GitHub's ``%``/CR/LF rules; ``##[``
in the data of our own ``::error::`` is never parsed (``TryParseV2`` took the line), but it is
written ``##\\[`` too, so the log viewer shows no ``##[error]`` line of someone else's.

The runner's ``IndexOf``/``StartsWith`` are culture-sensitive (ICU), which skips "ignorable"
characters such as U+200B; so the breaks are visible ASCII, never an invisible character, and
invisible characters are shown as escapes anyway. (The parser then takes the command name from
fixed offsets, so an ignorable character inside ``##[`` cannot yield a valid name either.)
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
from gitops.ci.reporter import Reporter, lines_of
from gitops.errors import UsageError
from gitops.safetext import visible, without_nul

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
    if name in ("pull_request", "pull_request_target", "pull_request_review"):
        return EventKind.PULL_REQUEST  # a review re-checks a promotion PR's approvals
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
        head_sha=pr.head.sha if pr else "",
        base_sha=pr.base.sha if pr else "",
        actor=env.get("GITHUB_ACTOR", ""),
        run_url=f"{server}/{repository}/actions/runs/{run_id}" if repository and run_id else "",
        token=env.get("INPUT_TOKEN") or env.get("GITHUB_TOKEN") or env.get("GITOPS_TOKEN", ""),
        token_kind="github",
        read_only_token=fork,
    )


def command_safe(text: str) -> str:
    """One log line the runner cannot act on, whatever ``text`` holds (see the module doc)."""
    line = visible(text).replace("##[", "##\\[")
    body = line.lstrip()  # Python strips at least what .NET's TrimStart strips
    if body.startswith("::"):
        line = line[: len(line) - len(body)] + "\\" + body
    return line


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped as GitHub's toolkit does."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command_data(text: str) -> str:
    """The data of ``::error::``/``::warning::``/``::group::``: each line made visible and free of
    ``##[``, then joined with LF, which ``escape_data`` turns into ``%0A`` (one log line)."""
    return escape_data("\n".join(visible(line).replace("##[", "##\\[") for line in lines_of(text)))


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
        self._print(command_safe(self.redact(message)))

    def log_block(self, text: str) -> None:
        """Each line made command-safe, and between ``stop-commands`` markers besides, with a
        token nobody can guess (the text was made before the token)."""
        token = secrets.token_hex(16)
        self._print(f"::stop-commands::{token}")
        for line in lines_of(self.redact(text)):
            self._print(command_safe(line))
        self._print(f"::{token}::")

    def error(self, message: str, file: str | None = None, line: int | None = None) -> None:
        props = []
        if file:
            props.append(f"file={escape_property(visible(file))}")
        if line:
            props.append(f"line={line}")
        joined = (" " + ",".join(props)) if props else ""
        self._print(f"::error{joined}::{command_data(self.redact(message))}")

    def warning(self, message: str) -> None:
        self._print(f"::warning::{command_data(self.redact(message))}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._print(f"::group::{command_data(self.redact(title))}")
        try:
            yield
        finally:
            self._print("::endgroup::")

    def set_outputs(self, values: Mapping[str, str]) -> None:
        """Outputs keep their line breaks (a heredoc each); NUL becomes U+FFFD (an output often
        ends up in an environment variable, where NUL cannot be)."""
        if not self._output:
            return
        with open(self._output, "a", encoding="utf-8") as out:
            for name, value in values.items():
                value = without_nul(self.redact(value))
                delimiter = f"ghadelimiter_{uuid.uuid4()}"
                while delimiter in value:  # cannot happen with a fresh uuid, but never risk it
                    delimiter = f"ghadelimiter_{uuid.uuid4()}"
                out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")

    def write_summary(self, markdown: str) -> None:
        if not self._summary:
            return
        markdown = without_nul(self.redact(markdown))
        data = markdown.encode("utf-8")
        if len(data) > SUMMARY_LIMIT - 1024:
            note = "\n\n_(summary cut: over GitHub's 1 MiB limit; the full text is in the log)_\n"
            cut = data[: SUMMARY_LIMIT - 1024].decode("utf-8", "ignore")
            markdown = cut[: cut.rfind("\n") + 1] + note
        with open(self._summary, "a", encoding="utf-8") as out:
            if out.tell() > 0:  # after an earlier step's (or our own) text: a blank line first
                out.write("\n")
            out.write(markdown if markdown.endswith("\n") else markdown + "\n")
