"""Which metrics, params and plots files a report reads at one revision, in declared order.

Per kind, the first of these that names any file wins:

1. ``reports.metrics`` / ``reports.params`` / ``reports.plots`` in gitops.yaml;
2. what the ``dvc.yaml`` files declare, as DVC reads them: the root one first, then each
   sub-project's ``dir/dvc.yaml`` in path order, whose paths are relative to its folder (and a
   stage's to its ``wdir``). Top-level ``metrics:``, ``params:`` and ``plots:``, then each
   stage's ``metrics:`` and ``plots:`` outputs and ``params:`` dependencies: ``{file.yaml:
   [keys]}`` reads ``file.yaml`` (those keys only, as ``dvc params diff`` shows them), a bare
   name ``lr`` the ``params.yaml`` DVC implies (in the stage's folder). Like DVC, a root
   ``params.yaml`` is read whenever it exists, declared or not.
3. ``metrics.json`` / ``params.yaml`` at the root when they exist.

Pure: the caller hands in the ``dvc.yaml`` contents and a ``present(path)`` answer for the
revision. A malformed ``dvc.yaml`` is not fatal: the rest is read and a note says why.
Templated entries (``${...}``, ``foreach``/``matrix`` stages) cannot be resolved without DVC's
variables: they are left out with a note. Image plots (``.png``...) are not charted: noted.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from gitops.report.model import Declared, PlotSpec

if TYPE_CHECKING:
    from gitops.report.settings import ReportSettings

DEFAULT_METRICS = "metrics.json"
DEFAULT_PARAMS = "params.yaml"  # DVC's ParamsDependency.DEFAULT_PARAMS_FILE
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".svg")  # DVC's image plots


def dvc_yaml_order(paths: Iterable[str]) -> list[str]:
    """``dvc.yaml`` first, then sub-projects' ``dir/dvc.yaml`` in path order."""
    found = {p for p in paths if p == "dvc.yaml" or p.endswith("/dvc.yaml")}
    return sorted(found, key=lambda p: (p != "dvc.yaml", p))


def declared_at(
    settings: ReportSettings | None,
    dvc_yamls: Mapping[str, bytes | None],
    present: Callable[[str], bool],
) -> Declared:
    """The files to read at one revision (see the module docstring for the rules)."""
    collected = _Collector()
    dvc_paths = [p for p in dvc_yaml_order(dvc_yamls) if dvc_yamls.get(p) is not None]
    for path in dvc_paths:
        collected.read_dvc_yaml(path, dvc_yamls[path] or b"")

    sources: list[str] = []
    metrics: tuple[str, ...]
    if settings is not None and settings.metrics is not None:
        metrics, source = _unique(settings.metrics), "gitops.yaml"
    elif collected.metrics:
        metrics, source = _unique(collected.metrics), "dvc.yaml"
    else:
        metrics = (DEFAULT_METRICS,) if present(DEFAULT_METRICS) else ()
        source = "default"
    sources.append(source)

    param_keys: dict[str, tuple[str, ...]] = {}
    if settings is not None and settings.params is not None:
        params, source = _unique(settings.params), "gitops.yaml"
    elif collected.params:
        files = list(collected.params)
        if present(DEFAULT_PARAMS) and DEFAULT_PARAMS not in collected.params:
            files.append(DEFAULT_PARAMS)  # DVC reads the root params.yaml whenever it exists
        params, source = tuple(files), "dvc.yaml"
        param_keys = collected.keys_tracked(present(DEFAULT_PARAMS))
    else:
        params = (DEFAULT_PARAMS,) if present(DEFAULT_PARAMS) else ()
        source = "default"
    sources.append(source)

    if settings is not None and settings.plots is not None:
        plots, source = _settings_plots(settings), "gitops.yaml"
    else:
        plots = _unique_plots(collected.plots)
        source = "dvc.yaml" if plots else "default"
    sources.append(source)

    described = []
    for source in dict.fromkeys(sources):
        if source == "dvc.yaml":
            described.append(", ".join(dvc_paths))
        elif source != "default" or len(set(sources)) == 1:
            described.append(source)
    return Declared(
        metrics=metrics,
        params=params,
        plots=plots,
        source=", ".join(d for d in described if d) or "default",
        param_keys=tuple(sorted(param_keys.items(), key=lambda kv: params.index(kv[0]))),
        notes=tuple(collected.notes) if set(sources) != {"gitops.yaml"} else (),
        dvc_cached=tuple(
            p for p in dict.fromkeys(collected.cached) if p in {*metrics, *(s.path for s in plots)}
        ),
    )


