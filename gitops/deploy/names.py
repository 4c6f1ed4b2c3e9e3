"""The names in gitops.yaml checked against the registry, before anything is planned.

A stage or artifact name with a typo (`stage: prdo`, `artifacts: [chrun]`) matches nothing in
the registry: the environment's desired state is then empty, and with ``prune: true`` the plan
removes what runs there. So a stage must be one ``.gto`` allows (when it lists stages), or one
some tag has used (an assignment or unassignment, of any artifact, now or in the past); an
artifact must be one the registry knows. A stage nothing has used yet can be allowed on purpose
(``allow_unknown_stage: true``, or ``--allow-unknown-stage``): it is then a warning on every run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import NamedTuple

from gitops.config import GitopsConfig
from gitops.registry.annotations import find_dvc_artifact, read_dvc_artifacts
from gitops.registry.reader import Registry
from gitops.registry.tags import name_to_tag, parse_tag_parts
from gitops.yamlfile import YamlFileError


class NameWarning(NamedTuple):
    """A name allowed on purpose, said on every run so that it is never silent."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


def check_names(
    config: GitopsConfig, registry: Registry, allow_unknown_stage: bool = False
) -> list[NameWarning]:
    """Raise ``YamlFileError`` (file, line of the value) for the first stage or artifact the
    registry does not know; return a warning for each unused stage allowed on purpose."""
    warnings: list[NameWarning] = []
    allowed = registry.config.stages
    used = set() if allowed is not None else used_stages(registry, _stages(config))
    for name, env in config.environments.items():
        path = ("environments", name, "stage")
        if allowed is not None:
            if env.stage not in allowed:
                raise _error(
                    config,
                    path,
                    f"stage {env.stage!r} is not one .gto allows "
                    f"({', '.join(allowed) or 'it allows none'})",
                    did_you_mean(env.stage, allowed),
                )
        elif env.stage not in used:
            message = f"no tag has ever used stage {env.stage!r}"
            if not (env.allow_unknown_stage or allow_unknown_stage):
                hint = did_you_mean(env.stage, used_stages(registry))
                new = (
                    "a new stage? set `allow_unknown_stage: true` on the environment "
                    "(or run with --allow-unknown-stage)"
                )
                raise _error(config, path, message, f"{hint}; {new}" if hint else new)
            by = "allow_unknown_stage" if env.allow_unknown_stage else "--allow-unknown-stage"
            file, line = config.line_of(path)
            message = f"{_dotted(path)}: {message} (allowed by {by})"
            warnings.append(NameWarning(file, line, message))
        for i, artifact in enumerate(env.artifacts or []):
            if not _artifact_known(registry, artifact):
                raise _error(
                    config,
                    ("environments", name, "artifacts", i),
                    f"unknown artifact {artifact!r}: no tag, {registry.config.index} or "
                    "dvc.yaml declares it",
                    did_you_mean(artifact, _known_artifacts(registry)),
                )
    return warnings


def _stages(config: GitopsConfig) -> set[str]:
    return {env.stage for env in config.environments.values()}


def _error(config: GitopsConfig, path: tuple, message: str, hint: str = "") -> YamlFileError:
    file, line = config.line_of(path)
    return YamlFileError(file, line, f"{_dotted(path)}: {message}", hint)


def _dotted(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(known)), n=1)
    return f"did you mean {close[0]!r}?" if close else ""


def used_stages(registry: Registry, wanted: set[str] | None = None) -> set[str]:
    """The stages (of ``wanted``, or all) that some assignment or unassignment tag names: one
    pass over the tags, parsing only the names that can hold such a stage."""
    found: set[str] = set()
    for record in registry.tags:
        ref, name = record.ref, record.name
        for tag in (ref,) if name == ref else (ref, name):
            if "#" not in tag:
                continue
            stage = tag.split("#", 2)[1]  # `artifact#stage[!][#N]`: no `#` in an artifact
            stage = stage[:-1] if stage.endswith("!") else stage
            if stage in found or (wanted is not None and stage not in wanted):
                continue
            parts = parse_tag_parts(tag)
            if parts is not None and parts[3] == stage:
                found.add(stage)
                if wanted is not None and len(found) == len(wanted):
                    return found
    return found


def _artifact_known(registry: Registry, name: str) -> bool:
    state = registry.state
    if name in state.artifacts or name in state.conflicts:
        return True  # a tag, or the annotation file at HEAD
    prefix = name_to_tag(name)
    for record in registry.tags:  # a tag the state leaves out (lightweight, unparsable counter)
        if record.ref.startswith(prefix):
            parts = parse_tag_parts(record.ref)
            if parts is not None and parts[0] == name:
                return True
    return find_dvc_artifact(registry.root, name) is not None


def _known_artifacts(registry: Registry) -> set[str]:
    known = set(registry.state.artifacts) | set(registry.state.conflicts)
    known |= {parts[0] for r in registry.tags if (parts := parse_tag_parts(r.ref)) is not None}
    try:
        known |= set(read_dvc_artifacts(registry.root))
    except YamlFileError:
        pass  # only for a suggestion
    return known
