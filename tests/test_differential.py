"""Differential tests: our ``--json`` output against GTO 1.10.1's, on seeded random registries.

Each seed plans a registry (tests/registry_gen.py), builds it with real git, then asks both
tools the same questions: ``show`` (with ``-d``, ``--ro``, ``--sort``, ``--vs``, ``--av``),
``show NAME`` and its shortcuts, ``history`` and ``check-ref`` for every tag. GTO runs in-process
through its own click CLI, so what is compared is exactly what ``gto ... --json`` prints; ours
runs through ``gitops.cli.main``. Outputs must be equal as JSON and as text (key order too).

Within one seed the repository never changes, so the expensive reads are memoised per seed:
GTO's ``get_state`` (a deep copy per call) and our three git reads (every query still parses,
builds the state and prints through the CLI). ``GITOPS_DIFF_NOCACHE=1`` turns that off.

Seeds: ``GITOPS_DIFF_SEEDS=N`` runs seeds 0..N-1 (default ``DEFAULT_SEEDS``: this file then takes
about two minutes on two idle cores); ``GITOPS_DIFF_SEED=S`` runs only seed S.
"""

from __future__ import annotations

import contextlib
import difflib
import io
import json
import os
import random
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import gto.cli
import pytest
from click.testing import CliRunner
from gitutil import Repo, git
from gto.registry import GitRegistry
from registry_gen import RegistrySpec, build, generate

from gitops import cli
from gitops.registry import git as gitops_git
from gitops.registry import gto_text

DEFAULT_SEEDS = 60
UNKNOWN = "no-such-artifact"  # the one name both tools must refuse
MULTIPLE = "Multiple registrations are not supported"  # GTO's text tables only


def _seeds() -> list[int]:
    if os.environ.get("GITOPS_DIFF_SEED"):
        return [int(os.environ["GITOPS_DIFF_SEED"])]
    return list(range(int(os.environ.get("GITOPS_DIFF_SEEDS", DEFAULT_SEEDS))))


@dataclass(frozen=True)
class Output:
    exit_code: int
    stdout: str
    stderr: str


def run_gto(args: list[str]) -> Output:
    """``gto ARGS`` in-process, through GTO's click app: its exact stdout."""
    result = CliRunner().invoke(gto.cli.app, args)
    return Output(result.exit_code, result.stdout, result.stderr)


def run_ours(args: list[str]) -> Output:
    """``gitops ARGS`` in-process. The registry table (``show`` without a name, as text) is
    compared with GTO's seven-character cut of its versions put back: the one difference we
    keep on purpose (gitops/registry/gto_text.py), so that everything else is checked."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        stack.enter_context(mock.patch.object(gto_text, "registry_cell", lambda v: v[:7]))
        code = cli.main(args)
    return Output(code, out.getvalue(), err.getvalue())


def _memoised(function: Callable[..., Any], memo: dict[tuple, Any]) -> Callable[..., Any]:
    def wrapper(*args: Any) -> Any:
        key = (function.__name__, *(tuple(a) if isinstance(a, list) else a for a in args))
        if key not in memo:
            memo[key] = function(*args)
        return memo[key]

    return wrapper


@contextlib.contextmanager
def repo_unchanged() -> Iterator[None]:
    """Memoise both tools' repository reads while the repository does not change (one seed)."""
    if os.environ.get("GITOPS_DIFF_NOCACHE"):
        yield
        return
    memo: dict[tuple, Any] = {}
    get_state = GitRegistry.get_state

    def gto_get_state(self: GitRegistry, all_branches: bool = False, all_commits: bool = False):
        key = ("gto", self.scm.root_dir, all_branches, all_commits)
        if key not in memo:
            memo[key] = get_state(self, all_branches=all_branches, all_commits=all_commits)
        return memo[key].model_copy(deep=True)  # GTO's API must not see another call's edits

    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(GitRegistry, "get_state", gto_get_state))
        for name in ("repo_root", "read_tags", "read_files_at"):
            memoised = _memoised(getattr(gitops_git, name), memo)
            stack.enter_context(mock.patch.object(gitops_git, name, memoised))
        yield


