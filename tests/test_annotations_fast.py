"""``artifacts.yaml`` read once per distinct blob, entries checked without pydantic where the
answer is sure: the state is the one the careful way gives, and errors still name file, commit
and line.

The careful way is the old one: the file's content read at every version's commit by its own
``git show``, each read with ruamel.yaml (``load_gto_yaml``) and validated with the pydantic models.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest
from gitutil import Repo, git
from test_yaml12 import typed

from gitops.jsonout import write_json
from gitops.registry import annotations, views
from gitops.registry.annotation_models import ArtifactAnnotation, DvcArtifact
from gitops.registry.annotations import (
    Annotation,
    ArtifactsYamlReader,
    DvcEntry,
    _quick_annotation,
    _quick_dvc,
    parse_artifacts_yaml_full,
    read_dvc_artifacts,
)
from gitops.registry.git import read_files_at
from gitops.registry.reader import Registry, RegistrySource, load_registry
from gitops.registry.state import build_state
from gitops.registry.tags import Event
from gitops.yamlfile import YamlFileError

VALUES: list[Any] = [
    None, "", "model", "bad name", "a/b", "-x", 1, 0, 1.5, True, False, [], ["ok"], ["ok", "b c"],
    ["ok", 1], ("ok",), {"a": 1}, {1: "a"}, b"raw", "true", {"nested": [1, {"x": None}]},
]  # fmt: skip
FIELDS = ["type", "path", "virtual", "labels", "description", "custom", "extra", 7]


def _pydantic(model: Any, entry: Any) -> Any:
    try:
        return typed(model.model_validate(entry).model_dump())
    except Exception:
        return "refused"


def test_quick_annotation_is_pydantics_answer() -> None:
    """Where ``_quick_annotation`` answers, pydantic gives the same values of the same types."""
    rng = random.Random(3)
    answered = 0
    for _ in range(3000):
        entry = {rng.choice(FIELDS): rng.choice(VALUES) for _ in range(rng.randint(0, 5))}
        quick = _quick_annotation(entry)
        if quick is None:
            continue
        answered += 1
        assert typed(quick.model_dump()) == _pydantic(ArtifactAnnotation, entry), entry
    assert answered > 200


def test_quick_dvc_is_pydantics_answer() -> None:
    rng = random.Random(4)
    fields = ["path", "type", "desc", "labels", "meta", "extra"]
    answered = 0
    for _ in range(3000):
        entry: dict[Any, Any] = {"path": "model.pkl"} if rng.random() < 0.7 else {}
        entry |= {rng.choice(fields): rng.choice(VALUES) for _ in range(rng.randint(0, 4))}
        quick = _quick_dvc(entry)
        if quick is None:
            continue
        answered += 1
        assert typed(quick._asdict()) == _pydantic(DvcArtifact, entry), entry
    assert answered > 300


def _entry(name: str, i: int, revision: int) -> str:
    return (
        f"{name}:\n  type: model\n  path: models/{name}.pkl\n"
        f"  description: {name} revision {revision}\n  labels: [tabular, team-{i % 3}]\n"
        + (f"  custom:\n    auc: 0.{i + 50}\n    owner: alice\n" if i % 2 else "")
    )


def _artifacts_yaml(names: list[str], revision: int, changed: str = "") -> str:
    return "# annotations\n" + "".join(
        _entry(n, i, revision if n == changed else 1) for i, n in enumerate(names)
    )


def _registry(tmp_path: Path, changing: bool) -> Repo:
    """Forty versions of three artifacts on forty commits; artifacts.yaml written by the first
    commit only (or changed every tenth commit)."""
    repo = Repo(tmp_path / "repo")
    names = ["churn", "fraud", "ranker"] + [f"extra-{i}" for i in range(20)]
    files = {"artifacts.yaml": _artifacts_yaml(names, 1)}
    for i in range(40):
        if changing and i and i % 10 == 0:
            files = {"artifacts.yaml": _artifacts_yaml(names, i, names[i % 3])}
        sha = repo.commit(files=files, epoch=1_700_000_000 + i * 60)
        files = {}
        name = names[i % 3]
        repo.tag(f"{name}@v0.{i}.0", sha, epoch=1_700_010_000 + i * 60)
        if i % 4 == 0:
            repo.tag(f"{name}#prod#{i}", sha, epoch=1_700_020_000 + i * 60)
    return repo


def _the_old_way(root: Path) -> Registry:
    """The state as the careful way builds it: the file's content read at each commit and
    parsed and validated with PyYAML and pydantic, content by content."""
    source = RegistrySource.read(root)
    shas = [e.commit for e in source.events if e.kind != Event.DEPRECATION]
    head = source.blobs.head
    assert head is not None
    parsed: dict[str, dict[str, Annotation]] = {}
    for sha in dict.fromkeys([*shas, head.sha]):
        content = git(root, "show", f"{sha}:artifacts.yaml").encode() + b"\n"
        parsed[sha] = parse_artifacts_yaml_full(content, f"artifacts.yaml (at commit {sha[:12]})")
    commits = {r.commit.sha: r.commit for r in source.records if r.commit is not None}
    commits.setdefault(head.sha, head)
    state = build_state(source.events, commits, parsed, head)
    return Registry(source.root, source.config, source.records, state, source.warnings)


def _json(value: Any) -> str:
    out = io.StringIO()
    write_json(value, out.write)
    return out.getvalue()


def _outputs(registry: Registry) -> list[str]:
    opts = views.ShowOptions()
    names = list(registry.state.artifacts)
    return [
        _json(views.show_registry(registry, opts)),
        _json(views.history(registry, None, False)),
        *(_json(views.show_versions(registry, name, opts)) for name in names[:4]),
    ]


@pytest.mark.parametrize("changing", [False, True], ids=["never-changes", "changes"])
def test_distinct_blobs_read_once_same_state(tmp_path: Path, changing: bool) -> None:
    repo = _registry(tmp_path, changing)
    source = RegistrySource.read(repo.path)
    assert len(source.blobs.files) == 40  # forty version commits (the last one is HEAD)
    assert len(source.blobs.contents) == (4 if changing else 1)  # each blob read once
    ours, old = load_registry(repo.path), _the_old_way(repo.path)
    assert _outputs(ours) == _outputs(old)
    notes = {
        e.annotation.description
        for a in ours.state.artifacts.values()
        for v in a.versions
        for e in v.enrichments
        if e.annotation is not None
    }
    assert {"churn revision 1", "fraud revision 1", "extra-7 revision 1"} <= notes
    assert ("churn revision 30" in notes) is changing


def test_files_at_commits_report_blob_ids(tmp_path: Path) -> None:
    """A commit without the file, one with a folder of that name, and the same blob twice."""
    repo = Repo(tmp_path / "repo")
    bare = repo.commit()
    first = repo.commit(files={"artifacts.yaml": "m: {}\n"})
    again = repo.commit()
    git(repo.path, "rm", "-q", "artifacts.yaml")
    folder = repo.commit(files={"artifacts.yaml/x": "not a file\n"})
    blobs = read_files_at(repo.path, "artifacts.yaml", [bare, first, again, folder, "f" * 40])
    blob = git(repo.path, "rev-parse", f"{first}:artifacts.yaml")
    assert blobs.files == {bare: None, first: blob, again: blob, folder: None, "f" * 40: None}
    assert blobs.contents == {blob: b"m: {}\n"}
    assert blobs.head is not None and blobs.head.sha == folder
    assert blobs.content_at(again) == b"m: {}\n" and blobs.content_at(bare) is None


def test_error_in_a_shared_blob_names_the_first_commit_and_the_line(tmp_path: Path) -> None:
    """A bad label on line 11 of a file that stays the same at many versions: one error, naming
    the first version commit that has it, and the line."""
    repo = Repo(tmp_path / "repo")
    good = _artifacts_yaml(["m", "n"], 1)
    bad = good.replace("labels: [tabular, team-1]", "labels: [tabular, 'team 1']")
    assert "'team 1'" in bad.splitlines()[10]
    shas = [repo.commit(files={"artifacts.yaml": good})]
    shas += [repo.commit(files={"artifacts.yaml": bad} if i == 0 else None) for i in range(5)]
    for i, sha in enumerate(shas):
        repo.tag(f"m@v1.{i}.0", sha, epoch=1_700_000_000 + i)
    with pytest.raises(YamlFileError) as caught:
        load_registry(repo.path)
    assert str(caught.value).startswith(f"artifacts.yaml (at commit {shas[1][:12]}):11: n.labels")


def test_reader_remembers_entries_and_falls_back_for_the_rest() -> None:
    """Entries read once across contents; a duplicate name across entries, an anchor or a
    value pydantic must judge goes the careful way, with its error and line."""
    reader = ArtifactsYamlReader()
    names = ["a", "b", "c"]
    first = reader.parse(_artifacts_yaml(names, 1).encode(), "f")
    pieces = dict(reader._pieces)
    second = reader.parse(_artifacts_yaml(names, 2, "b").encode(), "f")
    assert len(reader._pieces) == len(pieces) + 1  # only b's new text was read
    assert first["a"] is second["a"] and second["b"].description == "b revision 2"
    with pytest.raises(YamlFileError, match=r"^g:6: invalid YAML: found duplicate key 'a'"):
        reader.parse(b"a:\n  type: x\nb: {}\n\n\na: {}\n", "g")
    anchored = b"a: &x\n  type: model\nb: *x\n"
    assert reader.parse(anchored, "h") == {"a": Annotation(type="model"), "b": Annotation("model")}
    assert reader.parse(b"a:\n  virtual: yes\n", "i")["a"].virtual is True  # pydantic's "yes"
    with pytest.raises(YamlFileError, match=r"^j:2: a.type: "):
        reader.parse(b"a:\n  type: 1e3\n", "j")


def test_dvc_yaml_read_once_per_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many artifacts looked up in one dvc.yaml parse it once; a new content is read anew."""
    (tmp_path / "dvc.yaml").write_text("artifacts:\n  a:\n    path: a.pkl\n    type: model\n")
    calls: list[str] = []
    quick = annotations._read_dvc_quick
    monkeypatch.setattr(annotations, "_read_dvc_quick", lambda *a: calls.append("r") or quick(*a))
    for _ in range(5):
        assert annotations.find_dvc_artifact(tmp_path, "a") == DvcEntry("a.pkl", "model")
    assert calls == ["r"]
    (tmp_path / "dvc.yaml").write_text("artifacts:\n  a:\n    path: b.pkl\n")
    assert annotations.find_dvc_artifact(tmp_path, "a") == DvcEntry("b.pkl")
    (tmp_path / "dvc.yaml").write_text("artifacts:\n  a:\n    path: b.pkl\n    oops: 1\n")
    with pytest.raises(YamlFileError, match=r"^dvc.yaml:4: artifacts.a.oops: unknown key 'oops'"):
        read_dvc_artifacts(tmp_path)


