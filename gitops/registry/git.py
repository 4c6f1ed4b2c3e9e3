"""Fast, read-only access to what the registry needs from git.

Every tag with its tagger and peeled commit comes from one ``git for-each-ref`` call; file
contents at many commits come from one ``git cat-file --batch`` process. Nothing is read per tag:
that is what makes GTO slow (shared/reference/gto.md §6).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gitops.errors import GitopsError, UsageError

GIT_TIMEOUT = 120


class NotARepository(UsageError):
    pass


@dataclass(frozen=True, slots=True)
class CommitInfo:
    sha: str
    time: int
    offset: int  # seconds east of UTC
    author_name: str
    author_email: str
    committer_name: str
    committer_email: str
    message: str


@dataclass(frozen=True, slots=True)
class TagRecord:
    """One ``refs/tags/*`` entry, annotated or lightweight."""

    ref: str  # name under refs/tags/
    name: str  # the name written inside the tag object (``ref`` for lightweight tags)
    annotated: bool
    target: str  # the object the tag points at directly
    target_type: str
    tagger_name: str
    tagger_email: str
    time: int
    offset: int
    message: str
    commit: CommitInfo | None  # the commit behind the tag, when it is one


def run_git(
    repo: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    """Run git with an argv list and a timeout; a clear error instead of a traceback."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
    try:
        proc = subprocess.run(
            ["git", "-C", str(repo), *args],
            input=stdin,
            capture_output=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitopsError("git is not installed or not on PATH") from exc
    except subprocess.TimeoutExpired as exc:
        raise GitopsError(f"git {args[0]} timed out after {GIT_TIMEOUT} s in {repo}") from exc
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip()
        if "not a git repository" in message:
            raise NotARepository(f"{repo} is not a git repository")
        raise GitopsError(f"git {args[0]} failed in {repo}: {message}")
    return proc.stdout


def repo_root(path: Path) -> Path:
    """The top of the work tree that contains ``path``."""
    if not path.is_dir():
        raise NotARepository(f"{path} is not a directory")
    out = run_git(path, "rev-parse", "--show-toplevel").decode("utf-8", "surrogateescape")
    return Path(out.strip() or path)


def _parse_raw_date(raw: str) -> tuple[int, int]:
    """``1700000000 +0530`` -> (epoch seconds, offset seconds east of UTC)."""
    if not raw:
        return 0, 0
    stamp, _, zone = raw.partition(" ")
    sign = -1 if zone.startswith("-") else 1
    digits = zone.lstrip("+-").rjust(4, "0")
    return int(stamp), sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


_COMMIT_FIELDS = (
    "objectname",
    "committerdate:raw",
    "authorname",
    "authoremail:trim",
    "committername",
    "committeremail:trim",
    "contents",
)
_FIELDS = (
    "refname",
    "objecttype",
    "objectname",
    "tag",
    "*objecttype",
    "taggername",
    "taggeremail:trim",
    "taggerdate:raw",
    "contents",
    "contents:signature",
    *(f"*{f}" for f in _COMMIT_FIELDS),  # the commit an annotated tag points at
    *_COMMIT_FIELDS,  # a lightweight tag is the commit itself
)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def read_tags(repo: Path) -> list[TagRecord]:
    """All tags, sorted by name as GTO lists them, in one ``git for-each-ref`` call."""
    fmt = "%00".join(f"%({f})" for f in _FIELDS) + "%00"
    out = run_git(repo, "for-each-ref", f"--format={fmt}", "refs/tags/")
    fields = out.split(b"\0")
    n = len(_FIELDS)
    records: list[TagRecord] = []
    for start in range(0, len(fields) - n + 1, n):
        row = [_decode(f) for f in fields[start : start + n]]
        if start:
            row[0] = row[0].removeprefix("\n")  # the newline git ends each record with
        records.append(_record(row))
    records.sort(key=lambda r: r.ref)
    return records


def _commit(values: list[str]) -> CommitInfo | None:
    sha, date, aname, aemail, cname, cemail, message = values
    if not sha:
        return None
    time, offset = _parse_raw_date(date)
    return CommitInfo(sha, time, offset, aname, aemail, cname, cemail, message)


def _record(row: list[str]) -> TagRecord:
    refname, otype, oname, inner_name, peeled_type = row[:5]
    tagger_name, tagger_email, tagger_date, contents, signature = row[5:10]
    k = len(_COMMIT_FIELDS)
    peeled_commit = row[10 : 10 + k]
    own_commit = row[10 + k : 10 + 2 * k]
    ref = refname.removeprefix("refs/tags/")
    if otype == "tag":
        time, offset = _parse_raw_date(tagger_date)
        if signature and contents.endswith(signature):
            contents = contents[: -len(signature)]
        commit = _commit(peeled_commit) if peeled_type == "commit" else None
        target = commit.sha if commit else ""
        return TagRecord(
            ref=ref,
            name=inner_name or ref,
            annotated=True,
            target=target,
            target_type=peeled_type,
            tagger_name=tagger_name,
            tagger_email=tagger_email,
            time=time,
            offset=offset,
            message=contents,
            commit=commit,
        )
    commit = _commit(own_commit) if otype == "commit" else None
    return TagRecord(
        ref=ref,
        name=ref,
        annotated=False,
        target=oname,
        target_type=otype,
        tagger_name=commit.committer_name if commit else "",
        tagger_email=commit.committer_email if commit else "",
        time=commit.time if commit else 0,
        offset=commit.offset if commit else 0,
        message=commit.message if commit else "",
        commit=commit,
    )


def _parse_commit_object(sha: str, body: bytes) -> CommitInfo:
    header, _, message = body.partition(b"\n\n")
    author = committer = ("", "", 0, 0)
    for line in header.split(b"\n"):
        key, _, value = line.partition(b" ")
        if key in (b"author", b"committer"):
            text = _decode(value)
            ident, _, date = text.rpartition("> ")
            name, _, email = ident.partition(" <")
            parsed = (name, email, *_parse_raw_date(date))
            if key == b"author":
                author = parsed
            else:
                committer = parsed
    return CommitInfo(
        sha=sha,
        time=committer[2],
        offset=committer[3],
        author_name=author[0],
        author_email=author[1],
        committer_name=committer[0],
        committer_email=committer[1],
        message=_decode(message),
    )


@dataclass(frozen=True, slots=True)
class Blobs:
    """Results of one batch read: the HEAD commit and a file's content at many commits."""

    head: CommitInfo | None
    files: dict[str, bytes | None]  # commit sha -> content (None when the file is absent)


def read_files_at(repo: Path, path: str, commits: Iterable[str]) -> Blobs:
    """HEAD's commit and ``path`` at each commit (and at HEAD), in one ``git cat-file`` process."""
    wanted = list(dict.fromkeys(commits))
    specs = ["HEAD", f"HEAD:{path}"] + [f"{sha}:{path}" for sha in wanted]
    out = run_git(repo, "cat-file", "--batch", stdin=("\n".join(specs) + "\n").encode())
    pos = 0
    results: list[tuple[str, bytes, str] | None] = []
    for _ in specs:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].split(b" ")
        pos = eol + 1
        if len(header) == 3 and header[1] in (b"blob", b"commit", b"tree", b"tag"):
            size = int(header[2])
            results.append((header[1].decode(), out[pos : pos + size], header[0].decode()))
            pos += size + 1
        else:  # "<spec> missing" or "<spec> ambiguous"
            results.append(None)

    def blob(result: tuple[str, bytes, str] | None) -> bytes | None:
        return result[1] if result is not None and result[0] == "blob" else None

    files = {sha: blob(result) for sha, result in zip(wanted, results[2:], strict=True)}
    head = None
    if results[0] is not None and results[0][0] == "commit":
        head = _parse_commit_object(results[0][2], results[0][1])
        files[head.sha] = blob(results[1])
    return Blobs(head=head, files=files)