def _unique(paths: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_clean(p) for p in paths if p))


def _clean(path: str) -> str:
    """A repository path as git names it: ``./a//b.json`` -> ``a/b.json``."""
    return posixpath.normpath(path.replace("\\", "/")).lstrip("/")


def _settings_plots(settings: ReportSettings) -> tuple[PlotSpec, ...]:
    specs = []
    for plot in settings.plots or ():
        y = plot.y
        ys = (y,) if isinstance(y, str) else tuple(y or ())
        specs.append(PlotSpec(path=_clean(plot.path), x=plot.x, y=ys, title=plot.title))
    return _unique_plots(specs)


def _unique_plots(specs: Iterable[PlotSpec]) -> tuple[PlotSpec, ...]:
    """One spec per path and axes, the first declared first."""
    return tuple(dict.fromkeys(specs))


class _Collector:
    """Files declared by the ``dvc.yaml`` files, in the order they are met."""

    def __init__(self) -> None:
        self.metrics: list[str] = []
        self.params: dict[str, list[str] | None] = {}  # file -> keys (None: the whole file)
        self.plots: list[PlotSpec] = []
        self.notes: list[str] = []
        self.cached: list[str] = []  # stage outputs without `cache: false`

    def keys_tracked(self, root_params_present: bool) -> dict[str, tuple[str, ...]]:
        """Files only some keys of which are tracked (DVC's ``_merge_params``)."""
        out = {f: tuple(dict.fromkeys(k)) for f, k in self.params.items() if k is not None}
        if root_params_present:
            out.pop(DEFAULT_PARAMS, None)  # read whole whenever it exists
        return out

    def read_dvc_yaml(self, path: str, content: bytes) -> None:
        folder = posixpath.dirname(path)
        data, error = _load(path, content)
        if error:
            self.notes.append(error)
            return
        if data is None:
            return
        if not isinstance(data, dict):
            self.notes.append(f"{path}: not read: the top level is not a mapping")
            return
        where = _Where(self, path, folder)
        where.metrics(data.get("metrics"), "metrics")
        where.params(data.get("params"), "params", top_level=True)
        where.plots(data.get("plots"), "plots")
        stages = data.get("stages")
        if stages is None:
            return
        if not isinstance(stages, dict):
            self.notes.append(f"{path}: stages: not a mapping, not read")
            return
        for name, stage in stages.items():
            if not isinstance(stage, dict):
                continue
            if "foreach" in stage or "matrix" in stage:
                if any(k in _dict(stage.get("do")) or k in stage for k in _STAGE_FILES):
                    self.notes.append(
                        f"{path}: stage {name}: foreach/matrix stages are not expanded, "
                        "their files are not read"
                    )
                continue
            wdir = stage.get("wdir", ".")
            if not isinstance(wdir, str) or "${" in wdir:
                self.notes.append(f"{path}: stage {name}: wdir {wdir!r} not resolved, skipped")
                continue
            at = _Where(self, path, posixpath.join(folder, wdir), outputs=True)
            label = f"stages.{name}"
            at.metrics(stage.get("metrics"), f"{label}.metrics")
            at.params(stage.get("params"), f"{label}.params", top_level=False)
            at.plots(stage.get("plots"), f"{label}.plots")


_STAGE_FILES = ("metrics", "params", "plots")


def _dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _load(path: str, content: bytes) -> tuple[Any, str]:
    """The document, or a one-line reason it cannot be read (DVC reads it with ruamel)."""
    from gitops.yaml12_fast import NotSimple, load
    from gitops.yamlfile import YamlFileError, load_gto_yaml

    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, f"{path}: not read: not UTF-8"
    try:
        return load(text), ""
    except NotSimple:
        pass
    except RecursionError:
        return None, f"{path}: not read: nested too deeply"
    try:
        return load_gto_yaml(text, path).data, ""
    except YamlFileError as exc:
        return None, f"{str(exc).splitlines()[0]} (not read)"