GTO_KEYS = ["stages", "types", "STAGES", "index", "INDEX", "Index", "config_file_name",
            "log_level", "debug", "DEBUG", "emojis", "autoload_enrichments", "enrichments",
            "extra", "1"]  # fmt: skip
GTO_VALUES = ["[dev, prod]", "[dev, 'bad name']", "[]", "~", "artifacts.yaml", "true", "no",
              "1", "[{a: 1}]", "[1]", "'x'", "{}", "[dev, 1]", "INFO"]  # fmt: skip


def _careful_config(content: bytes) -> Any:
    try:
        return annotations._read_gto_full(content)
    except YamlFileError as exc:
        return f"refused: {exc}"


def test_quick_gto_config_is_the_careful_answer() -> None:
    """``.gto`` read without PyYAML and pydantic gives their answer, where it gives one."""
    rng = random.Random(5)
    answered = 0
    for _ in range(1500):
        keys = rng.sample(GTO_KEYS, rng.randint(1, 4))
        content = "".join(f"{k}: {rng.choice(GTO_VALUES)}\n" for k in keys).encode()
        quick = annotations._read_gto_quick(content)
        if quick is None:
            continue
        answered += 1
        assert typed(tuple(quick)) == typed(tuple(_careful_config(content))), content
    assert answered > 50


def test_gto_config_read_quickly_from_the_work_tree(tmp_path: Path) -> None:
    (tmp_path / ".gto").write_text("stages: [dev, staging, prod]\ntypes: [model]\nINDEX: a.yaml\n")
    config = annotations.read_gto_config(tmp_path)
    assert (config.stages, config.types, config.index) == (["dev", "staging", "prod"], ["model"],
                                                           "a.yaml")  # fmt: skip
    (tmp_path / ".gto").write_text("stages: [dev, 'pro d']\n")
    with pytest.raises(YamlFileError, match=r"^\.gto:1: stages: invalid name"):
        annotations.read_gto_config(tmp_path)
