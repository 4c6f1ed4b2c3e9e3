"""Fast, read-only access to what the registry needs from git.

Every tag with its tagger and peeled commit comes from one ``git for-each-ref`` call; file
contents at many commits come from one ``git cat-file --batch`` process. Nothing is read per tag:
that is what makes GTO slow (shared/reference/gto.md §6).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from subprocess import PIPE
from typing import IO, Any, NamedTuple

from gitops.errors import GitopsError, UsageError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

GIT_TIMEOUT = 120


class NotARepository(UsageError):
    pass


class CommitInfo(NamedTuple):
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
    message: str  # stripped, as GTO shows it
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
    ``%(contents:signature)`` (and the same of the commit) would give; messages are stripped, as
    GTO shows them.
    """
    wanted = ["refs/tags/"] if patterns is None else list(patterns)
    if not wanted:
        return []
    parts = _TagParser().parse(_batch_output(repo, wanted))
    commits = {c.sha: c for c in parts.commits}
    missing = {p[3] for p in parts.tags if p[4] == "commit" and p[3] not in commits}
    parse_commit = _CommitParser().parse
    for oid, otype, body in _cat_file(repo, missing) if missing else ():
        if otype == "commit":
            commits[oid] = parse_commit(oid, body)
    records = [TagRecord(*p, commits.get(p[3]) if p[4] == "commit" else None) for p in parts.tags]
    for ref, commit in parts.lightweight:
        records.append(_lightweight(ref, commit))
    records.sort(key=lambda r: r.ref)
    return records


def _lightweight(ref: str, target: CommitInfo | tuple[str, str]) -> TagRecord:
    """A ref straight to an object: dated and signed by its commit, if it is one."""
    if not isinstance(target, CommitInfo):
        oid, otype = target
        return TagRecord(ref, ref, False, oid, otype, "", "", 0, 0, "", None)
    return TagRecord(
        ref,
        ref,
        False,
        target.sha,
        "commit",
        target.committer_name,
        target.committer_email,
        target.time,
        target.offset,
        target.message.strip(),
        target,
    )


# One ``cat-file --batch`` entry holding a tag object as git writes it: the batch header (id,
# type, size, ref name), then object, type, tag and tagger (no '<' or '>' in the name, none in
# the email, a +hhmm zone) and the blank line before the message. Anything else takes the
# general path (``_parse_tag_object``).
_PLAIN_TAG_ENTRY = re.compile(
    rb"[0-9a-f]+ tag ([0-9]+) refs/tags/([^\n]*)\n"
    rb"object ([0-9a-f]+\ntype [a-z]+)\ntag ([^\n]*)\n"
    rb"tagger ([^<>\n]* <[^<>\n]*>) ([0-9]+) ([+-][0-9]{4})\n\n"
)
_WHITESPACE = b" \t\n\r\x0b\x0c"
# (ref, name, annotated, target, target type, tagger name, email, time, offset, message)
_TagParts = tuple[str, str, bool, str, str, str, str, int, int, str]


