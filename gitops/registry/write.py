"""Write registry tags exactly as GTO would name them, refusing what GTO refuses.

Every function reads the current state, checks the request against GTO's rules, and creates
annotated tags with ``git tag`` (argv only). Nothing is ever deleted or force-pushed.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.errors import GitopsError, UsageError
from gitops.registry import git
from gitops.registry.reader import Registry, load_registry
from gitops.registry.semver import bump as bump_version
from gitops.registry.semver import semver_key
from gitops.registry.state import Artifact, Version
from gitops.registry.tags import (
    Event,
    format_tag,
    is_valid_fullname,
    is_valid_name,
    raw_tag_parts,
)

if TYPE_CHECKING:
    from gitops.registry.signing import Signing

Tagger = tuple[str, str]  # (name, e-mail)


class Written(str):
    """A tag this module wrote: the name, and ``says``, GTO's words for what it did (``that
    registers version``); a plain ``str`` everywhere else."""

    says: str

    def __new__(cls, tag: str, says: str) -> Written:
        made = super().__new__(cls, tag)
        made.says = says
        return made


class RefusedError(UsageError):
    """GTO would refuse this write (the message says why and what to do instead)."""


def _check_name(name: str) -> None:
    if not is_valid_fullname(name):
        raise RefusedError(
            f"invalid artifact name {name!r}: use letters, digits, '-', '_', '/' (starting and "
            "ending with a letter or digit), optionally prefixed by 'dir:'"
        )


def _check_stage(registry: Registry, stage: str) -> None:
    if not is_valid_name(stage):
        raise RefusedError(
            f"invalid stage name {stage!r}: use letters, digits, '-', '_', '/' "
            "(starting and ending with a letter or digit)"
        )
    allowed = registry.config.stages
    if allowed is not None and stage not in allowed:
        raise RefusedError(
            f"unknown stage {stage!r}: .gto allows {', '.join(allowed) or 'no stages'}"
        )


def _check_version(version: str) -> None:
    if semver_key(version) is None:
        raise RefusedError(f"version {version!r} is not valid; example of a valid one: 'v1.0.0'")


def _check_type(registry: Registry, name: str) -> None:
    """If ``.gto`` lists types, the artifact's annotated type (if any) must be one of them."""
    allowed = registry.config.types
    if allowed is None:
        return
    from gitops.registry.annotations import find_dvc_artifact

    artifact = registry.state.artifacts.get(name)
    annotated = None
    if artifact is not None:
        notes = [e.annotation for v in artifact.versions for e in v.enrichments if e.annotation]
        annotated = notes[-1].type if notes else None
    if annotated is None:
        dvc = find_dvc_artifact(registry.root, name)
        annotated = dvc.type if dvc else None
    if annotated is not None and annotated not in allowed:
        raise RefusedError(
            f"artifact {name!r} has type {annotated!r}; .gto allows {', '.join(allowed)}"
        )


