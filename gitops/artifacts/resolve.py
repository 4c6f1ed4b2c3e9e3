"""What an artifact is at a version's commit: files in Git, or an output that DVC tracks.

Read from Git at that commit (no checkout) and without importing DVC, so ``plan`` and the
reports can say where a version's bytes come from and how big they are on a machine without
the ``dvc`` extra. Every artifact of a plan is resolved in a handful of git processes
(``resolve_many``). Fetching the bytes is ``gitops.artifacts.fetch``.

DVC's rules followed here (DVC 3):
- an output is declared by ``<path>.dvc`` (paths relative to the file's folder and its
  ``wdir``) or by a stage in ``dvc.lock`` (paths relative to the stage's ``wdir`` in the
  ``dvc.yaml`` beside it); the artifact is the output itself or a file inside an output folder;
- a folder output's md5 ends in ``.dir``: the object is the folder's manifest;
- an output whose entry says ``hash: md5`` is DVC 3's; one without is DVC 2's (md5 of text
  files with CRLF read as LF, objects at ``<remote>/<2 hex>/<30 hex>`` instead of
  ``<remote>/files/md5/<2 hex>/<30 hex>``);
- the remote is the output's ``remote:`` or ``core.remote``, from ``.dvc/config`` at that commit
  and the work tree's ``.dvc/config.local``; a relative local remote is relative to ``.dvc/``;
- a folder with its own ``.dvc/`` is a sub-project: its own config, its own outputs.
"""

from __future__ import annotations

import configparser
import functools
import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from gitops.errors import GitopsError
from gitops.registry.git import PathAt, objects_at, read_paths_at, run_git
from gitops.yamlfile import YamlDocument, YamlFileError, load_yaml

GIT = "git"
DVC = "dvc"


class NotFound(GitopsError):
    """The path is in neither Git nor DVC at that commit (a wrong path, or a virtual one: a
    URL, say, which GTO allows)."""


@dataclass(frozen=True)
class Source:
    """Where the bytes of one artifact at one commit are, and how many."""

    artifact: str
    path: str  # relative to the repository's root ("" : the whole tree)
    commit: str
    kind: str  # GIT | DVC
    is_dir: bool
    size: int | None  # bytes; None: not known without the folder's manifest
    nfiles: int | None
    tracked_by: str = ""  # DVC: the file that declares the output (`a.pkl.dvc`, `dvc.lock`)
    output: str = ""  # DVC: the output's path: the artifact's, or a folder holding it
    md5: str = ""  # DVC: the output's md5 (``.dir``: a folder's manifest)
    legacy: bool = False  # DVC: a DVC 2 hash (md5 of text as LF; the old remote layout)
    project: str = ""  # DVC: the project's folder ("" or a sub-project's)
    remote: str = ""  # DVC: the remote's name ("" : none configured)
    remote_url: str = ""  # DVC: its URL, without credentials

    @property
    def url(self) -> str:
        """The output's object in the remote (a folder's is its manifest); "" when the artifact
        is a file inside a folder output (its object is named in the manifest) or no remote."""
        if self.kind != DVC or not self.remote_url or self.output != self.path:
            return ""
        return object_url(self.remote_url, self.md5, self.legacy)

    def describe(self) -> str:
        """One line for plans and reports: where the bytes come from and how big they are."""
        size = amount(self)
        if self.kind == GIT:
            return f"Git ({size})" if size else "Git"
        where = f"DVC remote {self.remote} ({self.remote_url})" if self.remote else "DVC cache"
        inside = f", in output {self.output}" if self.output != self.path else ""
        return f"{where}{inside}" + (f", {size}" if size else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "commit": self.commit,
            "is_dir": self.is_dir,
            "size": self.size,
            "nfiles": self.nfiles,
            "tracked_by": self.tracked_by or None,
            "output": self.output or None,
            "md5": self.md5 or None,
            "remote": self.remote or None,
            "remote_url": self.remote_url or None,
            "url": self.url or None,
        }


