"""Open a repository and build its registry state: git reads -> parsed tags -> state."""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from gitops.errors import GitopsError
from gitops.registry import git
from gitops.registry.annotations import ArtifactsYamlReader, GtoConfig, read_gto_config
from gitops.registry.state import RegistryEvent, RegistryState, build_state
from gitops.registry.tags import Event, is_valid_fullname, name_to_tag, parse_tag_parts

if TYPE_CHECKING:
    from gitops.registry.annotations import Annotation

Annotations = dict[str, dict[str, "Annotation"]]  # commit sha -> artifact name -> annotation


class Registry(NamedTuple):
    """A repository's registry: where it is, its ``.gto`` config, its tags and its state."""

    root: Path
    config: GtoConfig
    tags: list[git.TagRecord]
    state: RegistryState
    warnings: list[str]

    def tag(self, name: str) -> git.TagRecord | None:
        for record in self.tags:
            if record.ref == name:
                return record
        return None

    @property
    def stages(self) -> list[str]:
        """Registry columns: ``.gto`` stages if set, else every stage in use."""
        if self.config.stages is not None:
            return list(self.config.stages)
        return self.state.used_stages()


def tag_events(
    records: list[git.TagRecord],
    include_lightweight: bool,
    warnings: list[str],
    sources: list[str] | None = None,
) -> list[RegistryEvent]:
    """Registry tags as events, in tag-name order. Lightweight tags only when asked (gto#127).

    A second ref to one tag object repeats its event: kept here, as GTO reads it, and skipped
    by ``build_state``, as GTO's ``add_event`` skips it (after its side effects).
    ``sources`` (if given) gets the ref of each event and of each warning, in that order: each
    record gives its event or warning alone, so a registry without some refs can filter them.
    """
    events: list[RegistryEvent] = []
    warned: list[str] = []
    names: dict[str, str] = {}  # one string per artifact and stage name, shared by all events
    for record in records:
        ref, name, annotated, _, target_type, tagger, email, time, offset, message, commit = record
        parsed = parse_tag_parts(ref)
        if parsed is None or not (annotated or include_lightweight):
            continue
        if name != ref:
            parsed = parse_tag_parts(name)
            if parsed is None:
                warnings.append(
                    f"tag {ref!r} holds a tag object named {name!r}, "
                    "which is not a registry tag; ignored"
                )
                if sources is not None:
                    warned.append(ref)
                continue
        if commit is None:
            warnings.append(
                f"tag {ref!r} points at a {target_type or 'missing object'}, not a commit; ignored"
            )
            if sources is not None:
                warned.append(ref)
            continue
        artifact, kind, version, stage, _ = parsed
        artifact = names.setdefault(artifact, artifact)
        if stage is not None:
            stage = names.setdefault(stage, stage)
        events.append(
            RegistryEvent(
                kind,
                artifact,
                time,
                offset,
                tagger,
                email,
                message,
                commit.sha,
                name,
                version,
                stage,
            )  # fmt: skip
        )
        if sources is not None:
            sources.append(ref)
    if sources is not None:
        sources += warned
    return events


