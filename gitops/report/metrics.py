"""Every declared metrics, params and plots file at every revision a report needs, read straight
from git's object store: no checkout, no process per file or per revision.

Three git processes whatever the numbers of files and revisions: ``git ls-tree`` of the newest
revision finds the ``dvc.yaml`` files (a sub-project's, in a folder, too; a ``dvc.yaml`` that
only older revisions have is not looked for), one ``git cat-file --batch`` reads each of them
(and the default files) at every revision, and one more reads every declared file at every
revision. Each distinct content is parsed once, however many revisions share it.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from pathlib import Path

from gitops.registry.git import read_objects, run_git
from gitops.report import sources
from gitops.report.formats import parse
from gitops.report.model import Declared, FileRead, FileStatus, Kind, Snapshot
from gitops.report.settings import ReportSettings


def read_snapshots(
    repo: Path, settings: ReportSettings | None, revisions: Sequence[tuple[str, str]]
) -> list[Snapshot]:
    """A Snapshot per ``(label, commit)``, in the order given (the first is the newest: its
    tree is where sub-project ``dvc.yaml`` files are looked for)."""
    if not revisions:
        return []
    shas = list(dict.fromkeys(sha for _, sha in revisions))
    declared = _declarations(repo, settings, shas)
    wanted: list[tuple[str, str, Kind]] = []  # (sha, path, kind), each once
    for sha in shas:
        d = declared[sha]
        for kind, paths in _by_kind(d):
            wanted += [(sha, path, kind) for path in paths]
    names = [f"{sha}:{path}" for sha, path, _ in wanted]
    readable = [i for i, name in enumerate(names) if "\n" not in name]
    objects = read_objects(repo, [names[i] for i in readable]) if readable else []
    found = dict(zip(readable, objects, strict=True))
    parsed: dict[tuple[str, str, Kind], FileRead] = {}  # (blob id, path, kind): parse once
    files: dict[str, list[FileRead]] = {sha: [] for sha in shas}
    for i, (sha, path, kind) in enumerate(wanted):
        obj = found.get(i)
        if i not in found:
            read = FileRead(path, kind, FileStatus.UNREADABLE, error="a line break in its name")
        elif obj is None:
            read = FileRead(path, kind, FileStatus.MISSING, error="not in this revision")
        elif obj[1] != "blob":
            what = "a folder" if obj[1] == "tree" else f"a {obj[1]}"
            read = FileRead(path, kind, FileStatus.UNREADABLE, error=f"{what}, not a file")
        else:
            key = (obj[0], path, kind)
            if key not in parsed:
                parsed[key] = parse(path, obj[2], kind)
            read = parsed[key]
        files[sha].append(read)
    return [Snapshot(label, sha, tuple(files[sha]), declared[sha]) for label, sha in revisions]


def _by_kind(d: Declared) -> list[tuple[Kind, list[str]]]:
    return [
        (Kind.METRICS, list(d.metrics)),
        (Kind.PARAMS, list(d.params)),
        (Kind.PLOTS, [p.path for p in d.plots]),
    ]


def _declarations(
    repo: Path, settings: ReportSettings | None, shas: list[str]
) -> dict[str, Declared]:
    """What each revision declares (each revision's own dvc.yaml decides, as for DVC)."""
    dvc_paths = _dvc_yaml_paths(repo, shas[0]) if sources.needs_dvc_yaml(settings) else []
    probes = [*dvc_paths, sources.DEFAULT_METRICS, sources.DEFAULT_PARAMS]
    names = [f"{sha}:{path}" for sha in shas for path in probes]
    objects = iter(read_objects(repo, names))
    declared = {}
    for sha in shas:
        at = {path: next(objects) for path in probes}
        yamls = {p: (o[2] if o is not None and o[1] == "blob" else None) for p, o in at.items()
                 if p in dvc_paths}  # fmt: skip
        present = {p for p, o in at.items() if o is not None and o[1] == "blob"}
        declared[sha] = sources.declared_at(settings, yamls, present.__contains__)
    return declared


def _dvc_yaml_paths(repo: Path, sha: str) -> list[str]:
    """Every ``dvc.yaml`` in ``sha``'s tree, the root one first, then by path."""
    out = run_git(repo, "ls-tree", "-r", "-z", "--name-only", "--full-tree", sha)
    paths = [p for p in out.decode("utf-8", "replace").split("\0")
             if posixpath.basename(p) == sources.DVC_YAML]  # fmt: skip
    paths.sort(key=lambda p: (p != sources.DVC_YAML, p))
    return paths or [sources.DVC_YAML]