def object_url(remote_url: str, md5: str, legacy: bool) -> str:
    """DVC's object layout: ``files/md5/ab/cdef…`` (DVC 3) or ``ab/cdef…`` (DVC 2)."""
    base = remote_url.rstrip("/")
    return f"{base}/{md5[:2]}/{md5[2:]}" if legacy else f"{base}/files/md5/{md5[:2]}/{md5[2:]}"


def files_count(n: int) -> str:
    return f"{n:,} file{'s' if n != 1 else ''}"


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError


def amount(source: Source) -> str:
    """ "1.2 MB in 3 files"; "" when the size is not known."""
    parts = []
    if source.size is not None:
        parts.append(human_size(source.size))
    if source.is_dir and source.nfiles is not None:
        parts.append(files_count(source.nfiles))
    return " in ".join(parts)


def repo_path(artifact: str, path: str | None) -> tuple[str, str]:
    """(path from the repository's root, DVC project folder) of an artifact's path: a
    ``dir:name`` artifact's path is relative to ``dir``, where its ``dvc.yaml`` is."""
    subdir = artifact.rpartition(":")[0]
    clean = posixpath.normpath(path).lstrip("/") if path else ""
    clean = "" if clean == "." else clean
    if subdir:
        return (posixpath.join(subdir, clean) if clean else subdir), subdir
    return clean, ""


@dataclass(frozen=True)
class Want:
    artifact: str
    path: str | None  # as the registry gives it (artifacts.yaml / dvc.yaml)
    commit: str


def resolve(repo: Path, artifact: str, path: str | None, commit: str) -> Source:
    """What ``artifact``'s ``path`` is at ``commit``; GitopsError when neither Git nor DVC
    has it, YamlFileError (file and line) for a broken DVC file."""
    return resolve_many(repo, [Want(artifact, path, commit)])[Want(artifact, path, commit)]


def resolve_many(repo: Path, wants: Iterable[Want]) -> dict[Want, Source]:
    """Every wanted artifact at its commit, reading all the files involved in one batch; the
    first that cannot be resolved raises."""
    found = resolve_each(repo, wants)
    for value in found.values():
        if isinstance(value, GitopsError):
            raise value
    return found  # type: ignore[return-value]


def resolve_each(repo: Path, wants: Iterable[Want]) -> dict[Want, Source | GitopsError]:
    """``resolve_many`` that keeps each artifact's error as its answer (plans, reports)."""
    wanted = list(dict.fromkeys(wants))
    located = {w: repo_path(w.artifact, w.path) for w in wanted}
    specs: list[str] = []
    for want, (path, project) in located.items():
        specs.append(_spec(want.commit, path))
        specs += [_spec(want.commit, p) for p in _dvc_dirs(path, project)]
    found = objects_at(repo, specs)
    dvc_files: list[str] = []
    projects: dict[Want, str] = {}
    trees: dict[str, list[str]] = {}  # commit -> folders kept in Git, listed in one go
    for want, (path, project) in located.items():
        here = found[_spec(want.commit, path)]
        if here is not None and here.type in ("blob", "tree"):
            if here.type == "tree":
                trees.setdefault(want.commit, []).append(path)
            continue
        roots = [p for p in _dvc_dirs(path, project) if found[_spec(want.commit, p)] is not None]
        if not roots:
            continue  # no DVC project there: the path is in neither (no DVC file to read)
        project = posixpath.dirname(roots[-1])
        projects[want] = project
        dvc_files += [_spec(want.commit, f) for f in _candidates(path, project)]
        dvc_files.append(_spec(want.commit, posixpath.join(project, ".dvc", "config")))
    contents = read_paths_at(repo, dvc_files, max_size=16 << 20) if dvc_files else {}
    listed = {commit: _tree_sizes(repo, commit, paths) for commit, paths in trees.items()}
    result: dict[Want, Source | GitopsError] = {}
    for want, (path, _) in located.items():
        try:
            here = found[_spec(want.commit, path)]
            if here is not None and here.type in ("blob", "tree"):
                count, size = (1, here.size) if here.type == "blob" else listed[want.commit][path]
                result[want] = Source(
                    want.artifact, path, want.commit, GIT, here.type == "tree", size, count
                )
            elif want not in projects:
                raise NotFound(
                    f"{path or '(the whole tree)'} of {want.artifact} is neither in Git nor "
                    f"tracked by DVC at {want.commit[:12]}: it is not in the commit's tree, and "
                    "no DVC project (.dvc/) is there; check the artifact's path in "
                    "artifacts.yaml or dvc.yaml"
                )
            else:
                result[want] = _one(repo, want, path, projects, dvc_files, contents)
        except GitopsError as exc:
            result[want] = exc
    return result


