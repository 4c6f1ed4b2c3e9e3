"""Commands about one artifact (``check-ref``, ``show NAME``, ``history NAME``) read only that
artifact's tags (``refs/tags/NAME@*``, ``NAME#*``): their answers must be those of a full read,
for names that are prefixes of others, namespaced names and stages with slashes."""

from __future__ import annotations

import contextlib
import io
import json

from gitutil import Repo, git

from gitops import cli
from gitops.registry import reader, views

T0 = 1_700_000_000


def _repo(repo: Repo) -> Repo:
    c1 = repo.commit(epoch=T0, files={"artifacts.yaml": "churn:\n  type: model\nnoted: {}\n"})
    c2 = repo.commit(epoch=T0 + 10)
    for i, name in enumerate(["churn", "churn-v2", "dir=churn", "dir/sub=churn", "churnx"]):
        base = T0 + 100 * (i + 1)
        repo.tag(f"{name}@v1.0.0", c1, epoch=base)
        repo.tag(f"{name}#prod#1", c1, epoch=base + 1)
        repo.tag(f"{name}@v1.1.0", c2, epoch=base + 2)
        repo.tag(f"{name}#stage/sub#2", c2, epoch=base + 3, offset_minutes=330)
        repo.tag(f"{name}#prod!#3", c1, epoch=base + 3)  # same second: tag-name order
    repo.tag("churn#dev", c2, annotated=False)  # lightweight: ignored unless asked
    repo.tag("churn@deprecated", c2, epoch=T0 + 900)
    return repo


def _ours(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(list(args))
    return code, out.getvalue()


def test_one_artifact_commands_answer_as_a_full_read(repo: Repo) -> None:
    _repo(repo)
    path = str(repo.path)
    full = reader.load_registry(path)
    full_lw = reader.load_registry(path, include_lightweight=True)
    names = ["churn", "churn-v2", "dir:churn", "dir/sub:churn", "churnx", "noted", "nothing"]
    for name in names:
        only = reader.load_registry(path, only=name)
        assert set(only.state.artifacts) <= {name}
        opts = views.ShowOptions(deprecated=True)
        if name in full.state.artifacts:
            for shortcut in (name, f"{name}#prod", f"{name}@latest", f"{name}@v1.0.0"):
                expected = json.dumps(views.show_versions(full, shortcut, opts), indent=4)
                code, out = _ours("show", shortcut, "--json", "-d", "-r", path)
                assert (code, out) == (0, expected + "\n"), shortcut
        expected = json.dumps(views.history(full, name), indent=4)
        assert _ours("history", name, "--json", "-r", path) == (0, expected + "\n"), name
    for tag in git(repo.path, "tag").split():
        for registry, extra in ((full, []), (full_lw, ["--lightweight"])):
            event = views.check_ref(registry, tag)
            expected = (
                json.dumps(views.event_json(event, with_kind=True, internals=False), indent=4)
                + "\n"
                if event
                else ""
            )
            assert _ours("check-ref", tag, "--json", *extra, "-r", path) == (0, expected), tag


def test_filtered_read_lists_only_that_artifacts_refs(repo: Repo) -> None:
    _repo(repo)
    only = reader.load_registry(str(repo.path), only="dir:churn")
    assert sorted(r.ref for r in only.tags) == [
        "dir=churn#prod!#3",
        "dir=churn#prod#1",
        "dir=churn#stage/sub#2",
        "dir=churn@v1.0.0",
        "dir=churn@v1.1.0",
    ]
