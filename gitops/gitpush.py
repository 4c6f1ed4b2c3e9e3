"""Push refs with GitPython and say, per ref, whether it landed, lost a race, or was refused.

A race (the ref moved between our read and our push: git's non-fast-forward or fetch first, or
the remote's "failed to update ref" / "cannot lock ref" because another push got there first)
is the caller's to retry: re-read, redo the change, push again. A refusal (a hook declined, a
protected branch or tag, missing permission, a tag that already exists with other content) will
not change on a retry: it raises ``PushRefused`` at once with git's reason, the remote's own
``remote:`` lines and what to change. A remote that cannot be reached raises
``PushUnreachable``. Nothing is ever force-pushed; credentials reach git through the
environment only, and every message is scrubbed of them.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

from gitops.errors import GitopsError

if TYPE_CHECKING:  # GitPython (and logging) come with the first push: the exceptions are free
    import logging

    import git
    from git.remote import PushInfo

PUSH_TIMEOUT = 120.0
Status = Literal["pushed", "up to date", "race"]

# git's own words for a lost race: client side (porcelain "[rejected] (...)") and server side
_RACE_REJECTED = ("fetch first", "non-fast-forward", "stale info")
_RACE_REMOTE = ("failed to update ref", "cannot lock ref", "incorrect old value", "but expected")
# a server that guards the ref: hooks, protection rules, rulesets
_GUARDED = ("declined", "protected", "rule violation")
# the whole push failed before any ref was reported: the credentials or the way there
_AUTH = (
    "returned error: 401",
    "returned error: 403",
    "authentication failed",
    "could not read username",
    "could not read password",
    "access denied",
    "permission to ",
    "permission denied",
    "not allowed to push",
    "invalid username or password",
)
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")


class PushError(GitopsError):
    """A push that failed for a reason a retry will not fix.

    ``guarded``: a hook or protection rule declined; ``credentials``: the token was refused.
    """

    def __init__(self, message: str, guarded: bool = False, credentials: bool = False) -> None:
        super().__init__(message)
        self.guarded, self.credentials = guarded, credentials

    def prefixed(self, prefix: str, suffix: str = "") -> PushError:
        """The same failure, said in the caller's terms (``state branch ...: <this>``)."""
        return type(self)(f"{prefix}{self}{suffix}", self.guarded, self.credentials)


class PushRefused(PushError):
    """The remote said no: a hook, a protection rule, missing permission, a taken tag name."""


class PushUnreachable(PushError):
    """The remote could not be reached (or did not answer in time)."""


class RefPush(NamedTuple):
    """What became of one ref: ``pushed``, ``up to date`` or ``race`` (retry), in git's words."""

    ref: str
    status: Status
    reason: str


def _line_collector() -> git.RemoteProgress:
    """A GitPython progress handler that keeps every line git writes to stderr that is not a
    progress meter, in order, as ``.lines`` (GitPython keeps ``remote:`` lines and errors apart
    and drops a remote line that looks like a meter: ``remote: rule: 2 violations``)."""
    import git

    class Lines(git.RemoteProgress):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []

        def line_dropped(self, line: str) -> None:
            self.lines.append(line.rstrip())

        def _parse_progress_line(self, line: str | bytes) -> None:
            text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
            if text.startswith(("error:", "fatal:")):
                self.lines.append(text.rstrip())
            super()._parse_progress_line(line)

    return Lines()


def _quiet(record: logging.LogRecord) -> bool:
    """GitPython logs git's stderr as a warning when a ref is rejected; it is in our message,
    and with the remote's URL in it, it must not reach the log on its own."""
    return not str(record.msg).startswith("Error lines received while pushing")


def hide_userinfo(url: str) -> str:
    """``https://user:token@host/...`` as ``https://***@host/...`` (anywhere in ``url``)."""
    return _URL_USERINFO.sub("***@", url)