def diff_outputs(theirs: Output, ours: Output, may_refuse: bool = False) -> str | None:
    """``None`` when the outputs agree, else a short explanation with a diff.

    Both tools refusing agrees only where refusal is the expected answer (``may_refuse``): error
    messages and exit codes are our own, and GTO failing on a generated registry is news.
    """
    if theirs.exit_code != 0 and ours.exit_code == 0 and MULTIPLE in theirs.stderr:
        return None  # GTO's table gives up on a version registered twice; we show it
    if theirs.exit_code != 0 or ours.exit_code != 0:
        if theirs.exit_code != 0 and ours.exit_code != 0 and may_refuse:
            return None
        return (
            f"exit codes: gto {theirs.exit_code}, ours {ours.exit_code}\n"
            f"gto stderr: {theirs.stderr.strip()[:300]}\nour stderr: {ours.stderr.strip()[:300]}"
        )
    if theirs.stdout == ours.stdout:
        return None
    why = "text differs (key order or formatting)"
    with contextlib.suppress(json.JSONDecodeError):
        if json.loads(theirs.stdout or "null") != json.loads(ours.stdout or "null"):
            why = "JSON differs"
    lines = list(
        difflib.unified_diff(
            theirs.stdout.splitlines(), ours.stdout.splitlines(), "gto", "ours", lineterm="", n=2
        )
    )
    if len(lines) > 40:
        lines = lines[:40] + [f"... ({len(lines) - 40} more diff lines)"]
    return why + "\n" + "\n".join(lines)


def compare_all(repo: Path, queries: list[list[str]], spec: RegistrySpec | None = None) -> None:
    """Ask both tools every query; fail with the seed, the first mismatches and their diffs."""
    failures: list[str] = []
    with repo_unchanged():
        for query in queries:
            args = [*query, "-r", str(repo)]
            problem = diff_outputs(run_gto(args), run_ours(args), UNKNOWN in query)
            if problem:
                failures.append(f"$ gitops {shlex.join(query)}\n{problem}")
    if failures:
        head = f"{len(failures)} of {len(queries)} queries differ from GTO 1.10.1"
        if spec is not None:
            head = (
                f"seed {spec.seed}: {head}\nreplay: GITOPS_DIFF_SEED={spec.seed} "
                "python -m pytest tests/test_differential.py"
            )
        detail = "\n\n".join(failures[:3])
        plan = f"\n\nregistry plan:\n{spec.describe()}" if spec is not None else ""
        pytest.fail(f"{head}\n\n{detail}{plan}", pytrace=False)


OPTION_SETS = [
    ["--sort", "semver"],
    ["--vs", "-1"],
    ["--vs", "2"],
    ["--vs", "0"],
    ["--av", "1"],
    ["--av", "0"],
    ["--ro"],
    ["--sort", "semver", "--vs", "-1"],
    ["-d", "--ro"],
    ["-d", "--av", "1", "--vs", "-1", "--sort", "semver"],
]


def queries_for(spec: RegistrySpec) -> list[list[str]]:
    """Every base question, plus option sets and shortcuts drawn from the seed."""
    rng = random.Random(f"queries-{spec.seed}")
    queries = [
        ["show", "--json"],
        ["show", "-d", "--json"],
        ["history", "--json"],
        ["history", "--asc", "--json"],
        ["show", UNKNOWN, "--json"],  # both must refuse
        ["history", UNKNOWN, "--json"],  # both print []
    ]
    for name in spec.artifacts:
        queries += [
            ["show", name, "--json"],
            ["show", name, "-d", "--json"],
            ["history", name, "--json"],
        ]
    for options in rng.sample(OPTION_SETS, 3):
        queries.append(["show", *options, "--json"])
        queries += [["show", name, *options, "--json"] for name in spec.artifacts]
    stage_tags = (re.fullmatch(r"[^@#]+#([^@#!]+)!?(#\d+)?", t.name) for t in spec.tags)
    stages = sorted({m[1] for m in stage_tags if m})
    for name in spec.artifacts:
        shortcuts = [f"{name}@latest", f"{name}@greatest"]
        shortcuts += [f"{name}#{s}" for s in rng.sample(stages, min(2, len(stages)))]
        shortcuts += [f"{name}@{v}" for v in spec.versions.get(name, [])[:2]]
        queries += [["show", s, *rng.choice([[], ["-d"]]), "--json"] for s in shortcuts]
    queries += [["check-ref", t.name, "--json"] for t in spec.tags]
    queries += [["check-ref", t.name, rng.choice(["--name", "--version", "--stage", "--event"])]
                for t in spec.tags]  # fmt: skip
    queries += text_queries(spec, rng)
    queries += [["stages"], ["stages", "--json"], ["stages", "--used"],
                ["stages", "--allowed", "--json"], ["stages", "--allowed"]]  # fmt: skip
    if spec.tags:
        queries.append(["check-ref", f"refs/tags/{rng.choice(spec.tags).name}", "--json"])
    return queries