def _resolve(registry: Registry, ref: str) -> str:
    try:
        out = git.run_git(registry.root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except GitopsError:
        raise RefusedError(f"{ref!r} is not a commit in this repository") from None
    return out.decode().strip()


def _artifact(registry: Registry, name: str) -> Artifact | None:
    """The artifact, ``None`` if new; a conflicted one raises (GTO fails on it too)."""
    if name in registry.state.conflicts:
        return registry.state.artifact(name)
    return registry.state.artifacts.get(name)


def _registered_at(artifact: Artifact | None, commit: str) -> Version | None:
    """GTO's ``find_version(commit_hexsha=...)``: the one tagged version on that commit."""
    if artifact is None:
        return None
    found = [v for v in artifact.versions if v.commit == commit and not v.discovered]
    if len(found) > 1:
        raise RefusedError(
            f"versions {', '.join(v.version for v in found)} of {artifact.name!r} are all "
            f"registered on commit {commit[:12]}; GTO allows one version per commit"
        )
    return found[0] if found else None


def _named(artifact: Artifact | None, version: str) -> Version | None:
    if artifact is None:
        return None
    found = [v for v in artifact.versions if v.version == version and not v.discovered]
    if len(found) > 1:
        commits = ", ".join(v.commit[:12] for v in found)
        raise RefusedError(
            f"version {version!r} of {artifact.name!r} is on several commits: {commits}"
        )
    return found[0] if found else None


def next_counter(registry: Registry, name: str) -> int:
    """GTO's counter: 1 + the highest ``#N`` on any tag of the artifact (any event, any kind)."""
    highest = 0
    for record in registry.tags:
        parts = raw_tag_parts(record.ref)
        if parts is not None and parts[0] == name and parts[1] is not None:
            highest = max(highest, parts[1])
    return highest + 1


def _tag_name(
    registry: Registry,
    name: str,
    event: Event,
    simple: bool | None,
    auto: bool,
    **details: str | None,
) -> str:
    """GTO's ``--simple``: ``True`` the simple form (``rf#prod``; a taken name fails, as in
    GTO), ``False`` the counter form (``rf#prod#7``), ``None`` (auto) the event's default,
    ``auto``: simple when that name is free (else the counter form), or the counter form."""
    if simple or (simple is None and auto):
        tag = format_tag(name, event, **details)
        if registry.tag(tag) is None:
            return tag
        if simple:
            raise RefusedError(f"tag {tag!r} already exists (--simple true takes no counter)")
    return format_tag(name, event, counter=next_counter(registry, name), **details)


def _create(
    registry: Registry,
    tag: str,
    commit: str,
    message: str,
    tagger: Tagger | None = None,
    signing: Signing | None = None,
) -> None:
    """``git tag``: annotated, or signed with ``signing``'s key; ``tagger`` (name, e-mail)
    instead of the user's git identity (a promotion's merger)."""
    if registry.tag(tag) is not None:
        raise RefusedError(f"tag {tag!r} already exists")
    env = {"GIT_COMMITTER_NAME": tagger[0], "GIT_COMMITTER_EMAIL": tagger[1]} if tagger else {}
    if signing is not None:
        env |= signing.git_env
    kind = "--sign" if signing is not None else "--annotate"
    git.run_git(
        registry.root,
        "tag",
        kind,
        "--cleanup=whitespace",
        "-m",
        message,
        tag,
        commit,
        env=env or None,
    )


def register(
    repo: Path | str,
    name: str,
    ref: str = "HEAD",
    *,
    version: str | None = None,
    bump: str | None = None,
    force: bool = False,
    message: str | None = None,
    simple: bool | None = None,
) -> list[str]:
    """Register a version of ``name`` at ``ref`` (``name@vX.Y.Z``); returns the tags created."""
    _check_name(name)
    if version is not None and bump is not None:
        raise RefusedError("give either --version or one --bump-* option, not both")
    registry = load_registry(repo)
    _check_type(registry, name)
    commit = _resolve(registry, ref)
    artifact = _artifact(registry, name)
    found = _registered_at(artifact, commit)
    if found is not None:
        if not force and found.is_registered and found.is_active:
            raise RefusedError(
                f"{name!r} is already registered on this commit as {found.version}; "
                "use --force to register it again"
            )
        if version is None:
            version = found.version
        elif found.version != version:
            raise RefusedError(f"on this commit you can only register {found.version}")
    if version is not None:
        _check_version(version)
        if _named(artifact, version) is not found:
            raise RefusedError(f"version {version} of {name!r} is already registered")
    else:
        latest = artifact.latest_version(registered_only=True) if artifact else None
        if latest is not None:
            version = bump_version(latest.version, bump or "patch")
        elif bump is not None:
            raise RefusedError("cannot bump: this is the first version being registered")
        else:
            version = "v0.0.1"
    tag = _tag_name(registry, name, Event.REGISTRATION, simple, True, version=version)
    _create(registry, tag, commit, message or f"Registering artifact {name} version {version}")
    return [Written(tag, "that registers version")]


def assign(
    repo: Path | str,
    name: str,
    stage: str,
    *,
    ref: str | None = None,
    version: str | None = None,
    force: bool = False,
    skip_registration: bool = False,
    message: str | None = None,
    tagger: Tagger | None = None,
    signing: Signing | None = None,
    registry: Registry | None = None,
    simple: bool | None = None,
) -> list[str]:
    """Assign ``stage`` (``name#stage#N``); an unregistered commit is registered first, as GTO.
    ``tagger`` and ``signing``: as ``_create`` (for the stage tag); ``registry``: the state
    just read by the caller (saves reading every tag again on a big registry)."""
    _check_name(name)
    registry = load_registry(repo) if registry is None else registry
    _check_stage(registry, stage)
    new_version = version if ref is not None else None
    if new_version is not None:
        _check_version(new_version)
        if skip_registration:
            raise RefusedError("either name the new version or skip registration, not both")
    artifact = _artifact(registry, name)
    created: list[str] = []
    if ref is None and version is not None:
        _check_version(version)
        found = _named(artifact, version)
        if found is None:
            raise RefusedError(f"version {version} of {name!r} is not registered")
        commit = found.commit
        label = found.version
    else:
        commit = _resolve(registry, ref or "HEAD")
        found = _registered_at(artifact, commit)
        if found is not None and new_version is not None:
            raise RefusedError(
                f"cannot register {new_version}: {found.version} is already registered there"
            )
        if found is None and not skip_registration:
            created += register(repo, name, commit, version=new_version)
            registry = load_registry(repo)
            found = _registered_at(_artifact(registry, name), commit)
        label = found.version if found is not None else commit
    if not force and found is not None and any(s.stage == stage for s in found.active_vstages()):
        raise RefusedError(
            f"version {found.version} is already in stage {stage!r}; "
            "use --force to create a new tag nevertheless"
        )
    tag = _tag_name(registry, name, Event.ASSIGNMENT, simple, False, stage=stage)
    text = message or f"Assigning stage {stage} to artifact {name} version {label}"
    _create(registry, tag, commit, text, tagger, signing)
    return [*created, Written(tag, f"that assigns stage to version '{label}'")]


def unassign(
    repo: Path | str,
    name: str,
    version: str,
    stage: str,
    *,
    force: bool = False,
    message: str | None = None,
    simple: bool | None = None,
) -> list[str]:
    """Take ``stage`` away from ``version`` (``name#stage!#N``); the stage falls back."""
    _check_name(name)
    registry = load_registry(repo)
    _check_stage(registry, stage)
    _check_version(version)
    artifact = _artifact(registry, name)
    if artifact is None:
        raise RefusedError(f"artifact {name!r} is not in the registry")
    found = _named(artifact, version)
    if found is None:
        raise RefusedError(f"version {version} of {name!r} is not registered")
    if not force and all(s.stage != stage for s in found.active_vstages()):
        raise RefusedError(f"stage {stage!r} is not assigned to version {version}")
    tag = _tag_name(registry, name, Event.UNASSIGNMENT, simple, False, stage=stage)
    text = message or (
        f"Unassigning stage '{stage}' to artifact '{name}' version '{found.version}'"
    )
    _create(registry, tag, found.commit, text)
    return [Written(tag, f"that unassigns stage from version '{found.version}'")]


def deregister(
    repo: Path | str,
    name: str,
    version: str,
    *,
    force: bool = False,
    message: str | None = None,
    simple: bool | None = None,
) -> list[str]:
    """Deregister ``version`` (``name@vX.Y.Z!``): it and its stages vanish from the state."""
    _check_name(name)
    _check_version(version)
    registry = load_registry(repo)
    found = _named(_artifact(registry, name), version)
    if found is None:
        raise RefusedError(f"version {version} of {name!r} is not registered")
    if not force and not found.is_registered:
        raise RefusedError(f"the version at {found.commit[:12]} is not registered")
    if not force and not found.is_active:
        raise RefusedError(f"version {version} of {name!r} was deregistered already")
    tag = _tag_name(registry, name, Event.DEREGISTRATION, simple, True, version=version)
    _create(
        registry, tag, found.commit, message or f"Deregistering artifact {name} version {version}"
    )
    return [Written(tag, "that deregisters version")]


def deprecate(
    repo: Path | str,
    name: str,
    *,
    force: bool = False,
    message: str | None = None,
    simple: bool | None = None,
    ref: str | None = None,
) -> list[str]:
    """Deprecate the artifact (``name@deprecated``) on the commit of its latest event, or
    ``ref``'s. ``force`` writes a counter tag again (GTO: not with ``--simple true``)."""
    _check_name(name)
    if force and simple:
        raise RefusedError("--force and --simple true do not go together (as in GTO)")
    registry = load_registry(repo)
    artifact = _artifact(registry, name)
    if not force:
        if artifact is None:
            raise RefusedError(f"artifact {name!r} is not in the registry")
        if not artifact.is_active:
            raise RefusedError(f"artifact {name!r} was deprecated already")
    if ref is not None:
        commit = _resolve(registry, ref)
    else:
        latest = artifact.events_desc[0].commit if artifact and artifact.events_desc else None
        commit = latest or _resolve(registry, "HEAD")
    tag = _tag_name(registry, name, Event.DEPRECATION, False if force else simple, True)
    _create(registry, tag, commit, message or f"Deprecating artifact '{name}'")
    return [Written(tag, "that deprecates artifact")]


def tags_of(
    repo: Path | str, name: str, version: str | None = None, stage: str | None = None
) -> list[str]:
    """The registry tags of the artifact, of one of its versions, or of that version's
    ``stage``, oldest first: what ``deprecate --delete`` removes (GTO's rule)."""
    _check_name(name)
    registry = load_registry(repo)
    artifact = _artifact(registry, name)
    if artifact is None:
        raise RefusedError(f"artifact {name!r} is not in the registry")
    events = list(reversed(artifact.events_desc))
    if version is not None:
        _check_version(version)
        if _named(artifact, version) is None:
            raise RefusedError(f"version {version} of {name!r} is not registered")
        events = [e for e in events if e.version == version]
    if stage is not None:
        events = [e for e in events if e.stage == stage]
    return list(dict.fromkeys(e.tag for e in events if e.tag))


def delete_tags(repo: Path | str, tags: list[str]) -> None:
    """Delete these tags here (``deprecate --delete``, asked for by name); the remote's only
    with ``--push``."""
    for tag in tags:
        git.run_git(Path(repo), "tag", "--delete", "--", tag)


def push_tags(
    repo: Path | str, tags: list[str], remote: str = "origin", delete: bool = False
) -> None:
    """Push the new tags; a plain push, never forced, so nothing on the remote is overwritten.

    A tag the remote refuses (a protected tag, a hook, a name already taken by another tag)
    fails at once with git's reason (``PushRefused``, naming the tags that did land). A tag that
    lost a race (another push was writing the same name) is pushed again: it then lands, is
    found already there, or is refused as taken. One ``git push --porcelain`` read by
    ``gitops.gitpush``'s rules: in a one-shot command GitPython's import would cost more than
    the push (benchmarks/gitwrite.py).
    """
    if not tags:
        return
    from gitops.gitpush import push_plain

    root = git.repo_root(Path(repo))
    pending = [f"refs/tags/{t}" for t in tags]
    for attempt in range(TAG_PUSH_ATTEMPTS):
        refspecs = [("" if delete else ref, ref) for ref in pending]
        results = push_plain(root, remote, refspecs, no_verify=True)
        pending = [r.ref for r in results if r.status == "race"]
        if not pending:
            return
        time.sleep(0.2 * (attempt + 1))
    names = ", ".join(ref.removeprefix("refs/tags/") for ref in pending)
    raise GitopsError(f"pushing {names} to {remote} kept losing races with other pushes")


TAG_PUSH_ATTEMPTS = 3
