"""Metrics, params and plots files at many revisions, read straight from git's object store.

No checkout and nothing per file or per revision: whatever the number of files and revisions,
a read runs at most five git processes (tests/test_report_read.py counts them):

1. ``git ls-tree -r --name-only`` of the LAST revision given (callers pass them oldest first,
   so it is the newest) finds the sub-projects' ``dir/dvc.yaml`` files. Each is then read at
   every revision: a sub-project that exists only in older revisions is not seen (skipped when
   gitops.yaml names every kind of file: no dvc.yaml is read then);
2. one ``cat-file --batch-check`` and one ``cat-file --batch`` read every ``dvc.yaml`` (and the
   default ``metrics.json`` / ``params.yaml``) at every revision: each revision's own
   ``dvc.yaml`` decides its files, as in DVC;
3. one more pair reads every declared file at every revision. Each distinct blob is read and
   parsed once: a file unchanged over fifty revisions is parsed once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.registry.git import PathAt, objects_at, read_blobs, read_paths_at, run_git
from gitops.report import formats
from gitops.report.model import Declared, FileRead, FileStatus, Kind, Snapshot
from gitops.report.sources import DEFAULT_METRICS, DEFAULT_PARAMS, declared_at, dvc_yaml_order

if TYPE_CHECKING:
    from gitops.report.settings import ReportSettings


def read_snapshots(
    repo: Path, settings: ReportSettings | None, revisions: Sequence[tuple[str, str]]
) -> list[Snapshot]:
    """One Snapshot per ``(label, commit sha)``, in the order given; every declared file is in
    it, a missing or broken one with its status and error."""
    if not revisions:
        return []
    shas = list(dict.fromkeys(sha for _, sha in revisions))
    dvc_paths = _dvc_yaml_paths(repo, settings, shas[-1])
    first = [f"{sha}:{p}" for sha in shas for p in (*dvc_paths, DEFAULT_METRICS, DEFAULT_PARAMS)]
    known = read_paths_at(repo, first, formats.MAX_BYTES)

    declared_by_sha: dict[str, Declared] = {}
    seen: dict[tuple[object, ...], Declared] = {}  # same dvc.yaml blobs: same answer
    for sha in shas:
        contents = {p: _content(known.get(f"{sha}:{p}")) for p in dvc_paths}
        present = {p: _is_file(known.get(f"{sha}:{p}")) for p in (DEFAULT_METRICS, DEFAULT_PARAMS)}
        key = (tuple(_oid(known.get(f"{sha}:{p}")) for p in dvc_paths), *present.values())
        if key not in seen:
            seen[key] = declared_at(settings, contents, _has(present))
        declared_by_sha[sha] = seen[key]

    wanted = [
        f"{sha}:{path}"
        for sha in shas
        for _, path in _files(declared_by_sha[sha])
        if f"{sha}:{path}" not in known
    ]
    known.update(objects_at(repo, wanted))

    # each distinct blob is parsed once, as git streams it, for each (path, kind) that has it
    readers: dict[str, set[tuple[str, Kind, tuple[str, ...]]]] = {}
    for sha in shas:
        keys = dict(declared_by_sha[sha].param_keys)
        for kind, path in _files(declared_by_sha[sha]):
            at = known.get(f"{sha}:{path}")
            if at is not None and at.type == "blob" and at.content is not None:
                continue  # read with the dvc.yaml files
            only = keys.get(path, ()) if kind is Kind.PARAMS else ()
            if at is not None and at.type == "blob" and at.size <= formats.MAX_BYTES:
                readers.setdefault(at.oid, set()).add((path, kind, only))
    parsed: dict[tuple[str, str, Kind, tuple[str, ...]], FileRead] = {}
    for oid, content in read_blobs(repo, sorted(readers)):
        for path, kind, only in readers[oid]:
            parsed[(oid, path, kind, only)] = _parse(path, content, kind, only)

    snapshots = []
    for label, sha in revisions:
        declared = declared_by_sha[sha]
        keys = dict(declared.param_keys)
        files = []
        for kind, path in _files(declared):
            at = known.get(f"{sha}:{path}")
            only = keys.get(path, ()) if kind is Kind.PARAMS else ()
            cache_key = (at.oid if at is not None else "", path, kind, only)
            read = parsed.get(cache_key)
            if read is None and at is not None and at.type == "blob" and at.content is not None:
                read = parsed[cache_key] = _parse(path, at.content, kind, only)
            if read is None:
                read = _not_read(path, kind, at, path in declared.dvc_cached)
            files.append(read)
        snapshots.append(Snapshot(label=label, sha=sha, files=tuple(files), declared=declared))
    return snapshots


def _dvc_yaml_paths(repo: Path, settings: ReportSettings | None, newest: str) -> list[str]:
    """Every ``dvc.yaml`` in the newest revision's tree, root first; none when gitops.yaml
    names every kind of file (dvc.yaml would decide nothing)."""
    if settings is not None and None not in (settings.metrics, settings.params, settings.plots):
        return []
    out = run_git(repo, "ls-tree", "-r", "--name-only", "-z", newest, "--")
    names = out.decode("utf-8", "surrogateescape").split("\0")
    return dvc_yaml_order(n for n in names if n == "dvc.yaml" or n.endswith("/dvc.yaml"))


def _files(declared: Declared) -> list[tuple[Kind, str]]:
    """(kind, path) of each file to read, metrics, params then plots, in declared order (a
    plots file drawn twice is read once)."""
    files = [(Kind.METRICS, p) for p in declared.metrics]
    files += [(Kind.PARAMS, p) for p in declared.params]
    files += [(Kind.PLOTS, p) for p in dict.fromkeys(s.path for s in declared.plots)]
    return files


def _parse(path: str, content: bytes, kind: Kind, only: tuple[str, ...]) -> FileRead:
    return formats.select_keys(formats.parse(path, content, kind), only)


def _has(present: dict[str, bool]) -> Callable[[str], bool]:
    return lambda path: present.get(path, False)


def _is_file(at: PathAt | None) -> bool:
    return at is not None and at.type == "blob"


def _oid(at: PathAt | None) -> str:
    return at.oid if at is not None else ""


def _content(at: PathAt | None) -> bytes | None:
    if at is None or at.type != "blob":
        return None
    return at.content if at.content is not None else b""


def _not_read(path: str, kind: Kind, at: PathAt | None, dvc_cached: bool) -> FileRead:
    """A declared file that is not a readable blob at this revision, and why."""
    if at is None:
        error = "not in this revision"
        if dvc_cached:
            error = "not in git: DVC caches this stage output (`cache: false` keeps it in git)"
        return FileRead(path, kind, FileStatus.MISSING, error=error)
    if at.type == "tree":
        error = "a directory, not a file"
    elif at.type == "commit":
        error = "a submodule, not a file"
    elif at.type == "blob" and at.size > formats.MAX_BYTES:
        error = formats.too_big(at.size)
    elif at.type == "blob":
        error = "git did not give its content"
    else:
        error = f"a git {at.type}, not a file"
    return FileRead(path, kind, FileStatus.UNREADABLE, error=error)