def text_queries(spec: RegistrySpec, rng: random.Random) -> list[list[str]]:
    """The same questions without --json: GTO's tables, --plain, one-column and check-ref
    lines (what scripts written for `gto` read)."""
    queries = [["show"], ["show", "--plain"], ["show", "-d"], ["show", "--name"],
               ["history"], ["history", "--plain"], ["history", "--asc"]]  # fmt: skip
    for name in spec.artifacts:
        queries += [["show", name], ["show", name, "--plain"], ["history", name]]
        queries.append(["show", name, rng.choice(["--version", "--ref", "--stage"])])
        queries.append(["show", f"{name}@greatest", "--version"])
    queries += [["check-ref", t.name] for t in rng.sample(spec.tags, min(5, len(spec.tags)))]
    return queries


@pytest.mark.parametrize("seed", _seeds())
def test_random_registry_matches_gto(seed: int, tmp_path: Path) -> None:
    spec = generate(seed)
    build(spec, tmp_path / "repo")
    compare_all(tmp_path / "repo", queries_for(spec), spec)


# -- cases kept out of the generator: GTO fails on them, we answer -----------------------------


def assert_same_as_gto_without(repo: Repo, queries: list[list[str]], tags: list[str]) -> None:
    """Our answers on ``repo`` equal GTO's on ``repo`` once ``tags`` are deleted."""
    path = str(repo.path)
    with repo_unchanged():
        ours = [run_ours([*q, "-r", path]) for q in queries]
    for name in tags:
        repo.delete_tag(name)
    with repo_unchanged():
        theirs = [run_gto([*q, "-r", path]) for q in queries]
    for query, gto_out, mine in zip(queries, theirs, ours, strict=True):
        problem = diff_outputs(gto_out, mine, UNKNOWN in query)
        assert problem is None, f"$ gitops {shlex.join(query)}\n{problem}"


def test_created_tags_are_ignored(tmp_path: Path) -> None:
    """``name@created`` crashes every GTO command (gto.md §1.2); we ignore the tag."""
    spec = generate(3)
    repo = build(spec, tmp_path / "repo")
    created = ["x@created", f"{spec.artifacts[0].replace(':', '=')}@created#7"]
    for name in created:
        repo.tag(name, epoch=1_700_000_000)
    crashed = run_gto(["show", "--json", "-r", str(repo.path)])
    assert crashed.exit_code != 0 and "'action'" in crashed.stderr
    for name in created:
        assert run_ours(["check-ref", name, "--json", "-r", str(repo.path)]) == Output(0, "", "")
    assert_same_as_gto_without(repo, queries_for(spec), created)


def test_tagger_without_email(tmp_path: Path) -> None:
    """``Tagger <>`` crashes GTO ("Could not parse tagger identity"); we read ``""``."""
    repo = Repo(tmp_path / "repo")
    repo.tag("churn@v1.0.0", repo.commit(), epoch=1_700_000_100)
    repo.tag("churn#prod#1", epoch=1_700_000_200, tagger=("No Mail", ""))
    assert run_gto(["show", "--json", "-r", str(repo.path)]).exit_code != 0
    event = json.loads(
        run_ours(["check-ref", "churn#prod#1", "--json", "-r", str(repo.path)]).stdout
    )
    assert (event["author"], event["author_email"], event["version"]) == ("No Mail", "", "v1.0.0")
    shown = json.loads(run_ours(["show", "--json", "-r", str(repo.path)]).stdout)
    assert shown["churn"]["stage"] == {"prod": "v1.0.0"}


