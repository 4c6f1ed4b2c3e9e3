"""``RegistrySource.registry`` builds registries without some tags, or for a few artifacts, from
one read: the answers are those of a registry read from scratch.

Stage moves compare the registry with and without the pushed tags; they build the "before"
registry for the tags' artifacts only, and drop the tags' events instead of parsing every tag
again. Both rest on GTO's state of an artifact depending on that artifact's tags alone: checked
here on seeded random registries (``registry_gen``), against full builds.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest
from gitutil import Repo, git
from registry_gen import build, generate

from gitops.jsonout import write_json
from gitops.registry import views
from gitops.registry.moves import stage_holders
from gitops.registry.reader import Registry, RegistrySource


def _json(value: Any) -> str:
    out = io.StringIO()
    write_json(value, out.write)
    return out.getvalue()


def _answers(registry: Registry, names: list[str]) -> list[str]:
    """What show, history and check-ref print for ``names`` (all artifacts: ``show``)."""
    opts = views.ShowOptions(deprecated=True)
    out = [_json(views.history(registry, name, False)) for name in names]
    out += [_json(views.show_versions(registry, name, opts)) for name in names
            if name in registry.state.artifacts]  # fmt: skip
    out += [repr(views.check_ref(registry, t.ref)) for t in registry.tags
            if t.ref.partition("@")[0].partition("#")[0].replace("=", ":") in names]  # fmt: skip
    return out


@pytest.mark.parametrize("seed", range(6))
def test_without_and_for_some_artifacts_as_from_scratch(tmp_path: Path, seed: int) -> None:
    repo = build(generate(seed), tmp_path / "repo")
    source = RegistrySource.read(repo.path)
    rng = random.Random(seed)
    refs = [r.ref for r in source.records]
    for _ in range(4):
        without = frozenset(rng.sample(refs, min(len(refs), rng.randint(1, 4))))
        fast = source.registry(without=without)
        # the old way: every remaining tag parsed again, every artifact built
        slow = source._replace(memo=None).registry(without=without)
        assert fast.warnings == slow.warnings
        assert [r.ref for r in fast.tags] == [r.ref for r in slow.tags]
        assert _json(views.show_registry(fast, views.ShowOptions(deprecated=True))) == _json(
            views.show_registry(slow, views.ShowOptions(deprecated=True))
        )
        assert _json(views.history(fast, None, False)) == _json(views.history(slow, None, False))
        names = sorted(slow.state.artifacts)
        some = set(rng.sample(names, min(len(names), 2))) | {"not-there"}
        part = source.registry(without=without, artifacts=some)
        assert set(part.state.artifacts) <= some
        assert part.state.conflicts.keys() == {n for n in slow.state.conflicts if n in some}
        held = {k: v for k, v in stage_holders(slow).items() if k[0] in some}
        assert stage_holders(part) == held == stage_holders(slow, some)
        kept = sorted(some & set(slow.state.artifacts))
        assert _answers(part, kept) == _answers(slow, kept)


def test_warnings_and_conflicts_follow_their_tags(tmp_path: Path) -> None:
    """A tag on a tree warns until it is left out; a conflict (two versions on one commit)
    stays in the registry of its artifact and out of the others'."""
    repo = Repo(tmp_path / "repo")
    sha = repo.commit()
    repo.tag("m@v1.0.0", sha)
    repo.tag("m@v1.1.0", sha)  # a second version on the same commit
    repo.tag("m#prod#1", sha)
    repo.tag("n@v1.0.0", sha)
    git(repo.path, "tag", "-a", "t@v1.0.0", f"{sha}^{{tree}}", "-m", "a tree")
    source = RegistrySource.read(repo.path)
    assert len(source.warnings) == 1 and "t@v1.0.0" in source.warnings[0]
    assert source.registry(without=frozenset({"t@v1.0.0"})).warnings == []
    assert source.registry(without=frozenset({"n@v1.0.0"})).warnings == source.warnings
    whole = source.registry()
    assert set(whole.state.conflicts) == {"m"} and set(whole.state.artifacts) == {"n"}
    part = source.registry(without=frozenset({"n@v1.0.0"}), artifacts={"m"})
    assert set(part.state.conflicts) == {"m"} and not part.state.artifacts
    fixed = source.registry(without=frozenset({"m@v1.1.0"}), artifacts={"m"})
    assert not fixed.state.conflicts and stage_holders(fixed)[("m", "prod")].version == "v1.0.0"