class _TagParser:
    """Parses ``cat-file --batch`` output into tag parts, sharing repeated values.

    100k tags have a few taggers, zones and commits: each is decoded once and shared, which
    saves both the decoding and a third of the memory.
    """

    def __init__(self) -> None:
        self.tags: list[_TagParts] = []
        self.commits: list[CommitInfo] = []  # read because a lightweight tag points at them
        self.lightweight: list[tuple[str, CommitInfo | tuple[str, str]]] = []
        self._targets: dict[bytes, tuple[str, str]] = {}  # "<id>\ntype <type>" -> id, type
        self._people: dict[bytes, tuple[str, str]] = {}  # "Name <email>" -> name, email
        self._zones: dict[bytes, int] = {}  # "+0530" -> 19800

    def parse(self, chunks: Iterable[bytes]) -> _TagParser:
        """Parse entries as output arrives; an entry cut between chunks waits for the next.

        The loop is this module's hot spot (once per tag): plain tag objects are read by one
        regex match, with lookups inlined; anything else goes to ``_general``.
        """
        entry, tags = _PLAIN_TAG_ENTRY.match, self.tags
        targets, people, zones = self._targets, self._people, self._zones
        buf, pos = b"", 0
        for chunk in chunks:
            buf = buf[pos:] + chunk if pos < len(buf) else chunk
            pos, stop = 0, len(buf)
            nul_free = b"\0" not in buf  # else each object is checked (ref-filter stops at NUL)
            while pos < stop:
                m = entry(buf, pos)
                if m is not None:
                    size, ref_raw, target_raw, name_raw, person_raw, time, zone_raw = m.groups()
                    body_start = m.end(2) + 1
                    body_end = body_start + int(size)
                    if body_end >= stop:
                        break  # the rest of this entry is in the next chunk
                    message_start = m.end()
                    if message_start <= body_end and (
                        nul_free or buf.find(b"\0", body_start, body_end) < 0
                    ):
                        message = buf[message_start:body_end].rstrip(_WHITESPACE)
                        if b"-----BEGIN " in message:
                            message = _strip_signature(message)
                        target, target_type = targets.get(target_raw) or self._target(target_raw)
                        tagger, email = people.get(person_raw) or self._person(person_raw)
                        offset = zones.get(zone_raw)
                        if offset is None:
                            offset = zones[zone_raw] = _parse_raw_date(f"0 {zone_raw.decode()}")[1]
                        ref = ref_raw.decode("utf-8", "replace")
                        tags.append(
                            (
                                ref,
                                ref if name_raw == ref_raw else _decode(name_raw) or ref,
                                True,
                                target,
                                target_type,
                                tagger,
                                email,
                                int(time),
                                offset,
                                message.decode("utf-8", "replace").strip(),
                            )
                        )
                        pos = body_end + 1
                        continue
                end = self._general(buf, pos, stop)
                if end is None:
                    break
                pos = end
        if pos < len(buf):
            raise GitopsError("git cat-file output ended in the middle of an object")
        return self

    def _target(self, raw: bytes) -> tuple[str, str]:
        oid, _, otype = raw.partition(b"\ntype ")
        target = self._targets[raw] = (oid.decode(), otype.decode())
        return target

    def _person(self, raw: bytes) -> tuple[str, str]:
        name, _, email = raw[:-1].partition(b" <")
        person = self._people[raw] = (_decode(name), _decode(email))
        return person

    def _general(self, buf: bytes, pos: int, stop: int) -> int | None:
        """Any entry: an unusual tag object, a commit, another object, or a missing one.
        Where the next entry starts; ``None`` if this one is not whole in ``buf[:stop]``."""
        eol = buf.find(b"\n", pos, stop)
        if eol < 0:
            return None
        header = buf[pos:eol].split(b" ", 3)
        if len(header) != 4:  # "<id> missing": a ref to an object that is not there
            return eol + 1
        oid, otype, refname = header[0].decode(), header[1].decode(), header[3]
        end = eol + 1 + int(header[2])
        if end >= stop:
            return None
        body = buf[eol + 1 : end]
        ref = _decode(refname).removeprefix("refs/tags/")
        if otype == "tag":
            name, target, target_type, tagger_name, tagger_email, time, offset, message = (
                _parse_tag_object(body)
            )
            self.tags.append(
                (
                    ref,
                    name or ref,
                    True,
                    target,
                    target_type,
                    tagger_name,
                    tagger_email,
                    time,
                    offset,
                    message.strip(),
                )
            )
        elif otype == "commit":
            commit = _parse_commit(oid, body)
            self.commits.append(commit)
            self.lightweight.append((ref, commit))
        else:
            self.lightweight.append((ref, (oid, otype)))
        return end + 1