def _tree_sizes(repo: Path, commit: str, paths: list[str]) -> dict[str, tuple[int, int]]:
    """``folder -> (files, bytes)`` for folders of one commit, from one ``git ls-tree``."""
    wanted = list(dict.fromkeys(paths))
    args = [p for p in wanted if p]  # "": the whole tree, which lists everything anyway
    every = "" in wanted
    listing = run_git(
        repo, "ls-tree", "-r", "-l", "-z", "--full-tree", commit, "--", *([] if every else args)
    )
    sizes = dict.fromkeys(wanted, (0, 0))
    for entry in listing.split(b"\0"):
        meta, _, raw = entry.partition(b"\t")
        fields = meta.split()
        if len(fields) != 4 or fields[1] != b"blob":
            continue
        name = raw.decode("utf-8", "surrogateescape")
        size = int(fields[3]) if fields[3].isdigit() else 0
        parts = name.split("/")
        for folder in ("/".join(parts[:i]) for i in range(len(parts))):  # "", a, a/b, ...
            if folder in sizes:
                count, total = sizes[folder]
                sizes[folder] = (count + 1, total + size)
    return sizes


def _one(
    repo: Path,
    want: Want,
    path: str,
    projects: dict[Want, str],
    dvc_files: list[str],
    contents: dict[str, PathAt | None],
) -> Source:
    files = {
        spec.partition(":")[2]: at.content
        for spec in dvc_files
        if spec.startswith(f"{want.commit}:")
        and (at := contents.get(spec)) is not None
        and at.content is not None
    }
    return _dvc_source(repo, want, path, projects[want], files)


def _spec(commit: str, path: str) -> str:
    return f"{commit}:{path}"


def _dvc_dirs(path: str, project: str) -> list[str]:
    """``<folder>/.dvc`` of the project and each folder between it and the artifact,
    outermost first: the deepest that exists is the artifact's DVC project."""
    parts = path.split("/")[:-1] if path else []
    start = len(project.split("/")) if project else 0
    folders = [project] + ["/".join(parts[:i]) for i in range(max(start, 1), len(parts) + 1)]
    return [posixpath.join(f, ".dvc") for f in dict.fromkeys(folders)]


def _candidates(path: str, project: str) -> list[str]:
    """The DVC files that could declare ``path``: ``<it or a parent>.dvc`` and every
    ``dvc.lock``/``dvc.yaml`` from the project's folder down to the artifact's."""
    parts = path.split("/")
    start = len(project.split("/")) if project else 0
    outs = ["/".join(parts[:i]) + ".dvc" for i in range(len(parts), start, -1)]
    folders = ["/".join(parts[:i]) for i in range(start, len(parts))]
    locks = [posixpath.join(f, name) for f in folders for name in ("dvc.lock", "dvc.yaml")]
    return outs + locks