def redactor(remote: str, env: Mapping[str, str] | None) -> Callable[[str], str]:
    """A function that blanks every credential this push could carry: the URL's user info,
    an Authorization header given through ``GIT_CONFIG_VALUE_*`` (as sent and decoded), and
    token-like variables of the environment."""
    secrets: set[str] = set()
    for key, value in {**os.environ, **(env or {})}.items():
        if key.startswith("GIT_CONFIG_VALUE_") and value.lower().startswith("authorization:"):
            credential = value.split(":", 1)[1].strip().partition(" ")[2] or value
            secrets |= {value.split(":", 1)[1].strip(), credential}
            try:
                decoded = base64.b64decode(credential, validate=True).decode()
            except ValueError:
                continue
            secrets |= {decoded, decoded.partition(":")[2]}
        elif any(word in key.upper() for word in ("TOKEN", "PASSWORD", "SECRET")):
            secrets.add(value)
    ordered = sorted((s for s in secrets if len(s) >= 8), key=len, reverse=True)

    def redact(text: str) -> str:
        text = hide_userinfo(text)
        for secret in ordered:
            text = text.replace(secret, "***")
        return text

    return redact


def _short(ref: str) -> str:
    return ref.removeprefix("refs/heads/").removeprefix("refs/tags/")


def _remote_lines(lines: Sequence[str]) -> list[str]:
    """What the remote said (hooks, protection rules): ``remote:`` lines with text."""
    out = [line for line in lines if line.startswith("remote:") and line[7:].strip()]
    return out[:30]


def _hint(ref: str, reason: str, said: str) -> str:
    """What to change, from the ref's kind and git's words."""
    name = _short(ref)
    text = f"{reason}\n{said}".lower()
    if any(s in text for s in _AUTH) and "protected" not in text:
        return _TOKEN_HINT
    if ref.startswith("refs/tags/"):
        if "already exists" in reason or reason in _RACE_REJECTED:
            return (
                f"the remote already has a tag {name} that differs from ours, and tags are "
                "never overwritten: fetch the remote's tags (git fetch --tags) and write again "
                "(a free name is then chosen)"
            )
        if any(s in reason for s in _GUARDED):
            return (
                f"tags like {name} are protected on the remote or a server hook guards them: "
                "let this job's identity create them (GitHub: the tag ruleset; GitLab: "
                "Settings > Repository > Protected tags, 'Allowed to create'), or push with a "
                "token whose user may"
            )
        return ""
    if any(s in reason for s in _GUARDED):
        return (
            f"branch {name} is protected on the remote or a server hook guards it: let this "
            "job's identity push to it (GitHub: the branch protection rule or ruleset that "
            "covers it; GitLab: Settings > Repository > Protected branches, 'Allowed to "
            "push'), or push with a token whose user may"
        )
    return ""


_TOKEN_HINT = (
    "the remote refused these credentials: push with a token that may write: on GitHub, "
    "`permissions: contents: write` for GITHUB_TOKEN (or a fine-grained token or GitHub App "
    "with Contents: write); on GitLab, a project or group access token with the "
    "write_repository scope (Developer role or higher) in GITOPS_TOKEN"
)


def _refused(where: str, failures: list[tuple[str, str]], said: list[str], done: list[str]) -> str:
    """One message: which refs, git's reason for each, the remote's lines, and a hint."""
    parts = [f"git push to {where} refused {', '.join(f'{r} ({why})' for r, why in failures)}"]
    parts += said
    if done:
        parts.append(f"(pushed: {', '.join(done)})")
    hints = dict.fromkeys(h for r, why in failures if (h := _hint(r, why, "\n".join(said))))
    parts += [f"hint: {h}" for h in hints]
    return "\n".join(parts)


class _Answer(NamedTuple):
    """git's answer for one ref, whoever read it (GitPython's ``PushInfo`` or ``--porcelain``):
    ``outcome`` is ok, up to date, rejected, remote rejected, remote failure or error."""

    ref: str
    outcome: str
    summary: str


