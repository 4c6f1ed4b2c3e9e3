"""How a run talks back: log lines, errors, groups, outputs and a summary, per platform.

The terminal version is the base: plain lines on stdout/stderr. GitHub and GitLab subclasses
add their own files and markers. Every line and file passes through ``redact``: a token can
reach a message (a git error quoting a URL, say) but never the log. Any ``str`` can be printed:
each line goes through ``safetext.visible`` (well-formed, controls and invisible characters shown
as escapes), so no string can crash a writer, forge a line or drive the terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager

from gitops.safetext import visible


def lines_of(text: str) -> list[str]:
    """``text`` split at LF (CRLF counts as one), without the empty piece after a final newline;
    any other line break is left for ``visible`` to show."""
    lines = text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


class Reporter:
    """Plain terminal output; outputs and the summary are printed, not written to files."""

    def __init__(
        self, print_fn: Callable[[str], None] | None = None, secrets: Iterable[str] = ()
    ) -> None:
        self._secrets = [s for s in secrets if len(s) >= 4]
        self._write = print_fn or (lambda line: print(line, flush=True))

    def add_secrets(self, values: Iterable[str]) -> None:
        """More values to mask from now on (those a deploy's settings read from the env)."""
        self._secrets = sorted(
            {*self._secrets, *(v for v in values if len(v) >= 4)}, key=len, reverse=True
        )

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _print(self, line: str) -> None:
        self._write(self.redact(line))

    def _print_err(self, line: str) -> None:
        print(self.redact(line), file=sys.stderr, flush=True)

    def log(self, message: str) -> None:
        self._print(visible(self.redact(message)))

    def log_block(self, text: str) -> None:
        """Free text (tables, other tools' output): line by line, never interpreted."""
        for line in lines_of(self.redact(text)):
            self._print(visible(line))

    def error(self, message: str, file: str | None = None, line: int | None = None) -> None:
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        self._print_err_lines("error: " + where + message)

    def warning(self, message: str) -> None:
        self._print_err_lines("warning: " + message)

    def _print_err_lines(self, text: str) -> None:
        for line in lines_of(self.redact(text)):
            self._print_err(visible(line))

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self.log(f"== {title}")
        yield

    def set_outputs(self, values: Mapping[str, str]) -> None:
        """Terminal runs print results themselves (``--json``); nothing to write."""

    def write_summary(self, markdown: str) -> None:
        """Terminal runs show the table instead."""