def _without_gc(method: Callable[..., Any]) -> Callable[..., Any]:
    """Millions of objects and no garbage: collection passes would only slow the read down."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        collecting = gc.isenabled()
        gc.disable()
        try:
            return method(*args, **kwargs)
        finally:
            if collecting:
                gc.enable()

    return wrapper


class RegistrySource(NamedTuple):
    """Everything git has for the registry, read once; registries are built from it.

    Stage moves compare the registry with and without some tags: both come from one read.
    """

    root: Path
    config: GtoConfig
    records: list[git.TagRecord]
    blobs: git.Blobs
    include_lightweight: bool
    events: list[RegistryEvent]  # of all records
    warnings: list[str]
    only: str | None = None  # the one artifact read (see ``read``)
    memo: dict[str, Any] | None = None  # what ``registry`` works out once for every registry

    @classmethod
    @_without_gc
    def read(
        cls, path: Path | str = ".", include_lightweight: bool = False, only: str | None = None
    ) -> RegistrySource:
        """Read the registry; with ``only``, just that artifact's tags (artifacts are
        independent in GTO's state, so its answers are the same as from a full read).

        The filter is on ref names (``refs/tags/NAME@*``, ``NAME#*``): a ref renamed
        across artifacts (its tag object named for ``only`` under another artifact's ref name)
        is only seen by a full read.
        """
        root = git.repo_root(Path(path))
        config = read_gto_config(root)
        if only is not None and not is_valid_fullname(only):
            only = None  # not a name any tag can carry: a full read says "not found"
        patterns = None
        if only is not None:
            prefix = name_to_tag(only)
            # wildmatch's `*` stops at '/'; `*/**` covers the rest (`name#stage/sub`)
            patterns = tuple(f"refs/tags/{prefix}{c}{g}" for c in "@#" for g in ("*", "*/**"))
        records = git.read_tags(root, patterns)
        # The version commits are among the tags' commits: git looks for the annotation file
        # at each of them while the tags become events.
        ids = git.BlobIds(root, config.index, [r.commit.sha for r in records if r.commit])
        warnings: list[str] = []
        sources: list[str] = []
        events = tag_events(records, include_lightweight, warnings, sources)
        if only is not None:
            kept = [i for i, e in enumerate(events) if e.artifact == only]
            sources = [sources[i] for i in kept] + sources[len(events) :]
            events = [events[i] for i in kept]
        version_commits = [e.commit for e in events if e.kind != Event.DEPRECATION]
        parse = _annotation_parser(config.index)
        blobs = git.read_files_at(root, config.index, version_commits, parse, ids)
        memo: dict[str, Any] = {"sources": sources}
        return cls(root, config, records, blobs, include_lightweight, events, warnings, only, memo)

    def annotations(self) -> Annotations:
        """``artifacts.yaml`` at each commit that has one (each distinct content was parsed
        once, as ``read`` read it).

        A file GTO refuses fails here, not in ``read``: a command that finds its tag missing
        reads no annotation (as GTO), so a broken file cannot fail it. The error is the one of
        the first commit (versions in tag order, then HEAD) whose file is refused.
        """
        memo = self.memo if self.memo is not None else {}
        if "annotations" not in memo:
            result: Annotations = {}
            contents = self.blobs.contents
            for sha, blob in self.blobs.files.items():
                if blob is not None:
                    notes = contents[blob]
                    if type(notes) is _Refused:
                        raise notes.error
                    result[sha] = notes
            memo["annotations"] = result
        return memo["annotations"]

    @_without_gc
    def registry(
        self, without: frozenset[str] = frozenset(), artifacts: Collection[str] | None = None
    ) -> Registry:
        """The registry as if the tags named in ``without`` did not exist; with ``artifacts``,
        the state of those artifacts only (as in a full registry: each artifact's state depends
        on its own tags alone), for comparing a few artifacts without building all the others.
        """
        records, events, warnings = self.records, self.events, self.warnings
        memo = self.memo if self.memo is not None else {}
        if without:
            records = [r for r in records if r.ref not in without]
            if "sources" in memo:
                sources = memo["sources"]
                events = [e for e, r in zip(events, sources, strict=False) if r not in without]
                warned = sources[len(self.events) :]
                warnings = [w for w, r in zip(warnings, warned, strict=True) if r not in without]
            else:
                warnings = []
                events = tag_events(records, self.include_lightweight, warnings)
                if self.only is not None:
                    events = [e for e in events if e.artifact == self.only]
        if artifacts is not None:
            events = [e for e in events if e.artifact in artifacts]
        if "commits" not in memo:  # a commit a removed tag points at is not asked for
            commits = {r.commit.sha: r.commit for r in self.records if r.commit is not None}
            if self.blobs.head is not None:
                commits.setdefault(self.blobs.head.sha, self.blobs.head)
            memo["commits"] = commits
        annotations = self.annotations()
        head = self.blobs.head
        keep = {self.only} if self.only is not None else artifacts
        if keep is not None and head is not None and head.sha in annotations:
            notes = annotations[head.sha]  # HEAD discovers only the artifacts read
            annotations = dict(annotations)
            annotations[head.sha] = {k: v for k, v in notes.items() if k in keep}
        state = build_state(events, memo["commits"], annotations, self.blobs.head)
        return Registry(
            root=self.root, config=self.config, tags=records, state=state, warnings=warnings
        )


def load_registry(
    path: Path | str = ".", include_lightweight: bool = False, only: str | None = None
) -> Registry:
    """Read everything the registry needs in a few git processes and build the state
    (of the artifact ``only`` alone, when given: see ``RegistrySource.read``)."""
    return RegistrySource.read(path, include_lightweight, only).registry()


class _Refused(NamedTuple):
    """A file GTO refuses: its error, raised when the annotations are asked for."""

    error: GitopsError


def _annotation_parser(index: str) -> Callable[[bytes, str], Any]:
    """``convert`` for ``git.read_files_at``: each distinct content of ``index`` parsed as it
    is read (entries shared by contents parsed once), a refusal kept for later."""
    reader = ArtifactsYamlReader()

    def parse(content: bytes, sha: str) -> Any:
        try:
            return reader.parse(content, f"{index} (at commit {sha[:12]})")
        except GitopsError as exc:
            return _Refused(exc)

    return parse