def test_tag_of_a_tag_is_ignored_with_a_warning(tmp_path: Path) -> None:
    """A tag whose object is another tag: GTO takes the inner tag object's sha for a commit and
    invents a pseudo-version named by it; we skip the tag and say so on stderr."""
    repo = Repo(tmp_path / "repo")
    repo.tag("churn@v1.0.0", repo.commit(), epoch=1_700_000_100)
    repo.tag("churn#prod#1", "churn@v1.0.0", epoch=1_700_000_200)
    path = str(repo.path)
    theirs = json.loads(run_gto(["show", "--json", "-r", path]).stdout)
    assert theirs["churn"]["stage"]["prod"] == git(repo.path, "rev-parse", "churn@v1.0.0")
    shown = run_ours(["show", "--json", "-r", path])
    assert "churn#prod#1" in shown.stderr and "points at a tag" in shown.stderr
    queries = [["show", "--json"], ["show", "churn", "--json"], ["history", "--json"]]
    queries.append(["check-ref", "churn@v1.0.0", "--json"])
    assert_same_as_gto_without(repo, queries, ["churn#prod#1"])


def _two_versions_repo(path: Path, stage_tag: bool) -> tuple[Repo, str]:
    """``churn`` v1.0.0 and v1.1.0 on one commit (a stage tag there if asked), ``other`` fine."""
    repo = Repo(path)
    c1 = repo.commit(epoch=1_700_000_000)
    c2 = repo.commit(epoch=1_700_000_100)
    repo.tag("churn@v1.0.0", c1, epoch=1_700_001_000)
    repo.tag("churn@v1.1.0", c1, epoch=1_700_002_000, offset_minutes=330)
    if stage_tag:
        repo.tag("churn#prod#3", c1, epoch=1_700_003_000)
    repo.tag("other@v0.1.0", c2, epoch=1_700_001_500)
    repo.tag("other#prod#1", c2, epoch=1_700_002_500, offset_minutes=-480)
    repo.tag("other@v0.2.0", c1, epoch=1_700_003_500)
    repo.tag("other#dev#2", c1, epoch=1_700_004_000)
    return repo, c1


def test_two_versions_on_one_commit_reported_as_conflict(tmp_path: Path) -> None:
    """GTO fails on the whole registry (ManyVersions, gto.md §2.1.7); we set the artifact aside.

    The conflict is named on stderr (commit and tags); everything else answers exactly as GTO
    does on the repository without the conflicted artifact's tags.
    """
    repo, commit = _two_versions_repo(tmp_path / "repo", stage_tag=True)
    path = str(repo.path)
    assert run_gto(["show", "--json", "-r", path]).exit_code != 0

    shown = run_ours(["show", "--json", "-r", path])
    assert shown.exit_code == 0
    for needle in (commit[:12], "churn@v1.0.0", "churn@v1.1.0", "churn#prod#3"):
        assert needle in shown.stderr
    for query in (["show", "churn", "--json"], ["check-ref", "churn#prod#3", "--json"]):
        refused = run_ours([*query, "-r", path])
        assert refused.exit_code != 0 and commit[:12] in refused.stderr, query
    queries = [
        ["show", "--json"],
        ["show", "-d", "--json"],
        ["history", "--json"],
        ["history", "other", "--json"],
        ["show", "other", "--json"],
        ["check-ref", "other#prod#1", "--json"],
        ["check-ref", "other#dev#2", "--json"],
    ]
    assert_same_as_gto_without(repo, queries, ["churn@v1.0.0", "churn@v1.1.0", "churn#prod#3"])


