"""``read_tags`` against git itself: every field it returns must be what ``git for-each-ref``
prints for the same ref (``%(tag)``, ``%(taggername)``, ``%(taggeremail:trim)``,
``%(taggerdate:raw)``, ``%(contents)`` minus ``%(contents:signature)``, ``%(*objectname)``, the
``%(*author...)``/``%(*committer...)`` of the commit behind it, ...).

``read_tags`` parses the objects itself (a fast path for plain tag objects, a general parser for
the rest), so these tests build real repositories with hand-made objects that take each path and
each odd corner of git's own parser, and compare field for field. Messages are compared
``.strip()``-ped on both sides; everything else exactly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from gitutil import BASE_ENV, Repo, git

from gitops.registry.git import CommitInfo, NotARepository, TagRecord, read_tags

T0 = 1_700_000_000
TAGGER = b"Tagger <tagger@example.com>"

# Everything ref-filter knows about a ref: the tag object's own fields, those of the object it
# points at (``*``: git 2.39 dereferences one level) and, for a ref straight to a commit, the
# commit's. ``%(contents)`` of a commit is its message, so lightweight tags reuse those atoms.
ATOMS = (
    "refname",
    "objectname",
    "objecttype",
    "tag",
    "taggername",
    "taggeremail:trim",
    "taggerdate:raw",
    "contents",
    "contents:signature",
    "*objectname",
    "*objecttype",
    "*authorname",
    "*authoremail:trim",
    "*committername",
    "*committeremail:trim",
    "*committerdate:raw",
    "*contents",
    "*contents:signature",
    "authorname",
    "authoremail:trim",
    "committername",
    "committeremail:trim",
    "committerdate:raw",
)


# --- building repositories ------------------------------------------------------------------


def git_bytes(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Raw stdout of git (fields may hold invalid UTF-8 and we must see git's exact bytes)."""
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, **BASE_ENV},
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, f"git {args[0]}: {proc.stderr.decode('utf-8', 'replace')}"
    return proc.stdout


def write_object(repo: Path, kind: str, body: bytes) -> str:
    """Store ``body`` as-is (``--literally``: git's fsck would refuse many of these)."""
    out = git_bytes(repo, "hash-object", "-t", kind, "-w", "--literally", "--stdin", stdin=body)
    return out.decode().strip()


def set_ref(repo: Path, name: str, oid: str) -> None:
    git_bytes(repo, "update-ref", f"refs/tags/{name}", oid)


def tag_body(
    target: str,
    target_type: str = "commit",
    name: bytes = b"v1",
    tagger: bytes | None = TAGGER + b" 1700000000 +0000",
    message: bytes | None = b"message\n",
    extra_headers: bytes = b"",
) -> bytes:
    """A tag object: ``None`` leaves the tagger line (or the blank line and message) out."""
    body = b"object %s\ntype %s\ntag %s\n" % (target.encode(), target_type.encode(), name)
    if tagger is not None:
        body += b"tagger " + tagger + b"\n"
    body += extra_headers
    if message is not None:
        body += b"\n" + message
    return body


def hand_tag(repo: Path, ref: str, body: bytes) -> str:
    """A hand-made tag object under ``refs/tags/<ref>``; returns its id."""
    oid = write_object(repo, "tag", body)
    set_ref(repo, ref, oid)
    return oid