def _dvc_source(repo: Path, want: Want, path: str, project: str, files: dict[str, bytes]) -> Source:
    declared = _find_output(path, _candidates(path, project), files)
    looked = [f for f in _candidates(path, project) if not f.endswith("dvc.yaml")]
    if declared is None:  # a stage elsewhere may write it (its `wdir:`): every dvc.lock
        others = _other_locks(repo, want.commit, project, set(looked))
        if others:
            names = [
                n
                for lock in others
                for n in (lock, posixpath.join(posixpath.dirname(lock), "dvc.yaml"))
            ]
            more = read_paths_at(repo, [_spec(want.commit, n) for n in names], max_size=16 << 20)
            files = files | {
                spec.partition(":")[2]: at.content
                for spec, at in more.items()
                if at is not None and at.content is not None
            }
            declared = _find_output(path, names, files)
            looked += others
    if declared is None:
        raise NotFound(
            f"{path or '(the whole tree)'} of {want.artifact} is neither in Git nor tracked by "
            f"DVC at {want.commit[:12]}: looked for it in the commit's tree and in "
            f"{', '.join(looked)}; check the artifact's path in artifacts.yaml or dvc.yaml"
        )
    tracked_by, output, out, remote_name = declared
    md5 = str(out.get("md5") or "")
    if not md5:
        raise GitopsError(
            f"{tracked_by} declares {output} but records no md5 at {want.commit[:12]}: "
            "it was never committed with `dvc add`/`dvc commit`/`dvc repro`"
        )
    inside = output != path  # a file inside a folder output: its md5 is in the manifest
    is_dir = md5.endswith(".dir") and not inside
    remote, url = _remote(repo, project, files, remote_name, want.commit)
    size = out.get("size") if not inside and isinstance(out.get("size"), int) else None
    nfiles = out.get("nfiles") if isinstance(out.get("nfiles"), int) else None
    return Source(
        want.artifact,
        path,
        want.commit,
        DVC,
        is_dir,
        size,
        None if inside else (nfiles if is_dir else 1),
        tracked_by,
        output,
        md5,
        out.get("hash") != "md5",
        project,
        remote,
        url,
    )


def _other_locks(repo: Path, commit: str, project: str, seen: set[str]) -> list[str]:
    """Every ``dvc.lock`` of the project at ``commit`` not looked at yet."""
    return [n for n in _locks_of(repo, commit, project) if n not in seen]


@functools.lru_cache(maxsize=64)
def _locks_of(repo: Path, commit: str, project: str) -> tuple[str, ...]:
    """Every ``dvc.lock`` of the project at ``commit``: one listing of its tree, once."""
    listing = run_git(
        repo, "ls-tree", "-r", "-z", "--name-only", "--full-tree", commit, "--", project or "."
    )
    names = (n.decode("utf-8", "surrogateescape") for n in listing.split(b"\0") if n)
    return tuple(n for n in names if posixpath.basename(n) == "dvc.lock")


def _find_output(
    path: str, names: list[str], files: dict[str, bytes]
) -> tuple[str, str, dict[str, Any], str] | None:
    """(declaring file, output path, its entry, its ``remote:``) of the output that holds
    ``path``: the nearest ``.dvc`` file first, then the ``dvc.lock`` files."""
    for name in names:
        content = files.get(name)
        if content is None or name.endswith("dvc.yaml"):
            continue
        doc = load_yaml(content, name)
        folder = posixpath.dirname(name)
        if name.endswith(".dvc"):
            entries = _dvc_file_outs(doc, folder)
        else:
            stages_yaml = files.get(posixpath.join(folder, "dvc.yaml"))
            entries = _lock_outs(doc, folder, stages_yaml)
        for output, entry, remote in entries:
            if output == path or path.startswith(output + "/"):
                return name, output, entry, remote
    return None