def test_two_versions_on_one_commit_without_stage_tags_match_gto(tmp_path: Path) -> None:
    """Without a stage tag on that commit GTO never looks a version up by it: no conflict."""
    repo, _ = _two_versions_repo(tmp_path / "repo", stage_tag=False)
    assert run_gto(["show", "--json", "-r", str(repo.path)]).exit_code == 0
    queries = [["show", "--json"], ["show", "-d", "--json"], ["history", "--json"]]
    queries += [["show", name, "--json"] for name in ("churn", "other")]
    queries += [["check-ref", tag, "--json"] for tag in git(repo.path, "tag").split()]
    compare_all(repo.path, queries)


# -- artifacts.yaml read as GTO reads it (gitops/yamlfile.py, gitops/registry/annotations.py) ---


def assert_both_refuse(repo: Path, queries: list[list[str]], *needles: str) -> None:
    """GTO fails on every query; so do we, with a clean message holding every needle."""
    for query in queries:
        args = [*query, "-r", str(repo)]
        theirs, ours = run_gto(args), run_ours(args)
        assert theirs.exit_code != 0, f"GTO answered {query}: {theirs.stdout[:200]}"
        assert ours.exit_code != 0, f"we answered {query}: {ours.stdout[:200]}"
        assert "Traceback" not in ours.stderr and ours.stdout == "", query
        for needle in needles:
            assert needle in ours.stderr, (query, ours.stderr)


@pytest.mark.parametrize("where", ["version", "head"])
def test_artifacts_yaml_null_entry(tmp_path: Path, where: str) -> None:
    """``rf:`` alone is null, not an empty annotation. GTO validates the file as
    ``Dict[str, Artifact]`` (``Index.read_state``), raises ``WrongArtifactsYaml`` at a version's
    commit or at HEAD (``_get_commit_index`` does not ignore it) and every command fails."""
    bad, good = "rf:\nm:\n  type: model\n", "m:\n  type: model\n"
    repo = Repo(tmp_path / "repo")
    tagged = repo.commit(files={"artifacts.yaml": bad if where == "version" else good})
    repo.tag("m@v1.0.0", tagged)
    head = repo.commit(files={"artifacts.yaml": good if where == "version" else bad})
    broken = tagged if where == "version" else head
    queries = [["show", "--json"], ["show", "-d", "--json"], ["history", "--json"]]
    queries += [["show", "m", "--json"], ["history", "m", "--json"]]
    queries += [["check-ref", "m@v1.0.0", "--json"]]
    needle = f"artifacts.yaml (at commit {broken[:12]}):1: rf: an annotation must be a mapping"
    assert_both_refuse(repo.path, queries, needle, "`rf: {}`")


def test_check_ref_of_other_tags_reads_no_annotation(tmp_path: Path) -> None:
    """GTO's ``check-ref`` returns before reading ``artifacts.yaml`` for a tag that is not a
    registry tag or is not there: a broken file fails only the tags it would describe."""
    repo = Repo(tmp_path / "repo")
    repo.tag("m@v1.0.0", repo.commit(files={"artifacts.yaml": "m:\n  type: model\n"}))
    repo.tag("release-1", repo.commit(files={"artifacts.yaml": "rf:\n"}))  # broken at HEAD
    compare_all(
        repo.path,
        [["check-ref", "release-1", "--json"], ["check-ref", "m@v9.9.9", "--json"]],
    )
    assert run_ours(["check-ref", "m@v9.9.9", "-r", str(repo.path)]) == Output(0, "", "")
    assert_both_refuse(repo.path, [["check-ref", "m@v1.0.0", "--json"]], "rf: an annotation")