class _Where:
    """Paths declared in one ``dvc.yaml`` (or one stage of it), relative to ``folder``."""

    def __init__(self, into: _Collector, dvc_yaml: str, folder: str, outputs: bool = False) -> None:
        self.into, self.dvc_yaml, self.folder = into, dvc_yaml, folder
        self.outputs = outputs  # a stage's metrics and plots are its outputs

    def _output(self, path: str, props: Any) -> None:
        """DVC caches an output unless it says ``cache: false``: then it is not in git."""
        if self.outputs and not (isinstance(props, dict) and props.get("cache") is False):
            self.into.cached.append(path)

    def _note(self, text: str) -> None:
        self.into.notes.append(f"{self.dvc_yaml}: {text}")

    def _path(self, raw: Any, label: str) -> str | None:
        if not isinstance(raw, str) or not raw:
            self._note(f"{label}: {raw!r} is not a path, skipped")
            return None
        if "${" in raw:
            self._note(f"{label}: {raw} is templated, not resolved, skipped")
            return None
        path = _clean(posixpath.join(self.folder, raw))
        if path == ".." or path.startswith("../"):
            self._note(f"{label}: {raw} is outside the repository, skipped")
            return None
        return path

    def _entries(self, value: Any, label: str) -> list[tuple[Any, Any]]:
        """A list of ``path`` or ``{path: props}`` items (a mapping is taken as one)."""
        if value is None:
            return []
        if isinstance(value, dict):
            value = [{k: v} for k, v in value.items()]
        if not isinstance(value, list):
            self._note(f"{label}: not a list, skipped")
            return []
        out: list[tuple[Any, Any]] = []
        for item in value:
            if isinstance(item, dict):
                out.extend(item.items())
            else:
                out.append((item, None))
        return out

    def metrics(self, value: Any, label: str) -> None:
        for raw, props in self._entries(value, label):
            path = self._path(raw, label)
            if path is not None:
                self.into.metrics.append(path)
                self._output(path, props)

    def params(self, value: Any, label: str, top_level: bool) -> None:
        tracked = self.into.params
        if top_level:
            for raw, _props in self._entries(value, label):
                path = self._path(raw, label)
                if path is not None:
                    tracked[path] = None
            return
        if value is None:
            return
        if not isinstance(value, list):
            self._note(f"{label}: not a list, skipped")
            return
        default = _clean(posixpath.join(self.folder, DEFAULT_PARAMS))
        for item in value:
            if isinstance(item, str):  # a key of the params.yaml DVC implies
                self._track(default, [item])
            elif isinstance(item, dict):
                for raw, keys in item.items():
                    path = self._path(raw, label)
                    if path is None:
                        continue
                    if keys is None or keys == []:
                        tracked[path] = None  # the whole file
                    elif isinstance(keys, list) and all(isinstance(k, str) for k in keys):
                        self._track(path, keys)
                    else:
                        self._note(f"{label}: {raw}: keys must be a list of names, skipped")
            else:
                self._note(f"{label}: {item!r} is not a name or {{file: [keys]}}, skipped")

    def _track(self, path: str, keys: list[str]) -> None:
        tracked = self.into.params
        if path not in tracked:
            tracked[path] = list(keys)
        elif tracked[path] is not None:
            tracked[path] = [*(tracked[path] or []), *keys]

    def plots(self, value: Any, label: str) -> None:
        for raw, props in self._entries(value, label):
            props = props if isinstance(props, dict) else {}
            if "y" not in props or not isinstance(props["y"], dict):
                path = self._path(raw, label) if isinstance(raw, str) and raw else None
                if path is not None:
                    self._output(path, props)
            y = props.get("y")
            if isinstance(y, dict):  # multi-file plot: {file: field(s)}; raw is only an id
                x = props.get("x")
                for file, fields in y.items():
                    fx = x.get(file) if isinstance(x, dict) else x
                    self._plot(file, fx, fields, props.get("title") or raw, label)
            else:
                self._plot(raw, props.get("x"), y, props.get("title"), label)

    def _plot(self, raw: Any, x: Any, y: Any, title: Any, label: str) -> None:
        path = self._path(raw, label)
        if path is None:
            return
        if path.lower().endswith(IMAGE_EXTENSIONS):
            self._note(f"{label}: {path} is an image, not charted")
            return
        ys = (y,) if isinstance(y, str) else tuple(v for v in y or () if isinstance(v, str))
        self.into.plots.append(
            PlotSpec(
                path=path,
                x=x if isinstance(x, str) else None,
                y=ys,
                title=title if isinstance(title, str) else None,
            )
        )