def _mapping(doc: YamlDocument, value: Any, where: tuple, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise YamlFileError(doc.file, doc.line_of(where), f"{what} must be a mapping")
    return value


def _out_entries(doc: YamlDocument, outs: Any, where: tuple) -> list[tuple[int, dict[str, Any]]]:
    if outs is None:
        return []
    if not isinstance(outs, list):
        raise YamlFileError(doc.file, doc.line_of(where), "outs must be a list")
    entries = []
    for i, entry in enumerate(outs):
        entry = _mapping(doc, entry, (*where, i), "each output")
        if not isinstance(entry.get("path"), str) or not entry["path"]:
            raise YamlFileError(doc.file, doc.line_of((*where, i)), "an output needs a path")
        entries.append((i, entry))
    return entries


def _join(folder: str, wdir: Any, path: str) -> str:
    joined = posixpath.join(folder, wdir if isinstance(wdir, str) else "", path)
    return posixpath.normpath(joined).lstrip("/")


def _dvc_file_outs(doc: YamlDocument, folder: str) -> list[tuple[str, dict[str, Any], str]]:
    data = _mapping(doc, doc.data or {}, (), "a .dvc file")
    return [
        (_join(folder, data.get("wdir"), entry["path"]), entry, str(entry.get("remote") or ""))
        for _, entry in _out_entries(doc, data.get("outs"), ("outs",))
    ]


def _lock_outs(
    doc: YamlDocument, folder: str, stages_yaml: bytes | None
) -> list[tuple[str, dict[str, Any], str]]:
    data = _mapping(doc, doc.data or {}, (), "dvc.lock")
    stages = data.get("stages") if "schema" in data else data  # DVC 1's lock: stages on top
    stages = _mapping(doc, stages or {}, ("stages",), "stages")
    declared = _stage_declarations(stages_yaml, folder)
    found = []
    for name, stage in stages.items():
        stage = _mapping(doc, stage, ("stages", name), f"stage {name}")
        wdir, remotes = declared.get(str(name).partition("@")[0], (None, {}))
        for _, entry in _out_entries(doc, stage.get("outs"), ("stages", name, "outs")):
            remote = remotes.get(entry["path"], "")
            found.append((_join(folder, wdir, entry["path"]), entry, remote))
    return found


def _stage_declarations(content: bytes | None, folder: str) -> dict[str, tuple[Any, dict]]:
    """``stage -> (wdir, {out path: remote})`` from the ``dvc.yaml`` beside a ``dvc.lock``."""
    if content is None:
        return {}
    doc = load_yaml(content, posixpath.join(folder, "dvc.yaml"))
    stages = doc.data.get("stages") if isinstance(doc.data, dict) else None
    result: dict[str, tuple[Any, dict]] = {}
    for name, stage in (stages or {}).items() if isinstance(stages, dict) else ():
        if not isinstance(stage, dict):
            continue
        body = stage.get("do") if isinstance(stage.get("do"), dict) else stage  # foreach
        remotes: dict[str, str] = {}
        for out in body.get("outs") or [] if isinstance(body.get("outs"), list) else []:
            if isinstance(out, dict):
                for out_path, options in out.items():
                    if isinstance(options, dict) and isinstance(options.get("remote"), str):
                        remotes[str(out_path)] = options["remote"]
        result[str(name)] = (body.get("wdir"), remotes)
    return result


_REMOTE_SECTION = re.compile(r"""^\s*'?\s*remote\s+"(.+)"\s*'?\s*$""")


def _remote(
    repo: Path, project: str, files: dict[str, bytes], named: str, commit: str
) -> tuple[str, str]:
    """(name, URL without credentials) of the output's remote; ("", "") when none is set."""
    config_name = posixpath.join(project, ".dvc", "config")
    local = repo / project / ".dvc" / "config.local"
    sections: dict[str, dict[str, str]] = {}
    texts = [(config_name, files.get(config_name, b"").decode("utf-8", "replace"))]
    if local.is_file():
        texts.append((str(local), local.read_text(encoding="utf-8", errors="replace")))
    for name, text in texts:
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(text, source=name)
        except configparser.Error as exc:
            raise GitopsError(f"{name}: cannot read DVC's config: {exc}") from None
        for section in parser.sections():
            match = _REMOTE_SECTION.match(section)
            key = f"remote:{match.group(1)}" if match else section.strip().strip("'")
            sections.setdefault(key, {}).update(parser[section])
    remote = named or sections.get("core", {}).get("remote", "")
    if not remote:
        return "", ""
    settings = sections.get(f"remote:{remote}")
    if settings is None or not settings.get("url"):
        where = f" (the output's remote: {named})" if named else ""
        raise GitopsError(
            f"DVC remote {remote!r}{where} is not defined in {config_name} at {commit[:12]}"
        )
    return remote, _clean_url(settings["url"], repo / project / ".dvc")


def _clean_url(url: str, config_dir: Path) -> str:
    parts = urlsplit(url)
    if parts.scheme and len(parts.scheme) > 1:  # not a Windows drive letter
        netloc = parts.netloc.rpartition("@")[2]  # user:password@, and a query, may hold secrets
        return urlunsplit(parts._replace(netloc=netloc, query="", fragment=""))
    return str((config_dir / url).resolve()) if not Path(url).is_absolute() else url