def test_artifacts_yaml_is_yaml_1_2(tmp_path: Path) -> None:
    """``0777`` is 777, ``010`` 10, ``0o17`` 15, ``1e3`` 1000.0, ``1:20`` a string in YAML 1.2."""
    annotation = (
        "m:\n  description: 1:20\n  labels: [on, off, 'yes']\n  virtual: yes\n"
        "  custom: {a: 0777, b: 010, c: 0o17, d: 1e3, e: +.5, f: yes, g: ~, h: .inf, i: 0x1F,\n"
        "    j: 1_000, k: 2024-01-01 10:00:00.1234567+05:30, l: -.nan, m: 1:20:30, n: .5e3,\n"
        "    o: [-0b11, 08, 1., -0.0, 1_0.5, Null, TRUE, no, '010'], p: !!omap [x: 1, y: 2]}\n"
    )
    repo = Repo(tmp_path / "repo")
    repo.tag("m@v1.0.0", repo.commit(files={"artifacts.yaml": annotation}))
    repo.commit(files={"artifacts.yaml": annotation + "rf:\n  path: 1:20\n"})  # at HEAD
    compare_all(repo.path, [["show", "--json"], ["show", "m", "--json"], ["history", "--json"]])


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("path: 1e3", 2),
        ("type: 0o17", 2),
        ("labels: [ok, 1e3]", 2),
        ("custom:\n    1: a\n    0x1: b", 4),  # one key once constructed, as ruamel compares
    ],
    ids=["float-path", "octal-type", "float-label", "duplicate-key"],
)
def test_artifacts_yaml_1_2_values_gto_refuses(tmp_path: Path, value: str, line: int) -> None:
    """Values YAML 1.1 reads as strings (or lets pass) are numbers or errors in YAML 1.2."""
    repo = Repo(tmp_path / "repo")
    commit = repo.commit(files={"artifacts.yaml": f"m:\n  {value}\n"})
    repo.tag("m@v1.0.0", commit)
    queries = [["show", "--json"], ["show", "m", "--json"]]
    assert_both_refuse(repo.path, queries, f"artifacts.yaml (at commit {commit[:12]}):{line}:")


# -- regression tests for mismatches the random registries found ------------------------------


def test_second_ref_to_one_tag_object_counts_once(tmp_path: Path) -> None:
    """``git tag new old`` on an annotated tag: a second ref to the same tag object. GTO reads the
    event twice and keeps one (``add_event`` skips an equal event), yet for a stage tag on an
    unregistered commit its version lookup has already made one more empty pseudo-version."""
    repo = Repo(tmp_path / "repo")
    c1 = repo.commit(epoch=1_700_000_000)
    c2 = repo.commit(epoch=1_700_000_050)
    c3 = repo.commit(epoch=1_700_000_060)
    repo.tag("churn@v1.0.0", c1, epoch=1_700_000_100)
    repo.tag("churn#prod#1", c1, epoch=1_700_000_200)
    repo.tag("churn#dev#2", c2, epoch=1_700_000_300, offset_minutes=-480)  # a pseudo-version
    repo.tag("churn@deprecated#3", c2, epoch=1_700_000_400)
    repo.tag("churn@v1.0.1#4", c3, epoch=1_700_000_500)
    for old, new in [
        ("churn@v1.0.0", "churn@v1.0.0#9"),
        ("churn#prod#1", "churn#prod#7"),
        ("churn#dev#2", "churn#dev#8"),
        ("churn@deprecated#3", "churn@deprecated"),
    ]:
        git(repo.path, "tag", new, old)
    queries = [["show", "--json"], ["show", "-d", "--json"], ["history", "--json"]]
    queries += [["show", "churn", "--json"], ["show", "churn", "-d", "--json"]]
    queries += [["check-ref", tag, "--json"] for tag in git(repo.path, "tag").split()]
    compare_all(repo.path, queries)


def test_stages_with_a_gto_config_match_gto(tmp_path: Path) -> None:
    """`.gto` lists the allowed stages: `stages` shows them (in its order), `--used` the
    stages tags use, `--allowed` the list; without the list `--allowed` prints nothing."""
    repo = Repo(tmp_path / "repo")
    sha = repo.commit(files={".gto": "stages: [prod, dev, staging]\n"})
    repo.tag("churn@v1.0.0", sha)
    repo.tag("churn#dev#1", sha, epoch=1_700_000_100)
    queries = [["stages"], ["stages", "--json"], ["stages", "--used"], ["stages", "--allowed"],
               ["stages", "--allowed", "--json"], ["check-ref", "churn#dev#1", "--stage"],
               ["check-ref", "churn@v1.0.0", "--stage"],
               ["check-ref", "churn@v1.0.0", "--name"]]  # fmt: skip
    compare_all(repo.path, queries)