def _from_info(info: PushInfo) -> _Answer:
    from git.remote import PushInfo

    flags = info.flags
    outcome = (
        "up to date"
        if flags & PushInfo.UP_TO_DATE
        else "rejected"
        if flags & PushInfo.REJECTED
        else "remote rejected"
        if flags & PushInfo.REMOTE_REJECTED
        else "remote failure"
        if flags & PushInfo.REMOTE_FAILURE
        else "error"
        if flags & PushInfo.ERROR
        else "ok"
    )
    return _Answer(info.remote_ref_string, outcome, info.summary.strip())


def _from_porcelain(line: str) -> _Answer | None:
    """``<flag> TAB <from>:<to> TAB <summary>``, as ``git push --porcelain`` prints each ref."""
    flag, _, rest = line.partition("\t")
    refs, _, summary = rest.partition("\t")
    if len(flag) != 1 or flag not in " +-*!=" or ":" not in refs:
        return None
    if flag == "=":
        outcome = "up to date"
    elif flag != "!":
        outcome = "ok"
    else:
        kinds = ("[rejected]", "[remote rejected]", "[remote failure]")
        outcome = next((k[1:-1] for k in kinds if summary.startswith(k)), "error")
    return _Answer(refs.rpartition(":")[2], outcome, summary.strip())


def _classify(answer: _Answer) -> tuple[Status | None, str]:
    """(status, git's reason); status None means refused."""
    summary = answer.summary
    reason = summary[summary.find("(") + 1 : summary.rfind(")")] if "(" in summary else summary
    if answer.outcome in ("ok", "up to date"):
        return ("pushed" if answer.outcome == "ok" else "up to date"), summary
    if answer.outcome == "rejected":  # a tag never moves: for a tag, any rejection is final
        tag = answer.ref.startswith("refs/tags/")
        return (None if tag or reason not in _RACE_REJECTED else "race"), reason
    race = answer.outcome == "remote rejected" and any(s in reason for s in _RACE_REMOTE)
    return ("race" if race else None), reason or summary


def _conclude(
    answers: list[_Answer],
    wanted: Sequence[str],
    where: str,
    lines: list[str],
    redact: Callable[[str], str],
) -> list[RefPush]:
    """The per-ref results, or ``PushRefused`` naming every refused ref (and what landed)."""
    said = [redact(x) for x in _remote_lines(lines)]
    results: list[RefPush] = []
    failures: list[tuple[str, str]] = []
    for answer in answers:
        status, reason = _classify(answer)
        if status is None:
            failures.append((answer.ref, redact(reason)))
        else:
            results.append(RefPush(answer.ref, status, redact(reason)))
    missing = set(wanted) - {r.ref for r in results} - {r for r, _ in failures}
    failures += [(ref, "git reported nothing for it") for ref in sorted(missing)]
    if failures:
        done = [_short(r.ref) for r in results if r.status != "race"]
        guarded = any(s in why for _, why in failures for s in _GUARDED)
        raise PushRefused(_refused(where, failures, said, done), guarded=guarded)
    return results


def _worth_keeping(line: str) -> bool:
    """git's errors and the remote's words, without the summary that only names the URL."""
    if line.startswith("error: failed to push some refs"):
        return False
    return line.startswith(("fatal:", "error:")) or bool(_remote_lines([line]))


def _failed(status: object, where: str, said: list[str]) -> PushError:
    """The whole push failed, no ref reported: refused credentials, or no way there."""
    kept = [line for line in said if _worth_keeping(line)]
    detail = "\n".join(kept[-30:]) or f"git exited with {status}"
    if any(s in detail.lower() for s in _AUTH):
        text = f"git push to {where} was refused:\n{detail}\nhint: {_TOKEN_HINT}"
        return PushRefused(text, credentials=True)
    if status == 128:
        return PushUnreachable(f"cannot reach {where} to push:\n{detail}")
    return PushError(f"git push to {where} failed:\n{detail}")


def _environment(env: Mapping[str, str] | None) -> dict[str, str]:
    return {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}


