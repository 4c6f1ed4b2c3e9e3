"""Fast, read-only access to what the registry needs from git.

Every tag with its tagger and peeled commit comes from one ``git for-each-ref`` call; file
contents at many commits come from one ``git cat-file --batch`` process. Nothing is read per tag:
that is what makes GTO slow (shared/reference/gto.md §6).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE
from typing import NamedTuple

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


class TagRecord(NamedTuple):
    """One ``refs/tags/*`` entry, annotated or lightweight (a tuple: 100k of them build fast)."""

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


def _git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(extra or {})}


def run_git(
    repo: Path, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    """Run git with an argv list and a timeout; a clear error instead of a traceback."""
    env = _git_env(env)
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


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def read_tags(repo: Path, patterns: Iterable[str] | None = None) -> list[TagRecord]:
    """All tags (or those matching ``patterns``, ``git for-each-ref`` globs), sorted by name as
    GTO lists them.

    ``git for-each-ref`` lists names and object ids only (no object is opened for that); one
    ``git cat-file --batch`` reads the tag objects, one more each distinct commit behind them,
    once. The fields are those ``for-each-ref``'s ``%(tag)``, ``%(taggername)``,
    ``%(taggeremail:trim)``, ``%(taggerdate:raw)``, ``%(contents)`` minus
    ``%(contents:signature)`` (and the same of the commit) would give.
    """
    wanted = ["refs/tags/"] if patterns is None else list(patterns)
    if not wanted:
        return []
    refs: list[str] = []
    oids: list[str] = []
    commits: dict[str, CommitInfo] = {}
    tags: dict[str, tuple[str, str, str, str, str, int, int, str]] = {}
    types: dict[str, str] = {}
    for oid, otype, body, refname in _listed_objects(repo, wanted):
        oids.append(oid)
        refs.append(_decode(refname).removeprefix("refs/tags/"))
        if oid in types:
            continue  # two refs to one object
        types[oid] = otype
        if otype == "tag":
            tags[oid] = _parse_tag_object(body)
        elif otype == "commit":
            commits[oid] = _parse_commit(oid, body)
    missing = {t[1] for t in tags.values() if t[2] == "commit" and t[1] not in commits}
    for oid, otype, body in _cat_file(repo, missing) if missing else ():
        if otype == "commit":
            commits[oid] = _parse_commit(oid, body)
    records: list[TagRecord] = []
    for ref, oid in zip(refs, oids, strict=True):
        otype = types.get(oid, "")
        tag = tags.get(oid)
        if tag is not None:
            inner_name, target, target_type, tagger_name, tagger_email, time, offset, message = tag
            commit = commits.get(target) if target_type == "commit" else None
            records.append(
                TagRecord(
                    ref=ref,
                    name=inner_name or ref,
                    annotated=True,
                    target=commit.sha if commit else "",
                    target_type=target_type,
                    tagger_name=tagger_name,
                    tagger_email=tagger_email,
                    time=time,
                    offset=offset,
                    message=message,
                    commit=commit,
                )
            )
            continue
        commit = commits.get(oid) if otype == "commit" else None
        records.append(
            TagRecord(
                ref=ref,
                name=ref,
                annotated=False,
                target=oid,
                target_type=otype,
                tagger_name=commit.committer_name if commit else "",
                tagger_email=commit.committer_email if commit else "",
                time=commit.time if commit else 0,
                offset=commit.offset if commit else 0,
                message=commit.message if commit else "",
                commit=commit,
            )
        )
    records.sort(key=lambda r: r.ref)
    return records


def _listed_objects(repo: Path, patterns: list[str]) -> Iterator[tuple[str, str, bytes, bytes]]:
    """(object id, type, content, refname) of each ref ``git for-each-ref`` lists, in its order.

    for-each-ref (names and ids only) is piped straight into one ``git cat-file --batch``, and
    objects are parsed here while git is still writing: the three run side by side.
    """
    env = _git_env()
    argv = ["git", "-C", str(repo)]
    fmt = "--format=%(objectname) %(refname)"
    batch = "--batch=%(objectname) %(objecttype) %(objectsize) %(rest)"
    try:
        lister = subprocess.Popen(
            [*argv, "for-each-ref", fmt, *patterns], stdout=PIPE, stderr=PIPE, env=env
        )
    except FileNotFoundError as exc:
        raise GitopsError("git is not installed or not on PATH") from exc
    with lister:
        assert lister.stdout is not None
        with subprocess.Popen(
            [*argv, "cat-file", batch, "--buffer"],
            stdin=lister.stdout,
            stdout=PIPE,
            stderr=PIPE,
            env=env,
        ) as catter:
            lister.stdout.close()
            assert catter.stdout is not None
            fd = catter.stdout.fileno()
            buf, pos = b"", 0
            while True:
                eol = buf.find(b"\n", pos)
                if eol >= 0:
                    header = buf[pos:eol].split(b" ", 3)
                    if len(header) == 4:
                        end = eol + 1 + int(header[2])
                        if end < len(buf):
                            yield (
                                header[0].decode(),
                                header[1].decode(),
                                buf[eol + 1 : end],
                                header[3],
                            )
                            pos = end + 1
                            continue
                    else:  # "<id> missing": a ref to an object that is not there
                        pos = eol + 1
                        continue
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                buf = buf[pos:] + chunk
                pos = 0
            for proc, what in ((catter, "cat-file"), (lister, "for-each-ref")):
                try:
                    code = proc.wait(timeout=GIT_TIMEOUT)
                except subprocess.TimeoutExpired as exc:
                    proc.kill()
                    raise GitopsError(f"git {what} timed out after {GIT_TIMEOUT} s") from exc
                if code != 0:
                    assert proc.stderr is not None
                    message = _decode(proc.stderr.read()).strip()
                    if "not a git repository" in message:
                        raise NotARepository(f"{repo} is not a git repository")
                    raise GitopsError(f"git {what} failed in {repo}: {message}")


def _cat_file(repo: Path, oids: Iterable[bytes | str]) -> Iterable[tuple[str, str, bytes]]:
    """(object id, type, content) of each object, from one ``git cat-file --batch``."""
    ids = [o.encode() if isinstance(o, str) else o for o in oids]
    out = run_git(repo, "cat-file", "--batch", "--buffer", stdin=b"\n".join(ids) + b"\n")
    pos, end = 0, len(out)
    while pos < end:
        eol = out.index(b"\n", pos)
        header = out[pos:eol].split(b" ")
        pos = eol + 1
        if len(header) == 3:
            size = int(header[2])
            yield header[0].decode(), header[1].decode(), out[pos : pos + size]
            pos += size + 1
        # else "<id> missing": nothing to read


# What git's ref-filter takes for a signature line, of any format (gpg-interface.c).
_SIGNATURE_STARTS = (
    b"-----BEGIN PGP SIGNATURE-----",
    b"-----BEGIN PGP MESSAGE-----",
    b"-----BEGIN SIGNED MESSAGE-----",
    b"-----BEGIN SSH SIGNATURE-----",
)


def _split_object(body: bytes) -> tuple[list[bytes], bytes]:
    """Header lines and message as ref-filter sees them: up to a NUL, blank lines skipped."""
    nul = body.find(b"\0")
    if nul >= 0:
        body = body[:nul]
    cut = body.find(b"\n\n")
    if cut < 0:
        return body.rstrip(b"\n").split(b"\n"), b""
    return body[:cut].split(b"\n"), body[cut + 2 :].lstrip(b"\n")


def _header(lines: list[bytes], key: bytes) -> bytes | None:
    """The value of the first header line ``key value`` (ref-filter's find_wholine)."""
    for line in lines:
        if line.startswith(key) and line[len(key) : len(key) + 1] == b" ":
            return line[len(key) + 1 :]
    return None


def _person(value: bytes | None) -> tuple[str, str, int, int]:
    """``Name <email> 1700000000 +0530`` -> name, email, epoch, offset (ref-filter's way)."""
    if value is None:
        return "", "", 0, 0
    lt = value.find(b" <")
    name = _decode(value[:lt]) if lt >= 0 else ""
    email = ""
    start = value.find(b"<")
    if start >= 0:
        stop = value.find(b">", start)
        email = _decode(value[start + 1 : stop]) if stop >= 0 else ""
    time = offset = 0
    eoemail = value.find(b"> ")
    if eoemail >= 0:
        m = _DATE_RE.match(value, eoemail + 2)
        if m is not None:
            time, zone = int(m[1]), int(m[2] or 0)
            time, offset = _parse_raw_date(f"{time} {zone:+05d}")
    return name, email, time, offset


_DATE_RE = re.compile(rb"[ \t]*\+?([0-9]+)[ \t]*([+-]?[0-9]+)?")


def _strip_signature(message: bytes) -> bytes:
    """Cut at the last line that starts a signature (git's ``parse_signed_buffer``)."""
    if b"-----BEGIN " not in message:
        return message
    cut = -1
    for start in _SIGNATURE_STARTS:
        at = message.rfind(b"\n" + start)
        if at >= 0:
            cut = max(cut, at + 1)
        elif message.startswith(start):
            cut = max(cut, 0)
    return message[:cut] if cut >= 0 else message


# A tag object as git writes it: object, type, tag, tagger (no '<' or '>' in the name, none in
# the email, a +hhmm zone), then the message. Anything else takes the general path below.
_PLAIN_TAG_RE = re.compile(
    rb"object ([0-9a-f]+)\ntype ([a-z]+)\ntag ([^\n]*)\n"
    rb"tagger ([^<>\n]*) <([^<>\n]*)> ([0-9]+) ([+-])([0-9][0-9])([0-9][0-9])\n\n"
)


def _parse_tag_object(body: bytes) -> tuple[str, str, str, str, str, int, int, str]:
    """(tag name, target, target type, tagger name, email, epoch, offset, message)."""
    m = _PLAIN_TAG_RE.match(body)
    if m is not None and b"\0" not in body:
        zone = int(m[8]) * 3600 + int(m[9]) * 60
        return (
            _decode(m[3]),
            m[1].decode(),
            m[2].decode(),
            _decode(m[4]),
            _decode(m[5]),
            int(m[6]),
            -zone if m[7] == b"-" else zone,
            _decode(_strip_signature(body[m.end() :].lstrip(b"\n"))),
        )
    lines, message = _split_object(body)
    target = _decode(_header(lines, b"object") or b"")
    target_type = _decode(_header(lines, b"type") or b"")
    name = _decode(_header(lines, b"tag") or b"")
    message = _strip_signature(message)
    return (name, target, target_type, *_person(_header(lines, b"tagger")), _decode(message))


def _parse_commit(sha: str, body: bytes) -> CommitInfo:
    """A commit as ref-filter reads it (``%(authorname)``, ``%(committerdate:raw)``, ...)."""
    lines, message = _split_object(body)
    author_name, author_email, _, _ = _person(_header(lines, b"author"))
    committer_name, committer_email, time, offset = _person(_header(lines, b"committer"))
    return CommitInfo(
        sha=sha,
        time=time,
        offset=offset,
        author_name=author_name,
        author_email=author_email,
        committer_name=committer_name,
        committer_email=committer_email,
        message=_decode(message),
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
