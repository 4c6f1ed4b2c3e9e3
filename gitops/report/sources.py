"""Which files a report reads at one revision, in the order they are declared.

Per kind (metrics, params, plots), the first that says something wins:

1. ``reports.metrics`` / ``reports.params`` / ``reports.plots`` in gitops.yaml;
2. what the revision's ``dvc.yaml`` files declare: the top-level ``metrics:``, ``params:`` and
   ``plots:`` lists, then each stage's ``metrics:`` and ``plots:`` outputs and ``params:``
   dependencies (a bare param name is a key of ``params.yaml`` beside that ``dvc.yaml``,
   ``{file.yaml: [keys]}`` names the file). A ``dvc.yaml`` in a folder (a sub-project, whose
   artifacts GTO names ``dir:name``) declares paths relative to that folder;
3. ``metrics.json`` / ``params.yaml`` at the root, when the revision has them.

Pure: the caller reads the ``dvc.yaml`` files and says which default files exist.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from typing import Any

from gitops.report.model import Declared, PlotSpec
from gitops.report.settings import ReportSettings

DVC_YAML = "dvc.yaml"
DEFAULT_METRICS = "metrics.json"
DEFAULT_PARAMS = "params.yaml"


def declared_at(
    settings: ReportSettings | None,
    dvc_yamls: Mapping[str, bytes | None],
    present: Callable[[str], bool],
) -> Declared:
    """The files of each kind; ``dvc_yamls``: each ``dvc.yaml``'s path -> its content at the
    revision (None: not there), root first."""
    settings = settings or ReportSettings()
    metrics: list[str] = []
    params: list[str] = []
    plots: list[PlotSpec] = []
    notes: list[str] = []
    found = []
    for path, content in dvc_yamls.items():
        if content is None:
            continue
        data, error = _load(content)
        if error:
            notes.append(f"{path}: {error}; its metrics, params and plots are not read")
            continue
        found.append(path)
        base = posixpath.dirname(path)
        _declarations(data, base, metrics, params, plots)
    source = ", ".join(found) if found else "default"
    if settings.metrics is not None:
        metrics = list(settings.metrics)
    elif not found and present(DEFAULT_METRICS):
        metrics = [DEFAULT_METRICS]
    if settings.params is not None:
        params = list(settings.params)
    elif not found and present(DEFAULT_PARAMS):
        params = [DEFAULT_PARAMS]
    if settings.plots is not None:
        plots = [_spec_from_settings(p) for p in settings.plots]
    if settings.metrics is not None or settings.params is not None or settings.plots is not None:
        source = "gitops.yaml" + (f" and {source}" if found else "")
    return Declared(
        metrics=_unique(metrics),
        params=_unique(params),
        plots=_unique_plots(plots),
        source=source,
        notes=tuple(notes),
    )


def needs_dvc_yaml(settings: ReportSettings | None) -> bool:
    """False when gitops.yaml names every kind: no ``dvc.yaml`` needs reading."""
    s = settings or ReportSettings()
    return s.metrics is None or s.params is None or s.plots is None


def _load(content: bytes) -> tuple[Any, str]:
    """A dvc.yaml's mapping, or the one-line reason it cannot be read."""
    from gitops.report.formats import Malformed, load_yaml_bytes

    try:
        data = load_yaml_bytes(content)
    except Malformed as exc:
        return None, str(exc)
    if data is None:
        return {}, ""
    if not isinstance(data, dict):
        return None, "not a mapping"
    return data, ""


def _join(base: str, path: Any) -> str | None:
    if not isinstance(path, str) or not path:
        return None
    return posixpath.normpath(posixpath.join(base, path)) if base else posixpath.normpath(path)


def _paths(entries: Any, base: str) -> list[str]:
    """A ``metrics:``/``outs``-style list: paths, or ``{path: {cache: false, ...}}`` items."""
    out: list[str] = []
    if not isinstance(entries, list):
        return out
    for item in entries:
        if isinstance(item, dict):
            for key in item:
                joined = _join(base, key)
                if joined:
                    out.append(joined)
        else:
            joined = _join(base, item)
            if joined:
                out.append(joined)
    return out


def _plot_specs(entries: Any, base: str) -> list[PlotSpec]:
    """``plots:``: paths, or ``{path_or_id: {x, y, title}}`` where a ``y`` of ``{file: field}``
    names the file (the key is then only an id); such a plot is drawn from its first file."""
    out: list[PlotSpec] = []
    if not isinstance(entries, list):
        return out
    for item in entries:
        if not isinstance(item, dict):
            path = _join(base, item)
            if path:
                out.append(PlotSpec(path))
            continue
        for key, props in item.items():
            props = props if isinstance(props, dict) else {}
            path, y = _join(base, key), props.get("y")
            if isinstance(y, dict) and y:
                first, y = next(iter(y.items()))
                path = _join(base, first)
            if path:
                out.append(_spec(path, props.get("x"), y, props.get("title")))
    return out


def _spec(path: str, x: Any, y: Any, title: Any) -> PlotSpec:
    if isinstance(y, str):
        ys: tuple[str, ...] = (y,)
    elif isinstance(y, list):
        ys = tuple(str(v) for v in y if isinstance(v, str))
    else:
        ys = ()
    return PlotSpec(
        path,
        x if isinstance(x, str) else None,
        ys,
        title if isinstance(title, str) else None,
    )


def _spec_from_settings(p: Any) -> PlotSpec:
    return _spec(p.path, p.x, p.y, p.title)


def _params(entries: Any, base: str) -> list[str]:
    """A stage's ``params:``: bare names are keys of ``params.yaml`` beside its dvc.yaml."""
    out: list[str] = []
    if not isinstance(entries, list):
        return out
    for item in entries:
        if isinstance(item, dict):
            for key in item:
                joined = _join(base, key)
                if joined:
                    out.append(joined)
        elif isinstance(item, str):
            out.append(_join(base, DEFAULT_PARAMS) or DEFAULT_PARAMS)
    return out


def _declarations(
    data: dict[str, Any], base: str, metrics: list[str], params: list[str], plots: list[PlotSpec]
) -> None:
    metrics += _paths(data.get("metrics"), base)
    params += _paths(data.get("params"), base)
    plots += _plot_specs(data.get("plots"), base)
    stages = data.get("stages")
    if not isinstance(stages, dict):
        return
    for stage in stages.values():
        if not isinstance(stage, dict):
            continue
        wdir = _join(base, stage["wdir"]) if isinstance(stage.get("wdir"), str) else None
        wdir = wdir if wdir and wdir != "." else base
        metrics += _paths(stage.get("metrics"), wdir)
        plots += _plot_specs(stage.get("plots"), wdir)
        params += _params(stage.get("params"), wdir)


def _unique(paths: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for p in paths if not p.startswith("../")))


def _unique_plots(specs: list[PlotSpec]) -> tuple[PlotSpec, ...]:
    seen: dict[str, PlotSpec] = {}
    for spec in specs:
        if not spec.path.startswith("../"):
            seen.setdefault(spec.path, spec)
    return tuple(seen.values())