def push(
    repo: git.Repo,
    remote: str,
    refspecs: Sequence[tuple[str, str]],
    env: Mapping[str, str] | None = None,
    timeout: float = PUSH_TIMEOUT,
    no_verify: bool = False,
) -> list[RefPush]:
    """Push each (local ref, remote ref) pair with GitPython, never forced. Returns one
    ``RefPush`` per ref when each was pushed, was already there, or lost a race; raises
    ``PushRefused`` when any was refused, ``PushUnreachable`` when the remote could not be
    reached. ``no_verify``: skip the local pre-push hook, as GTO does for tags."""
    import logging

    import git

    logger = logging.getLogger("git.remote")
    if _quiet not in logger.filters:
        logger.addFilter(_quiet)
    redact = redactor(remote, env)
    where = redact(remote)
    lines = _line_collector()
    specs = [f"{src}:{dst}" for src, dst in refspecs]
    options = {"no_verify": True} if no_verify else {}
    try:
        infos = git.Remote(repo, remote).push(
            specs, progress=lines, env=_environment(env), kill_after_timeout=timeout, **options
        )
    except git.GitCommandError as exc:
        if exc.status == -9 or "kill_after_timeout" in str(exc.stderr):
            raise PushUnreachable(f"git push to {where}: no answer within {timeout:g} s") from None
        raise _failed(exc.status, where, [redact(x) for x in lines.lines]) from None
    answers = [_from_info(info) for info in infos]
    return _conclude(answers, [dst for _, dst in refspecs], where, lines.lines, redact)


def push_plain(
    root: Path,
    remote: str,
    refspecs: Sequence[tuple[str, str]],
    env: Mapping[str, str] | None = None,
    timeout: float = PUSH_TIMEOUT,
    no_verify: bool = False,
    options: Sequence[str] = (),
) -> list[RefPush]:
    """``push`` through one ``git push --porcelain`` process, read with the same rules: for a
    one-shot command (``--push`` of new tags), where importing GitPython costs more than the
    push itself (benchmarks/gitwrite.py). ``options``: push options (GitLab's ``ci.skip``)."""
    redact = redactor(remote, env)
    where = redact(remote)
    argv = ["git", "-C", str(root), "push", "--porcelain", *(["--no-verify"] if no_verify else [])]
    argv += [f"--push-option={option}" for option in options]
    argv += ["--", remote, *(f"{src}:{dst}" for src, dst in refspecs)]
    try:
        proc = subprocess.run(
            argv,
            capture_output=True,
            timeout=timeout,
            env={**os.environ, **_environment(env)},
            check=False,
        )
    except FileNotFoundError:
        raise PushError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise PushUnreachable(f"git push to {where}: no answer within {timeout:g} s") from None
    # git pads sideband lines with blanks (to wipe progress meters): strip them as GitPython does
    lines = [line.rstrip() for line in proc.stderr.decode("utf-8", "replace").splitlines()]
    out = proc.stdout.decode("utf-8", "replace").splitlines()
    answers = [a for line in out if (a := _from_porcelain(line)) is not None]
    if not answers:
        raise _failed(proc.returncode, where, [redact(x) for x in lines])
    return _conclude(answers, [dst for _, dst in refspecs], where, lines, redact)


def push_commit(
    repo: git.Repo,
    remote: str,
    commit: str,
    dst: str,
    env: Mapping[str, str] | None = None,
    timeout: float = PUSH_TIMEOUT,
) -> RefPush:
    """Push ``commit`` to the remote ref ``dst`` (a fast-forward or a new ref, never forced).

    GitPython reports per ref only for a named source, so the commit gets a private ref for the
    push: named after the commit, so that threads or processes pushing from one clone never
    push each other's commits, and removed afterwards.
    """
    from gitops.gitcommit import drop_ref, set_ref

    src = f"refs/gitops/outgoing/{commit}"
    set_ref(repo, src, commit)
    try:
        return push(repo, remote, [(src, dst)], env=env, timeout=timeout)[0]
    finally:
        drop_ref(repo, src)