def commit_body(
    tree: str,
    author: bytes | None = b"Author <author@example.com> 1600000000 +0200",
    committer: bytes | None = b"Committer <committer@example.com> 1600000100 -0330",
    message: bytes | None = b"subject\n\nbody\n",
    extra_headers: bytes = b"",
) -> bytes:
    body = b"tree %s\n" % tree.encode()
    if author is not None:
        body += b"author " + author + b"\n"
    if committer is not None:
        body += b"committer " + committer + b"\n"
    body += extra_headers
    if message is not None:
        body += b"\n" + message
    return body


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One repository with one commit, copied for each test (cheaper than ``git init`` each)."""
    repo = Repo(tmp_path_factory.mktemp("template") / "repo")
    repo.commit(files={"file.txt": "content\n"}, epoch=T0)
    return repo.path


@pytest.fixture
def base(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "repo"
    shutil.copytree(template, path, symlinks=True)
    return path


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD")


def annotate(
    repo: Path,
    name: str,
    target: str = "HEAD",
    message: str = "",
    date: str = f"{T0} +0000",
    tagger: tuple[str, str] = ("Tagger", "tagger@example.com"),
    extra: tuple[str, ...] = (),
) -> None:
    """``git tag -a`` as a user runs it, with the date and identity fixed."""
    env = {
        "GIT_COMMITTER_DATE": date,
        "GIT_COMMITTER_NAME": tagger[0],
        "GIT_COMMITTER_EMAIL": tagger[1],
    }
    how = list(extra) or ["-m", message or f"tag {name}"]  # extra: e.g. ("-F", path)
    git(repo, "tag", "-a", *how, name, target, env=env)


# --- what git says ---------------------------------------------------------------------------


def parse_raw_date(raw: str) -> tuple[int, int]:
    """``%(...date:raw)`` -> (epoch, seconds east of UTC), the zone read as git does (hhmm)."""
    if not raw:
        return 0, 0
    stamp, zone = raw.split(" ")
    tz = int(zone)
    minutes = abs(tz) // 100 * 60 + abs(tz) % 100
    return int(stamp), (-60 if tz < 0 else 60) * minutes


def without_signature(contents: bytes, signature: bytes) -> str:
    """``%(contents)`` minus ``%(contents:signature)`` (the signature is its tail)."""
    assert contents.endswith(signature), (contents, signature)
    return contents[: len(contents) - len(signature)].decode("utf-8", "replace")


def commit_of(sha: str, f: dict[str, bytes], star: str) -> CommitInfo:
    """The CommitInfo ref-filter's ``%(<star>author...)`` etc. describe."""

    def text(atom: str) -> str:
        return f[star + atom].decode("utf-8", "replace")

    time, offset = parse_raw_date(text("committerdate:raw"))
    message = without_signature(f[star + "contents"], f[star + "contents:signature"])
    return CommitInfo(
        sha=sha,
        time=time,
        offset=offset,
        author_name=text("authorname"),
        author_email=text("authoremail:trim"),
        committer_name=text("committername"),
        committer_email=text("committeremail:trim"),
        message=message,
    )


def git_view(repo: Path, patterns: Iterable[str] = ("refs/tags/",)) -> list[TagRecord]:
    """The records ``read_tags`` must return, built only from ``git for-each-ref`` output."""
    fmt = "%00".join(f"%({atom})" for atom in ATOMS) + "%00"
    out = git_bytes(repo, "for-each-ref", f"--format={fmt}", *patterns)
    # Each record is N NUL-terminated fields and a newline; no field can hold a NUL.
    parts = out.split(b"\0")
    assert parts[-1] in (b"", b"\n")
    parts = parts[:-1]
    assert len(parts) % len(ATOMS) == 0
    records = []
    for i in range(0, len(parts), len(ATOMS)):
        values = parts[i : i + len(ATOMS)]
        if i:
            assert values[0].startswith(b"\n")
            values[0] = values[0][1:]
        f = dict(zip(ATOMS, values, strict=True))
        s = {atom: value.decode("utf-8", "replace") for atom, value in f.items()}
        ref = s["refname"].removeprefix("refs/tags/")
        if s["objecttype"] == "tag":
            time, offset = parse_raw_date(s["taggerdate:raw"])
            commit = None
            if s["*objecttype"] == "commit":
                commit = commit_of(s["*objectname"], f, "*")
            records.append(
                TagRecord(
                    ref=ref,
                    name=s["tag"] or ref,
                    annotated=True,
                    target=s["*objectname"],
                    target_type=s["*objecttype"],
                    tagger_name=s["taggername"],
                    tagger_email=s["taggeremail:trim"],
                    time=time,
                    offset=offset,
                    message=without_signature(f["contents"], f["contents:signature"]),
                    commit=commit,
                )
            )
        else:
            commit = None
            if s["objecttype"] == "commit":
                commit = commit_of(s["objectname"], f, "")
            records.append(
                TagRecord(
                    ref=ref,
                    name=ref,
                    annotated=False,
                    target=s["objectname"],
                    target_type=s["objecttype"],
                    tagger_name=commit.committer_name if commit else "",
                    tagger_email=commit.committer_email if commit else "",
                    time=commit.time if commit else 0,
                    offset=commit.offset if commit else 0,
                    message=commit.message if commit else "",
                    commit=commit,
                )
            )
    return records