def _batch_output(repo: Path, patterns: list[str]) -> Iterator[bytes]:
    """``cat-file --batch`` output on each ref ``git for-each-ref`` lists, as it comes.

    for-each-ref (names and ids only) is piped straight into one ``git cat-file --batch``, and
    entries are parsed while git is still writing: the three run side by side.
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
            _widen_pipe(fd)
            while chunk := os.read(fd, 1 << 20):
                yield chunk
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


def _widen_pipe(fd: int) -> None:
    """Let git write up to 1 MiB ahead (Linux; elsewhere the default stays): fewer, larger
    reads, and git is not stopped every 64 KiB while the parser catches up."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if set_size is not None:
        with contextlib.suppress(OSError):  # over the system's pipe-max-size: keep the default
            fcntl.fcntl(fd, set_size, 1 << 20)


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


def _stream_objects(repo: Path, oids: list[str]) -> Iterator[tuple[str, str, bytes]]:
    """(object id, type, content) of each object, from one ``git cat-file --batch``, each
    content read straight into its own bytes (a file at hundreds of commits can be tens of MB:
    never all of it in one buffer and again in slices)."""
    if not oids:
        return
    env = _git_env()
    try:
        proc = subprocess.Popen(
            ["git", "-C", str(repo), "cat-file", "--batch"],
            stdin=PIPE,
            stdout=PIPE,
            stderr=PIPE,
            env=env,
            bufsize=1 << 20,
        )
    except FileNotFoundError as exc:
        raise GitopsError("git is not installed or not on PATH") from exc
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stdin = proc.stdin
    feeder = threading.Thread(target=_feed, args=(stdin, oids), daemon=True)
    feeder.start()  # git stops reading while its output waits: write from another thread
    with proc:
        for _ in oids:
            header = proc.stdout.readline().split()
            if len(header) >= 2 and header[-1] in (b"missing", b"ambiguous"):
                continue  # a name may hold spaces: only its last word is git's
            if len(header) == 3 and header[2].isdigit():
                size = int(header[2])
                body = proc.stdout.read(size)
                proc.stdout.read(1)  # the LF after each object
                if len(body) != size:
                    break
                yield header[0].decode(), header[1].decode(), body
            else:  # git stopped
                break
        feeder.join(GIT_TIMEOUT)
        try:
            code = proc.wait(timeout=GIT_TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            raise GitopsError(f"git cat-file timed out after {GIT_TIMEOUT} s") from exc
        if code != 0:
            message = _decode(proc.stderr.read()).strip()
            raise GitopsError(f"git cat-file failed in {repo}: {message}")


def _feed(stdin: IO[bytes], oids: list[str]) -> None:
    with contextlib.suppress(BrokenPipeError, OSError), stdin:
        stdin.write(("\n".join(oids) + "\n").encode())


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


def _parse_tag_object(body: bytes) -> tuple[str, str, str, str, str, int, int, str]:
    """(tag name, target, target type, tagger name, email, epoch, offset, message), read the
    general way: ``_TagParser.parse`` has already taken the plain objects."""
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


# A commit object as git writes it: tree, parents, author and committer (no '<' or '>' in names,
# none in emails, a +hhmm zone), then the blank line before the message. Anything else (other
# headers, a signature, odd dates) takes the general path (``_parse_commit``).
_PLAIN_COMMIT = re.compile(
    rb"tree [0-9a-f]+\n(?:parent [0-9a-f]+\n)*"
    rb"author ([^<>\n]*) <([^<>\n]*)> [0-9]+ [+-][0-9]{4}\n"
    rb"committer ([^<>\n]*) <([^<>\n]*)> ([0-9]+) ([+-][0-9]{4})\n\n"
)


class _CommitParser:
    """``_parse_commit`` for many commits: plain ones by one regex, with names, emails and
    zones decoded once each (tens of thousands of commits have a few authors)."""

    def __init__(self) -> None:
        self._text: dict[bytes, str] = {}
        self._zones: dict[bytes, int] = {}

    def parse(self, sha: str, body: bytes) -> CommitInfo:
        m = _PLAIN_COMMIT.match(body)
        if m is None or b"\0" in body:
            return _parse_commit(sha, body)
        text, zones = self._text, self._zones
        author, author_email, committer, committer_email, time, zone = m.groups()
        offset = zones.get(zone)
        if offset is None:
            offset = zones[zone] = _parse_raw_date(f"0 {zone.decode()}")[1]
        return CommitInfo(
            sha,
            int(time),
            offset,
            text.get(author) or text.setdefault(author, _decode(author)),
            text.get(author_email) or text.setdefault(author_email, _decode(author_email)),
            text.get(committer) or text.setdefault(committer, _decode(committer)),
            text.get(committer_email) or text.setdefault(committer_email, _decode(committer_email)),
            _decode(body[m.end() :].lstrip(b"\n")),
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


class Blobs(NamedTuple):
    """A file at many commits, each distinct content read once, and the HEAD commit."""

    head: CommitInfo | None
    files: dict[str, str | None]  # commit sha -> blob id of the file there (None: absent)
    contents: dict[str, Any]  # blob id -> content (or what ``convert`` made of it)

    def content_at(self, sha: str) -> Any:
        blob = self.files.get(sha)
        return None if blob is None else self.contents[blob]


_OBJECT_TYPES = (b"blob", b"commit", b"tree", b"tag")


class BlobIds:
    """``path``'s blob id at HEAD and at many commits, asked of one ``git cat-file
    --batch-check`` that runs (in a thread) while the caller goes on: resolving
    ``<commit>:<path>`` for tens of thousands of commits takes git a while."""

    def __init__(self, repo: Path, path: str, commits: Iterable[str]) -> None:
        self.repo, self.path = repo, path
        self.commits = list(dict.fromkeys(commits))
        specs = ["HEAD", f"HEAD:{path}"] + [f"{sha}:{path}" for sha in self.commits]
        self._stdin = ("\n".join(specs) + "\n").encode()
        self._out: bytes | BaseException = b""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._out = run_git(self.repo, "cat-file", "--batch-check", "--buffer",
                                stdin=self._stdin)  # fmt: skip
        except BaseException as exc:  # raised in the caller's thread, by ``found``
            self._out = exc

    def found(self) -> list[tuple[str, bytes] | None]:
        """(object id, type) at HEAD, of HEAD:path, then of each commit's path, if any."""
        self._thread.join()
        if isinstance(self._out, BaseException):
            raise self._out
        count = len(self.commits) + 2
        found: list[tuple[str, bytes] | None] = []
        for line in self._out.split(b"\n")[:count]:
            # "<id> <type> <size>", or "<spec> missing" / "<spec> ambiguous" (specs hold spaces)
            oid, _, rest = line.partition(b" ")
            otype, _, size = rest.partition(b" ")
            if otype in _OBJECT_TYPES and size.isdigit():
                found.append((oid.decode(), otype))
            else:
                found.append(None)
        if len(found) != count:
            raise GitopsError(f"git cat-file --batch-check answered {len(found)} of {count}")
        return found


def read_files_at(
    repo: Path,
    path: str,
    commits: Iterable[str],
    convert: Callable[[bytes, str], Any] | None = None,
    ids: BlobIds | None = None,
) -> Blobs:
    """HEAD's commit and ``path`` at each commit (and at HEAD), in two ``git cat-file`` calls.

    A file that rarely changes is the same blob at thousands of commits: its blob id at each
    commit is asked first (``--batch-check``, a line each; ``ids`` if the caller started it,
    for these commits or more), then each distinct blob and the HEAD commit are read once
    (``--batch``). With ``convert``, ``convert(content, commit)`` is kept instead of each
    content (``commit``: the first of ``commits``, then HEAD, that has it), as it arrives:
    hundreds of versions of a file are never all in memory at once.
    """
    wanted = list(dict.fromkeys(commits))
    if ids is None or ids.path != path or not set(wanted) <= set(ids.commits):
        ids = BlobIds(repo, path, wanted)
    found = ids.found()
    at = dict(zip(ids.commits, found[2:], strict=True))

    def blob_id(result: tuple[str, bytes] | None) -> str | None:
        return result[0] if result is not None and result[1] == b"blob" else None

    files = {sha: blob_id(at[sha]) for sha in wanted}
    head_id = found[0][0] if found[0] is not None and found[0][1] == b"commit" else None
    head_blob = blob_id(found[1])
    blobs = {b for b in files.values() if b is not None}
    if head_blob is not None:
        blobs.add(head_blob)
    first: dict[str, str] = {}  # blob id -> the first commit that has it
    for sha, blob in files.items():
        if blob is not None:
            first.setdefault(blob, sha)
    objects = [head_id] if head_id is not None else []
    contents: dict[str, Any] = {}
    head = None
    for oid, otype, body in _stream_objects(repo, objects + sorted(blobs)):
        if otype == "commit" and oid == head_id:
            head = _parse_commit_object(oid, body)
            if head_blob is not None:
                first.setdefault(head_blob, head.sha)
        elif otype == "blob":
            contents[oid] = body if convert is None else convert(body, first.get(oid, ""))
    if head is not None:
        files[head.sha] = head_blob
    return Blobs(head=head, files=files, contents=contents)


class PathAt(NamedTuple):
    """What ``<commit>:<path>`` names: its object id, type and size (``content`` for blobs no
    bigger than the limit asked for; ``None`` for bigger ones, trees and other objects)."""

    oid: str
    type: str  # "blob", "tree", "commit" (a submodule whose commit is here), ...
    size: int
    content: bytes | None


def read_paths_at(
    repo: Path, specs: Iterable[str], max_size: int | None = None
) -> dict[str, PathAt | None]:
    """``spec -> PathAt`` (None: no such path there) for ``<commit>:<path>`` specs, in two git
    processes whatever their number: one ``cat-file --batch-check`` names the objects, one
    ``cat-file --batch`` reads each distinct blob once (a file unchanged at fifty commits is
    one blob), skipping blobs over ``max_size`` bytes. No checkout, nothing per file.

    A spec git cannot take on one line (a path with a newline) is answered None.
    """
    found = objects_at(repo, specs)
    contents = dict(read_blobs(repo, blobs_to_read(found.values(), max_size)))
    return {
        spec: None if at is None else at._replace(content=contents.get(at.oid))
        for spec, at in found.items()
    }


def objects_at(repo: Path, specs: Iterable[str]) -> dict[str, PathAt | None]:
    """What each ``<commit>:<path>`` names (``content`` not read), from one ``git cat-file
    --batch-check``; None where there is no such path."""
    wanted = list(dict.fromkeys(specs))
    asked = [s for s in wanted if "\n" not in s and "\r" not in s]
    found: dict[str, PathAt | None] = dict.fromkeys(wanted)
    if not asked:
        return found
    out = run_git(repo, "cat-file", "--batch-check", "--buffer", stdin=_spec_lines(asked))
    lines = out.split(b"\n")
    if len(lines) < len(asked):
        raise GitopsError(f"git cat-file --batch-check answered {len(lines)} of {len(asked)}")
    for spec, line in zip(asked, lines, strict=False):
        # "<id> <type> <size>", or "<spec> missing" / "<spec> ambiguous" (specs hold spaces)
        oid, _, rest = line.partition(b" ")
        otype, _, size = rest.partition(b" ")
        if otype in _OBJECT_TYPES and size.isdigit():
            found[spec] = PathAt(oid.decode(), otype.decode(), int(size), None)
    return found


def blobs_to_read(found: Iterable[PathAt | None], max_size: int | None = None) -> list[str]:
    """The distinct blob ids among ``found``, no bigger than ``max_size``, sorted."""
    return sorted(
        {
            at.oid
            for at in found
            if at is not None and at.type == "blob" and (max_size is None or at.size <= max_size)
        }
    )


def read_blobs(repo: Path, oids: list[str]) -> Iterator[tuple[str, bytes]]:
    """(blob id, content) of each blob as one ``git cat-file --batch`` streams it: a caller
    that parses each as it comes never holds them all."""
    for oid, otype, body in _stream_objects(repo, oids):
        if otype == "blob":
            yield oid, body


def _spec_lines(specs: list[str]) -> bytes:
    return ("\n".join(specs) + "\n").encode("utf-8", "surrogateescape")
