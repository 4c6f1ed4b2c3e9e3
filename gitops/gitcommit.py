"""Commits made in memory with GitPython, for writers that must never touch a work tree.

The parent's trees are edited along the changed paths only and the new objects go straight to
the repository's object store: no index file, no checkout, and no git process per object (the
plumbing it replaces ran five or six). Refs are set here only for private names (the source of
a push, our copy of a remote branch); a branch people use moves by compare-and-swap or by push.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from io import BytesIO
from pathlib import Path

import git
from git.objects.fun import tree_entries_from_data, tree_to_stream
from gitdb.base import IStream
from gitdb.db import LooseObjectDB

from gitops.errors import GitopsError

TREE = 0o040000
REGULAR = (0o100644, 0o100755)
Entry = tuple[bytes, int, str]  # (binary object id, mode, name), as GitPython reads trees


class _ObjectDB(git.GitCmdObjectDB):
    """GitPython's default object database (reads through a long-lived ``git cat-file``), but
    new objects are written in Python by the loose-object writer it inherits from gitdb: the
    installed GitPython (3.2) overrides that with one ``git hash-object`` per object, three
    processes per commit, which made a commit cost as much as the plumbing it replaces."""

    def store(self, istream: IStream) -> IStream:
        return LooseObjectDB.store(self, istream)


def open_repo(path: Path, owner: object | None = None) -> git.Repo:
    """The repository at or above ``path``, as a clear error when there is none.

    GitPython keeps ``git cat-file`` processes for reads and its repository objects live in
    reference cycles, so they would linger until a garbage collection: with an ``owner``, they
    end as soon as the owner does.
    """
    try:
        repo = git.Repo(path, odbt=_ObjectDB, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise GitopsError(f"{path} is not a git repository") from None
    if owner is not None:
        weakref.finalize(owner, repo.close)
    return repo


def _store(repo: git.Repo, kind: bytes, data: bytes) -> bytes:
    return repo.odb.store(IStream(kind, len(data), BytesIO(data))).binsha


def _entries(repo: git.Repo, tree: bytes | None) -> dict[str, Entry]:
    if tree is None:
        return {}
    return {e[2]: e for e in tree_entries_from_data(repo.odb.stream(tree).read())}


def _order(entry: Entry) -> bytes:
    """git's tree order: names as bytes, a subtree as if its name ended in ``/``."""
    name = entry[2].encode("utf-8", "surrogateescape")
    return name + b"/" if entry[1] == TREE else name


def _edit(repo: git.Repo, tree: bytes | None, blobs: Mapping[str, bytes], where: str) -> bytes:
    """``tree`` with each path in ``blobs`` pointing at that blob; returns the new tree's id."""
    entries = _entries(repo, tree)
    below: dict[str, dict[str, bytes]] = {}
    for path, blob in blobs.items():
        head, _, rest = path.partition("/")
        if rest:
            below.setdefault(head, {})[rest] = blob
            continue
        old = entries.get(head)
        if old is not None and old[1] not in REGULAR:
            raise GitopsError(f"{where}{head} is not a regular file")
        entries[head] = (blob, old[1] if old else 0o100644, head)  # an executable stays one
    for head, sub in below.items():
        old = entries.get(head)
        if old is not None and old[1] != TREE:
            raise GitopsError(f"{where}{head} is a file, not a directory")
        entries[head] = (_edit(repo, old and old[0], sub, f"{where}{head}/"), TREE, head)
    out = BytesIO()
    tree_to_stream(sorted(entries.values(), key=_order), out.write)
    return _store(repo, b"tree", out.getvalue())


def commit_files(
    repo: git.Repo,
    parent: str | None,
    files: Mapping[str, bytes],
    message: str,
    identity: tuple[str, str],
) -> str:
    """A commit on ``parent`` (None: a first commit) with ``files`` (path: content) written;
    every other path as the parent has it. ``identity`` (name, email) authors and commits it."""
    blobs = {path: _store(repo, b"blob", data) for path, data in files.items()}
    base = repo.commit(parent) if parent else None
    tree = _edit(repo, base.tree.binsha if base else None, blobs, "")
    who = git.Actor(*identity)
    text = message if message.endswith("\n") else message + "\n"  # as git commit-tree -m
    try:
        made = git.Commit.create_from_tree(
            repo, git.Tree(repo, tree), text, [base] if base else [], author=who, committer=who
        )
    except ValueError as exc:  # a name or email with <, > or a newline
        raise GitopsError(f"cannot commit as {identity[0]} <{identity[1]}>: {exc}") from None
    return made.hexsha


def mode_of(repo: git.Repo, commit: str, path: str) -> int | None:
    """The mode of ``path`` at ``commit`` (None when there is no such entry)."""
    try:
        return repo.commit(commit).tree[path].mode
    except KeyError:
        return None


def set_ref(repo: git.Repo, ref: str, sha: str) -> None:
    """Point a private ref at ``sha`` (a loose-ref write, no git process)."""
    try:
        git.SymbolicReference.create(repo, ref, sha, force=True)
    except OSError as exc:  # another writer holds its lock
        raise GitopsError(f"cannot set {ref} in {repo.working_dir}: {exc}") from None


def drop_ref(repo: git.Repo, ref: str) -> None:
    """Remove a private ref that ``set_ref`` wrote. Only its loose file: in the rare case that
    a ``git pack-refs`` packed it meanwhile, it stays (rewriting packed-refs without git's
    lock is what GitPython would do, and a stray private ref harms nothing)."""
    Path(git.SymbolicReference(repo, ref).abspath).unlink(missing_ok=True)