def comparable(record: TagRecord) -> dict[str, Any]:
    """A record as a dict, messages stripped (the rewrite may store them stripped)."""
    fields = record._asdict()
    fields["message"] = record.message.strip()
    if record.commit is not None:
        commit = record.commit._replace(message=record.commit.message.strip())
        fields["commit"] = commit._asdict()
    return fields


def assert_matches_git(repo: Path, patterns: list[str] | None = None) -> dict[str, TagRecord]:
    """``read_tags`` equals git's view field for field; returns git's view by ref name."""
    expected = git_view(repo, patterns if patterns is not None else ["refs/tags/"])
    got = read_tags(repo, patterns)
    assert [r.ref for r in got] == [r.ref for r in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert comparable(mine) == comparable(theirs), mine.ref
    return {r.ref: r for r in expected}


# --- tags made by ``git tag -a`` -------------------------------------------------------------


@pytest.mark.parametrize(
    "zone, offset",
    [("+0530", 19800), ("-0800", -28800), ("+0000", 0), ("-0000", 0), ("+1400", 50400)],
)
def test_git_tag_dates_and_zones(base: Path, zone: str, offset: int) -> None:
    """The tagger date and zone of a plain ``git tag -a`` tag, and the commit behind it."""
    annotate(base, "m@v1.0.0", date=f"{T0 + 7} {zone}")
    view = assert_matches_git(base)
    assert (view["m@v1.0.0"].time, view["m@v1.0.0"].offset) == (T0 + 7, offset)
    assert view["m@v1.0.0"].commit is not None
    assert view["m@v1.0.0"].commit.sha == head(base)


def test_commit_fields_behind_annotated_and_lightweight_tags(tmp_path: Path) -> None:
    """Author and committer differ; the commit's own zone is read, not the tagger's."""
    repo = Repo(tmp_path / "repo")
    repo.commit("subject line\n\nbody text\n", epoch=T0 - 50, offset_minutes=-210)
    amend = ["commit", "-q", "--amend", "--no-edit", "--author=Ann <ann@example.com>"]
    git(repo.path, *amend, env={"GIT_COMMITTER_DATE": f"{T0 - 40} -0330"})
    sha = repo.rev()
    repo.tag("m@v1.0.0", sha, epoch=T0, offset_minutes=330)
    repo.tag("m#prod", sha, annotated=False)
    view = assert_matches_git(repo.path)
    annotated, light = view["m@v1.0.0"], view["m#prod"]
    assert annotated.commit == light.commit
    assert light.commit is not None and light.commit.author_name == "Ann"
    assert (light.time, light.offset) == (T0 - 40, -(3 * 3600 + 30 * 60))
    assert (light.annotated, light.name, light.target_type) == (False, "m#prod", "commit")
    assert annotated.annotated and annotated.target == sha


def test_unicode_in_tagger_and_message(base: Path) -> None:
    """Non-ASCII names and messages survive the byte-level parsing."""
    annotate(
        base, "ü#prod", message="Größe ✓ 日本語\n\nzweite Zeile", tagger=("Jörg Ü", "jö@ex.de")
    )
    view = assert_matches_git(base)
    assert view["ü#prod"].tagger_name == "Jörg Ü"
    assert view["ü#prod"].message.strip() == "Größe ✓ 日本語\n\nzweite Zeile"


@pytest.mark.parametrize(
    "name",
    ["m@v1.0.0", "dir=m#prod#3", "a$(x)", "ü#prod", "x<y>z", "q'\"|;&", "nested/dir/m@v2", "%00"],
)
def test_tag_names_with_metacharacters(base: Path, name: str) -> None:
    """Names git accepts but a shell or a format string would not."""
    annotate(base, name)
    git(base, "tag", f"lw-{name}")
    view = assert_matches_git(base)
    assert set(view) == {name, f"lw-{name}"}
    assert view[name].name == name


def test_message_longer_than_a_read_chunk(base: Path, tmp_path: Path) -> None:
    """A 1.5 MiB message between small tags: entries straddle the reader's 1 MiB chunks."""
    big = "".join(f"line {i:07d} {'x' * 50}\n" for i in range(1_500_000 // 64))
    (tmp_path / "msg").write_text(big)
    annotate(base, "a@v1")
    annotate(base, "b@big", extra=("-F", str(tmp_path / "msg")))
    annotate(base, "c@v1")
    git(base, "tag", "d-light")
    view = assert_matches_git(base)
    assert len(view["b@big"].message) > 1 << 20
    assert view["b@big"].message.strip() == big.strip()


def test_many_tags_from_fast_import(base: Path) -> None:
    """A few thousand tags of varied sizes and shapes (plain, signed, empty, no tagger,
    lightweight), all compared: git's pipe hands them over in pieces that cut entries anywhere.
    """
    stream = bytearray()
    for c in range(20):
        msg = f"commit {c}\n\nbody ü {c}\n".encode()
        stream += b"commit refs/heads/main\nmark :%d\n" % (c + 1)
        stream += b"author A%d <a%d@x> %d +0%d00\n" % (c, c, T0 + c, c % 10)
        stream += b"committer C%d <c%d@x> %d -0%d30\n" % (c, c, T0 + 2 * c, c % 10)
        stream += b"data %d\n%s\n" % (len(msg), msg)
    for i in range(3000):
        commit = i % 20 + 1
        if i % 7 == 0:
            stream += b"reset refs/tags/light/%05d\nfrom :%d\n\n" % (i, commit)
            continue
        msg = f"tag {i} {'é' * (i * 37 % 1500)}\n".encode()
        if i % 11 == 0:
            msg += b"-----BEGIN PGP SIGNATURE-----\n\nabc%d\n-----END PGP SIGNATURE-----\n" % i
        if i % 17 == 0:
            msg = b""
        stream += f"tag m{i:05d}@v1.{i}.0{'#ü' * (i % 3)}\nfrom :{commit}\n".encode()
        if i % 13:  # else no tagger line: the general parser, between plain entries
            stream += b"tagger T %d <t%d@x> %d %+05d\n" % (i, i, T0 + i, i % 1400 - 700)
        stream += b"data %d\n%s\n" % (len(msg), msg)
    git_bytes(base, "fast-import", "--quiet", "--force", stdin=bytes(stream))
    view = assert_matches_git(base)
    assert len(view) == 3000
    assert sum(r.annotated for r in view.values()) == 3000 - 3000 // 7 - 1
    untagged = [i for i in range(3000) if i % 7 and not i % 13]
    assert sum(r.annotated and not r.tagger_name for r in view.values()) == len(untagged)


# --- hand-made tag objects -------------------------------------------------------------------

SIG_PGP = b"-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n=abcd\n-----END PGP SIGNATURE-----\n"
SIG_SSH = b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lHAAAAAQ==\n-----END SSH SIGNATURE-----\n"
SIG_X509 = b"-----BEGIN SIGNED MESSAGE-----\nMIIG\n-----END SIGNED MESSAGE-----\n"
SIG_PGP_MSG = b"-----BEGIN PGP MESSAGE-----\nowGb\n-----END PGP MESSAGE-----\n"


def case(
    case_id: str, tagger: bytes | None, message: bytes | None, xfail: str = ""
) -> Any:  # a pytest ParameterSet
    """One hand-made tag: the tagger line after ``tagger `` and the message (``None``: absent).

    ``xfail`` names a known disagreement of the current ``read_tags`` with git.
    """
    marks = [pytest.mark.xfail(strict=True, raises=AssertionError, reason=xfail)] if xfail else []
    return pytest.param(tagger, message, id=case_id, marks=marks)


TS = TAGGER + b" 1700000000 +0000"
TAG_CASES = [
    case("plain", TAGGER + b" 1700000000 +0530", b"hello\n"),
    case("zone -0800", TAGGER + b" 1700000000 -0800", b"hello\n"),
    case("zone -0000", TAGGER + b" 1700000000 -0000", b"hello\n"),
    case("zone +0000", TAGGER + b" 1700000000 +0000", b"hello\n"),
    case("zone -1200", TAGGER + b" 0 -1200", b"hello\n"),
    case("unicode", "Jörg Ü <jö@exämple.de> 1700000000 +0100".encode(), "héllo ✓ 日本\n".encode()),
    case("invalid utf-8 name", b"J\xf6rg \xff <j\xe9@x> 1700000000 +0100", b"hi\n"),
    case("invalid utf-8 message", TAGGER + b" 1700000000 +0100", b"caf\xe9 \xff\xfe\n\x80end\n"),
    case("blank lines around", TS, b"\n\n\nhello\n\n\n"),
    case("crlf", TS, b"line one\r\nline two\r\n"),
    case("trailing spaces", TS, b"  hello   \n \t \n"),
    case("nbsp ends", TS, "\u00a0hello\u00a0\n\u2028".encode()),
    case("no message", TS, None),
    case("empty message", TS, b""),
    case("only newlines", TS, b"\n\n\n"),
    case("no trailing newline", TS, b"hello"),
    case("pgp signed", TS, b"release\n" + SIG_PGP),
    case("ssh signed", TS, b"release\n\n" + SIG_SSH),
    case("x509 signed", TS, b"release\n" + SIG_X509),
    case("pgp message", TS, b"release\n" + SIG_PGP_MSG),
    case("signature only", TS, SIG_PGP),
    case("two signatures", TS, b"a\n" + SIG_PGP + b"b\n" + SIG_SSH),
    case("signature no newline", TS, b"a\n-----BEGIN PGP SIGNATURE-----"),
    case("begin mid-line", TS, b"see -----BEGIN PGP SIGNATURE----- x\n"),
    case("begin indented", TS, b"a\n -----BEGIN PGP SIGNATURE-----\n"),
    case("begin other kind", TS, b"a\n-----BEGIN CERTIFICATE-----\nb\n"),
    case("begin truncated", TS, b"a\n-----BEGIN PGP SIGNATURE\nb\n"),
    case("nul in message", TS, b"before\0after\n"),
    case("nul before signature", TS, b"before\0\n" + SIG_PGP),
    case("nul inside signature", TS, b"msg\n-----BEGIN PGP SIGNATURE-----\0x\n"),
    case("nul in tagger", b"Tag\0ger <t@x> 1700000000 +0000", b"hello\n"),
    case("no email", b"Tagger 1700000000 +0000", b"hello\n"),
    case("empty email", b"Tagger <> 1700000000 +0000", b"hello\n"),
    case("no name", b"<t@x> 1700000000 +0530", b"hello\n"),
    case("empty name", b" <t@x> 1700000000 +0530", b"hello\n"),
    case("two spaces before email", b"Tag  Name  <t@x> 1700000000 +0530", b"hello\n"),
    case("name with brackets", b"A <b> <c@d> 1700000000 +0530", b"hello\n"),
    case("'>' in email", b"A <a>b> 1 +0000", b"hello\n"),
    case("'<' in email", b"A <a<b> 1 +0000", b"hello\n"),
    case("odd spacing", b" Tag  Name  <t@x>   1700000000    +0530  ", b"hello\n"),
    case("tab before date", b"Tagger <t@x>\t1700000000\t+0530", b"hello\n"),
    case("cr after zone", b"Tagger <t@x> 1700000000 +0530\r", b"hello\n"),
    case("missing zone", b"Tagger <t@x> 1700000000", b"hello\n"),
    case("missing date", b"Tagger <t@x>", b"hello\n"),
    case("missing date, space", b"Tagger <t@x> ", b"hello\n"),
    case("zone without sign", b"Tagger <t@x> 1700000000 0530", b"hello\n"),
    case("short zone", b"Tagger <t@x> 1700000000 +05", b"hello\n"),
    case("zone with minutes 45", b"Tagger <t@x> 1700000000 +0545", b"hello\n"),
    case("plus before date", b"Tagger <t@x> +1700000000 +0530", b"hello\n"),
    case("garbage date", b"Tagger <t@x> soon +0530", b"hello\n"),
    case("garbage zone", b"Tagger <t@x> 1700000000 CEST", b"hello\n"),
    case("no tagger line", None, b"hello\n"),
    case("no tagger, no message", None, None),
    # git's ref-filter (git 2.39) reads the tagger with C string functions over the whole object
    # (strchr/strstr/strtol), so a line missing its '<', '>' or zone takes characters from the
    # message; read_tags stays on the line. And its number parsing wraps or gives up where
    # read_tags does not.
    case(
        "no email, '<' in message",
        b"Tagger 1700000000 +0000",
        b"mail <a@b> me\n",
        xfail="git: %(taggeremail:trim) is 'a@b', found in the message; read_tags: ''",
    ),
    case(
        "unclosed email, '>' in message",
        b"Tagger <t@x 1700000000 +0000",
        b"a > b\n",
        xfail="git: %(taggeremail:trim) is 't@x 1700000000 +0000\\n\\na ' (from the '<' up to "
        "the '>' in the message); read_tags: ''",
    ),
    case(
        "no email, '> ' in message",
        b"Tagger 1700000000 +0000",
        b"x> 1600000000 +0200\n",
        xfail="git: %(taggerdate:raw) is '1600000000 +0200', parsed from the message; "
        "read_tags: time 0, offset 0",
    ),
    case(
        "missing zone, digits in message",
        b"Tagger <t@x> 1700000000",
        b"0530 build\n",
        xfail="git's strtol skips the newlines and reads the zone '0530' from the message: "
        "'1700000000 +0530' (offset 19800); read_tags: offset 0",
    ),
    case(
        "negative date",
        b"Tagger <t@x> -5 +0530",
        b"hello\n",
        xfail="git's strtoumax wraps '-5': %(taggerdate:raw) '18446744073709551611 +0530'; "
        "read_tags: time 0, offset 0",
    ),
    case(
        "date overflows",
        b"Tagger <t@x> 99999999999999999999 +0000",
        b"hello\n",
        xfail="git: the date overflows, %(taggerdate:raw) is '' (time 0); "
        "read_tags: time 99999999999999999999, offset 0",
    ),
    case(
        "zone out of range",
        b"Tagger <t@x> 1700000000 +12345",
        b"hello\n",
        xfail="git: %(taggerdate:raw) '1700000000 +12345', hhmm = 123 h 45 min (445500 s) as "
        "git's date code reads it; read_tags takes the first four digits: 12 h 34 min (45240 s)",
    ),
]


@pytest.mark.parametrize("tagger, message", TAG_CASES)
def test_hand_made_tag_objects(base: Path, tagger: bytes | None, message: bytes | None) -> None:
    """Each odd tag object reads as git's ref-filter reads it (tagger, date, message)."""
    oid = hand_tag(base, "m@v1", tag_body(head(base), tagger=tagger, message=message))
    assert git(base, "rev-parse", "refs/tags/m@v1") == oid
    view = assert_matches_git(base)
    assert view["m@v1"].annotated and view["m@v1"].name == "v1"
    assert view["m@v1"].commit is not None and view["m@v1"].commit.sha == head(base)


def test_mktag_object(base: Path) -> None:
    """A tag object git's strict ``mktag`` accepts takes the same path ``git tag`` does."""
    body = tag_body(head(base), name=b"m@v9", tagger=TAGGER + b" 1700000000 +0945")
    oid = git_bytes(base, "mktag", stdin=body).decode().strip()
    set_ref(base, "m@v9", oid)
    view = assert_matches_git(base)
    assert view["m@v9"].offset == 9 * 3600 + 45 * 60


@pytest.mark.parametrize(
    "inner",
    [b"other@v2", b"", "ü@v1".encode(), b"bad\xffname", b"with space", b"refs/tags/full"],
)
def test_inner_name_differs_from_ref(base: Path, inner: bytes) -> None:
    """``name`` is what the object says (``%(tag)``), not the ref's name; empty falls back."""
    hand_tag(base, "m@v1", tag_body(head(base), name=inner))
    view = assert_matches_git(base)
    expected = inner.decode("utf-8", "replace") or "m@v1"
    assert (view["m@v1"].ref, view["m@v1"].name) == ("m@v1", expected)


def test_extra_headers_in_tag_object(base: Path) -> None:
    """Unknown headers after the tagger (the general parser's path) are not the message."""
    body = tag_body(head(base), extra_headers=b"encoding ISO-8859-1\nx-custom yes\n")
    hand_tag(base, "m@v1", body)
    hand_tag(
        base, "m@v2", tag_body(head(base), tagger=TAGGER + b" 1 +0100\ntagger Second <s@x> 2 +0200")
    )
    view = assert_matches_git(base)
    assert view["m@v1"].message.strip() == "message"
    assert view["m@v2"].tagger_name == "Tagger" and view["m@v2"].time == 1


def test_two_refs_to_one_tag_object(base: Path) -> None:
    """The object is parsed once but each ref gets its own record, named by the object."""
    annotate(base, "m@v1.0.0", message="shared")
    oid = git(base, "rev-parse", "refs/tags/m@v1.0.0")
    set_ref(base, "alias", oid)
    set_ref(base, "zz/alias", oid)
    view = assert_matches_git(base)
    assert [view[r].name for r in ("alias", "m@v1.0.0", "zz/alias")] == ["m@v1.0.0"] * 3


def test_tag_of_a_tag(base: Path) -> None:
    """A nested tag points at the inner tag object: git derefs it once."""
    annotate(base, "inner@v1")
    inner = git(base, "rev-parse", "refs/tags/inner@v1")
    annotate(base, "outer@v1", "inner@v1")
    git(base, "tag", "light-on-tag", "inner@v1")  # a lightweight ref to a tag object
    view = assert_matches_git(base)
    assert (view["outer@v1"].target, view["outer@v1"].target_type) == (inner, "tag")
    assert view["outer@v1"].commit is None
    assert view["light-on-tag"].annotated and view["light-on-tag"].name == "inner@v1"


def test_tag_of_a_tree_and_of_a_blob(base: Path) -> None:
    """The target of a tag to a non-commit is that object (``%(*objectname)``), no commit."""
    tree = git(base, "rev-parse", "HEAD^{tree}")
    blob = git(base, "rev-parse", "HEAD:file.txt")
    annotate(base, "on-tree", tree)
    annotate(base, "on-blob", blob)
    view = assert_matches_git(base)
    assert (view["on-tree"].target, view["on-tree"].target_type) == (tree, "tree")
    assert (view["on-blob"].target, view["on-blob"].target_type) == (blob, "blob")
    assert view["on-tree"].commit is None and view["on-blob"].commit is None


def test_lightweight_tags_on_commit_blob_and_tree(base: Path) -> None:
    """Lightweight: the tagger is the commit's committer; non-commits have no tagger at all."""
    blob = git(base, "rev-parse", "HEAD:file.txt")
    tree = git(base, "rev-parse", "HEAD^{tree}")
    git(base, "tag", "lw-commit")
    git(base, "tag", "lw-blob", blob)
    git(base, "tag", "lw-tree", tree)
    view = assert_matches_git(base)
    got = {r.ref: r for r in read_tags(base)}
    assert got["lw-commit"].annotated is False
    assert (got["lw-commit"].tagger_name, got["lw-commit"].time) == ("Test User", T0)
    for ref, oid, kind in (("lw-blob", blob, "blob"), ("lw-tree", tree, "tree")):
        assert got[ref] == TagRecord(ref, ref, False, oid, kind, "", "", 0, 0, "", None)
        assert view[ref].target_type == kind


# --- hand-made commits behind tags -----------------------------------------------------------

COMMIT_CASES: list[tuple[str, dict[str, Any]]] = [
    ("plain", {}),
    ("unicode", {"author": "Zoë <zo@ë.de> 1 +0100".encode(), "message": "Grüße ✓\n".encode()}),
    ("invalid utf-8", {"committer": b"C\xff <c@x> 5 +0000", "message": b"bad \xfe\xff\n"}),
    ("no message", {"message": None}),
    ("empty message", {"message": b""}),
    ("blank lines and crlf", {"message": b"\n\nsubject\r\n\r\nbody  \r\n\n"}),
    ("nul in message", {"message": b"sub\0ject\n"}),
    ("no committer email", {"committer": b"C 1600000000 +0100"}),
    ("empty emails", {"author": b"A <> 1 +0000", "committer": b"C <> 2 -0000"}),
    ("no author", {"author": None}),
    ("no committer", {"committer": None}),
    ("odd committer spacing", {"committer": b"  C  <c@x>   1600000000   -0130 "}),
    ("committer missing zone", {"committer": b"C <c@x> 1600000000"}),
    ("signature-like mid-line", {"message": b"see -----BEGIN PGP SIGNATURE----- here\n"}),
]


@pytest.mark.parametrize("fields", [c[1] for c in COMMIT_CASES], ids=[c[0] for c in COMMIT_CASES])
def test_hand_made_commits(base: Path, fields: dict[str, Any]) -> None:
    """A commit behind an annotated tag and behind a lightweight one reads as ref-filter's."""
    tree = git(base, "rev-parse", "HEAD^{tree}")
    sha = write_object(base, "commit", commit_body(tree, **fields))
    hand_tag(base, "annotated", tag_body(sha))
    set_ref(base, "light", sha)
    view = assert_matches_git(base)
    assert view["annotated"].commit == view["light"].commit
    assert view["light"].commit is not None and view["light"].commit.sha == sha


def test_commit_with_gpgsig_header(base: Path) -> None:
    """A signed commit's signature lives in a header: not part of the message."""
    tree = git(base, "rev-parse", "HEAD^{tree}")
    sig = b"gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEz\n -----END PGP SIGNATURE-----\n"
    sha = write_object(base, "commit", commit_body(tree, extra_headers=sig))
    set_ref(base, "light", sha)
    hand_tag(base, "annotated", tag_body(sha))
    view = assert_matches_git(base)
    assert view["light"].message.strip() == "subject\n\nbody"


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="git's ref-filter cuts a trailing signature block off a commit's %(contents) as off a "
    "tag's (%(contents:signature) is that block); read_tags keeps it in CommitInfo.message, "
    "and so in a lightweight tag's message",
)
@pytest.mark.parametrize(
    "message",
    [b"subject\n\n" + SIG_PGP, b"subject\n" + SIG_SSH, SIG_PGP],
    ids=["pgp", "ssh", "only"],
)
def test_commit_message_ending_in_signature_block(base: Path, message: bytes) -> None:
    """ref-filter cuts a commit's ``%(contents)`` at a signature line just as a tag's."""
    tree = git(base, "rev-parse", "HEAD^{tree}")
    sha = write_object(base, "commit", commit_body(tree, message=message))
    set_ref(base, "light", sha)
    hand_tag(base, "annotated", tag_body(sha))
    assert "-----BEGIN" not in git_view(base)[0].message
    assert_matches_git(base)


def test_ref_names_with_invalid_utf8(base: Path) -> None:
    """A ref name that is not UTF-8 is decoded as git's bytes with errors='replace'."""
    set_ref(base, os.fsdecode(b"bad\xfename"), head(base))
    set_ref(base, os.fsdecode(b"m@v\xff"), head(base))
    view = assert_matches_git(base)
    assert list(view) == ["bad\ufffdname", "m@v\ufffd"]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="git sorts refs by their bytes: refs/tags/z\\xf0\\x9f\\x98\\x80 (z + U+1F600) "
    "before refs/tags/z\\xff; read_tags sorts the decoded names, 'z\\ufffd' < 'z\\U0001f600', "
    "so it returns them the other way round",
)
def test_ref_order_with_invalid_utf8_is_gits(base: Path) -> None:
    """Refs come in git's order (bytes), also when a name is not UTF-8."""
    set_ref(base, os.fsdecode(b"z\xff"), head(base))
    set_ref(base, "z\U0001f600", head(base))
    assert [r.ref for r in git_view(base)] == ["z\U0001f600", "z\ufffd"]
    assert_matches_git(base)


# --- patterns and the edges ------------------------------------------------------------------


def _registry(base: Path) -> None:
    """Names that are prefixes of each other, with and without a directory."""
    for name in ("m@v1.0.0", "m@v1.1.0", "m#prod#1", "mx@v1", "dir/m@v1", "dir/mm@v1", "n@v1"):
        annotate(base, name)
    git(base, "tag", "m@light")


@pytest.mark.parametrize(
    "patterns",
    [
        ["refs/tags/m@*"],
        ["refs/tags/m@*", "refs/tags/m#*"],
        ["refs/tags/dir"],
        ["refs/tags/dir/"],
        ["refs/tags/dir/m@v1"],
        ["refs/tags/nothing*"],
        ["refs/tags/m@v1.0.0", "refs/tags/m@v1.0.0"],
    ],
)
def test_patterns_select_what_for_each_ref_lists(base: Path, patterns: list[str]) -> None:
    """Patterns are for-each-ref's (globs, path prefixes), not a filter of our own."""
    _registry(base)
    view = assert_matches_git(base, patterns)
    listed = git(base, "for-each-ref", "--format=%(refname:strip=2)", *patterns).split("\n")
    assert list(view) == [name for name in listed if name]


def test_patterns_narrow_the_listing(base: Path) -> None:
    """The expected answers written out, in case git's view and ours were both wrong."""
    _registry(base)
    assert [r.ref for r in read_tags(base, ["refs/tags/m@*"])] == [
        "m@light",
        "m@v1.0.0",
        "m@v1.1.0",
    ]
    assert read_tags(base, []) == []
    assert len(read_tags(base)) == 8


def test_repository_without_tags(tmp_path: Path, base: Path) -> None:
    """No tags (with or without any commit) reads as an empty list, not an error."""
    empty = Repo(tmp_path / "empty").path
    assert read_tags(empty) == [] == git_view(empty)
    assert read_tags(base) == [] == git_view(base)


def test_not_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plain directory is a usage error the CLI can explain, not a crash."""
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    with pytest.raises(NotARepository):
        read_tags(plain)
