"""Benchmark gitops against GTO and plain git on large generated GTO registries.

Builds registries of annotated GTO tags (1k, 10k, 100k by default) with one ``git fast-import``
stream each, caches them, then times whole processes (best and median of N runs): our read
commands, the ``git for-each-ref`` floor, ``gitops --help``, and GTO on the small registry only
(GTO needs minutes at 10k). On that registry it also checks that our JSON equals GTO's.

Each command runs under a tiny launcher that reaps it with ``os.wait4``: wall time, CPU time and
peak RSS (the largest resident set of the command or a child it waited for, e.g. ``git``; see
LAUNCHER for why not directly from this process). Standard library only.

    /work/venv/bin/python benchmarks/registry.py [--sizes 1000,10000,100000] [--gto-size 1000]
        [--repeat 5] [--gto-repeat 3] [--keep DIR] [--rebuild]
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from annotation_files import AnnotationHistory
from ci_action import ActionRun

GEN_VERSION = 1  # bump when the generator changes: cached registries are rebuilt
ANNOTATION_GEN = 1  # the same for annotation_files.py (annotated registries only)
DEFAULT_SEED = 20_240_601
BASE_EPOCH = 1_600_000_000
STAGES = ("dev", "staging", "prod")
WORDS = ("churn", "fraud", "ranker", "embed", "clf", "reco", "forecast", "segment", "ner", "vision")
NAMESPACES = ("models", "nlp/models", "cv", "services/fraud.v2")
PEOPLE = (
    ("Alice Example", "alice@example.com"),
    ("Bob Builder", "bob@builders.example"),
    ("ci-bot", "ci-bot@users.noreply.github.com"),
    ("Zoë Ångström", "zoe@example.org"),
)
NOISE_SHARE = 0.05  # of all tags; a tenth of them lightweight
TIE_SHARE = 0.03  # tags dated the same second as the previous one

# (shape, size, command label, limit in seconds; judged on the median). The targets
# (annotated registries); the bare ones must meet them too.
TARGETS_SECONDS = tuple(
    (shape, size, label, limit)
    for shape in ("bare", "annotated")
    for size, label, limit in (
        (10_000, "gitops show --json", 0.35),
        (10_000, "gitops check-ref --json", 0.12),
        (10_000, "gitops action (tag push)", 0.6),
        (100_000, "gitops show --json", 2.5),
    )
)
HELP_LIMIT = 0.15
RSS_TARGETS = (  # (shape, size, command label, MB)
    ("bare", 100_000, "gitops show --json", 200.0),
    ("annotated", 100_000, "gitops show --json", 250.0),
)

# ---------------------------------------------------------------------------------------------
# Registry generation


@dataclass
class PlannedVersion:
    name: str
    commit: int
    active: bool = True
    stages: set[str] = field(default_factory=set)


@dataclass
class PlannedArtifact:
    user_name: str  # ``dir:name`` for namespaced artifacts
    tag_name: str  # ``dir=name``
    used_commits: set[int] = field(default_factory=set)
    versions: list[PlannedVersion] = field(default_factory=list)
    semver: tuple[int, int, int] = (0, 0, 0)
    rc_of: tuple[int, int, int] | None = None  # a release candidate waits for its release
    counter: int = 0
    deprecated: bool = False
    last_commit: int = 0

    def next_counter(self) -> int:
        self.counter += 1
        return self.counter

    def active_versions(self) -> list[PlannedVersion]:
        return [v for v in self.versions if v.active]


@dataclass
class PlannedTag:
    name: str
    commit: int
    time: int
    person: tuple[str, str]
    message: str
    kind: str  # registration, assignment, ..., noise


@dataclass
class Plan:
    commits: int
    tags: list[PlannedTag]
    lightweight: list[tuple[str, int]]  # (name, commit)
    artifacts: list[str] = field(default_factory=list)  # user names (``dir:name`` namespaced)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for tag in self.tags:
            counts[tag.kind] = counts.get(tag.kind, 0) + 1
        counts["lightweight"] = len(self.lightweight)
        return counts


def _artifacts(rng: random.Random, count: int = 200) -> list[PlannedArtifact]:
    artifacts = []
    for i in range(count):
        word = WORDS[i % len(WORDS)]
        name = f"{word}-{i:03d}" if i % 7 else f"{word.capitalize()}_{i:03d}"
        if rng.random() < 0.2:
            namespace = rng.choice(NAMESPACES)
            artifacts.append(PlannedArtifact(f"{namespace}:{name}", f"{namespace}={name}"))
        else:
            artifacts.append(PlannedArtifact(name, name))
    return artifacts


def _bump(rng: random.Random, semver: tuple[int, int, int]) -> tuple[int, int, int]:
    major, minor, patch = semver
    roll = rng.random()
    if roll < 0.05 or semver == (0, 0, 0):
        return (major + 1, 0, 0) if semver != (0, 0, 0) else (0, 1, 0)
    if roll < 0.3:
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def plan_registry(size: int, seed: int, commits: int | None = None) -> tuple[Plan, str]:
    """A registry of exactly ``size`` tags on ``commits`` commits (default: one per 150 tags,
    at least 300), and the last assignment tag (for check-ref)."""
    rng = random.Random(f"{seed}-{size}")
    commits = commits or max(300, size // 150)
    artifacts = _artifacts(rng)
    # A few hot artifacts: weight 1 / (rank + 50), as cumulative weights for rng.choices.
    cum_weights = list(itertools.accumulate(1 / (rank + 50) for rank in range(len(artifacts))))
    noise_total = round(size * NOISE_SHARE)
    lightweight_total = noise_total // 10
    annotated_noise = noise_total - lightweight_total
    noise_at = set(rng.sample(range(size - lightweight_total), annotated_noise))
    tags: list[PlannedTag] = []
    now = BASE_EPOCH + commits * 600 + 3600  # every tag is younger than every commit
    last_assignment = ""

    def register(art: PlannedArtifact, person: tuple[str, str]) -> PlannedTag | None:
        free = commits - len(art.used_commits)
        if free <= 0:
            return None
        # Mostly recent commits, as a project moves on; never a commit the artifact already
        # has a version on (GTO fails on two versions of one artifact on one commit).
        progress = len(tags) / size
        upper = max(40, int(commits * progress) + 20)
        commit = rng.randrange(min(upper, commits))
        while commit in art.used_commits:
            commit = (commit + 1) % commits
        art.used_commits.add(commit)
        if art.rc_of is not None:
            nums, art.rc_of, suffix = art.rc_of, None, ""
        else:
            nums, suffix = _bump(rng, art.semver), ""
            if rng.random() < 0.05:
                art.rc_of, suffix = nums, "-rc.1"
        art.semver = nums
        version = "v{}.{}.{}".format(*nums) + suffix
        art.versions.append(PlannedVersion(version, commit))
        art.deprecated = False
        message = f"Registering artifact {art.user_name} version {version}"
        return PlannedTag(f"{art.tag_name}@{version}", commit, now, person, message, "registration")

    def assign(art: PlannedArtifact, person: tuple[str, str]) -> PlannedTag | None:
        recent = itertools.islice((v for v in reversed(art.versions) if v.active), 5)
        candidates = [v for v in reversed(list(recent)) if len(v.stages) < len(STAGES)]
        if not candidates:
            return None
        ver = rng.choice(candidates)
        stage = rng.choice([s for s in STAGES if s not in ver.stages])
        ver.stages.add(stage)
        art.deprecated = False
        name = f"{art.tag_name}#{stage}#{art.next_counter()}"
        message = f"Assigning stage {stage} to artifact {art.user_name} version {ver.name}"
        return PlannedTag(name, ver.commit, now, person, message, "assignment")

    def assign_commit(art: PlannedArtifact, person: tuple[str, str]) -> PlannedTag | None:
        """``gto assign --sr`` on an unregistered commit: a version named by the sha."""
        free = [c for c in range(commits) if c not in art.used_commits]
        if not free:
            return None
        commit = rng.choice(free)
        art.used_commits.add(commit)
        stage = rng.choice(STAGES)
        name = f"{art.tag_name}#{stage}#{art.next_counter()}"
        message = f"Assigning stage {stage} to artifact {art.user_name}"
        return PlannedTag(name, commit, now, person, message, "assignment")

    def unassign(art: PlannedArtifact, person: tuple[str, str]) -> PlannedTag | None:
        pairs = [(v, s) for v in art.active_versions() for s in sorted(v.stages)]
        if not pairs:
            return None
        ver, stage = rng.choice(pairs)
        ver.stages.discard(stage)
        name = f"{art.tag_name}#{stage}!#{art.next_counter()}"
        message = f"Unassigning stage '{stage}' to artifact '{art.user_name}' version '{ver.name}'"
        return PlannedTag(name, ver.commit, now, person, message, "unassignment")

    def deregister(art: PlannedArtifact, person: tuple[str, str]) -> PlannedTag | None:
        active = art.active_versions()
        if len(active) < 2:
            return None
        ver = rng.choice(active[:-1])
        ver.active = False
        name = f"{art.tag_name}@{ver.name}!#{art.next_counter()}"
        message = f"Deregistering artifact {art.user_name} version {ver.name}"
        return PlannedTag(name, ver.commit, now, person, message, "deregistration")

    def deprecate(art: PlannedArtifact, person: tuple[str, str]) -> PlannedTag | None:
        if art.deprecated or not art.versions:
            return None
        art.deprecated = True
        name = f"{art.tag_name}@deprecated#{art.next_counter()}"
        message = f"Deprecating artifact '{art.user_name}'"
        return PlannedTag(name, art.last_commit, now, person, message, "deprecation")

    actions = (
        (register, 0.36),
        (assign, 0.46),
        (unassign, 0.07),
        (deregister, 0.06),
        (deprecate, 0.015),
        (assign_commit, 0.005),
    )
    funcs, weights = zip(*actions, strict=True)
    action_weights = list(itertools.accumulate(weights))
    for i in range(size - lightweight_total):
        if rng.random() >= TIE_SHARE:
            now += rng.randint(1, 90)
        person = rng.choice(PEOPLE)
        if i in noise_at:
            name = f"release-{i}" if i % 3 else f"v{i // 100}.{i % 100}"
            commit = rng.randrange(commits)
            tags.append(PlannedTag(name, commit, now, person, f"Release {i}", "noise"))
            continue
        art = rng.choices(artifacts, cum_weights=cum_weights)[0]
        tag = None
        if not art.versions:
            tag = register(art, person)
        else:
            action = rng.choices(funcs, cum_weights=action_weights)[0]
            tag = action(art, person) or assign(art, person) or register(art, person)
        for other in rng.sample(artifacts, len(artifacts)) if tag is None else ():
            art = other  # this artifact has nothing left to do: another one will
            tag = assign(art, person) or register(art, person)
            if tag is not None:
                break
        if tag is None:
            raise RuntimeError("every artifact is out of commits: raise the commit count")
        art.last_commit = tag.commit
        tags.append(tag)
        if tag.kind == "assignment":
            last_assignment = tag.name
    lightweight = [
        (f"nightly-{i}" if i % 4 else f"exp-{i}@v0.0.{i}", rng.randrange(commits))
        for i in range(lightweight_total)
    ]
    names = [a.user_name for a in artifacts]
    return Plan(commits, tags, lightweight, names), last_assignment


def fast_import_stream(plan: Plan, annotations: AnnotationHistory | None = None) -> bytes:
    """The whole registry as one ``git fast-import`` stream: commits, then tags.

    Every commit changes ``model/params.txt``; with ``annotations``, some also write
    ``artifacts.yaml`` and ``dvc.yaml`` files (``AnnotationHistory.files_at``).
    """
    out: list[bytes] = []

    def data(text: str) -> None:
        raw = text.encode()
        out.append(b"data %d\n%s\n" % (len(raw), raw))

    for i in range(plan.commits):
        stamp = BASE_EPOCH + i * 600
        name, email = PEOPLE[i % len(PEOPLE)]
        out.append(f"commit refs/heads/main\nmark :{i + 1}\n".encode())
        out.append(f"author {name} <{email}> {stamp} +0000\n".encode())
        out.append(f"committer {name} <{email}> {stamp} +0000\n".encode())
        files = annotations.files_at(i) if annotations is not None else {}
        data(f"Train run {i}" + (f"\n\nUpdate {', '.join(sorted(files))}" if files else ""))
        out.append(b"M 644 inline model/params.txt\n")
        data(f"run = {i}\nlearning_rate = {0.001 * (i % 17 + 1):.3f}\n")
        for path, content in files.items():
            out.append(f"M 644 inline {path}\n".encode())
            data(content)
        out.append(b"\n")
    for tag in plan.tags:
        name, email = tag.person
        out.append(f"tag {tag.name}\nfrom :{tag.commit + 1}\n".encode())
        out.append(f"tagger {name} <{email}> {tag.time} +0000\n".encode())
        data(tag.message)  # its trailing LF ends the tag command
    for name, commit in plan.lightweight:
        out.append(f"reset refs/tags/{name}\nfrom :{commit + 1}\n\n".encode())
    return b"".join(out)


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> None:
    proc = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True)
    if proc.returncode != 0:
        error = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"git {' '.join(args[:3])} failed in {repo}: {error}")


class Shape(NamedTuple):
    """What a benchmark registry carries besides its tags."""

    name: str  # "bare" or "annotated"
    every: int = 0  # annotated: artifacts.yaml changes every `every` commits (0: never)
    entries: int = 0  # annotated: names in artifacts.yaml
    commits_per_tag: float = 0.0  # annotated: commits = tags x this (0: the bare shape's count)

    def commits(self, size: int) -> int | None:
        return max(300, int(size * self.commits_per_tag)) if self.commits_per_tag else None

    @property
    def annotated(self) -> bool:
        return self.name == "annotated"

    def describe(self) -> str:
        if not self.annotated:
            return "bare (no annotation files)"
        how = f"changing every {self.every} commits" if self.every else "never changing"
        return (
            f"annotated ({self.entries}-entry artifacts.yaml and dvc.yaml files, {how}; "
            f"{self.commits_per_tag:g} commits per tag)"
        )

    def suffix(self) -> str:
        if not self.annotated:
            return ""
        return f"-a{self.entries}e{self.every}c{self.commits_per_tag:g}"


def build_registry(
    base: Path, size: int, seed: int, rebuild: bool, shape: Shape | None = None
) -> tuple[Path, dict]:
    """The registry of ``size`` tags under ``base``, built unless a finished one is there."""
    shape = shape or Shape("bare")
    gen = f"g{GEN_VERSION}" if not shape.annotated else f"g{GEN_VERSION}.{ANNOTATION_GEN}"
    repo = base / f"gto-registry-{size}{shape.suffix()}-{gen}-s{seed}"
    meta_file = repo / ".git" / "benchmark.json"
    if repo.exists() and not rebuild and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        meta["cached"] = True
        return repo, meta
    start = time.perf_counter()
    plan, check_tag = plan_registry(size, seed, shape.commits(size))
    history = None
    if shape.annotated:
        history = AnnotationHistory(plan.artifacts, seed, shape.every, shape.entries)
    stream = fast_import_stream(plan, history)
    planned = time.perf_counter() - start
    tmp = base / f"{repo.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _git(tmp, "init", "-q", "-b", "main")
    step = time.perf_counter()
    # No fsync: a throwaway repository, and fsync per loose ref triples the time (git >= 2.36).
    _git(tmp, "-c", "core.fsync=none", "fast-import", "--quiet", stdin=stream)
    imported = time.perf_counter() - step
    step = time.perf_counter()
    _git(tmp, "-c", "core.fsync=none", "pack-refs", "--all")  # as in a fresh clone
    packed = time.perf_counter() - step
    _git(tmp, "reset", "-q", "--hard")
    meta = {
        "size": size,
        "seed": seed,
        "shape": shape.describe(),
        "commits": plan.commits,
        "counts": plan.counts(),
        "check_ref_tag": check_tag,
        "plan_seconds": round(planned, 3),
        "fast_import_seconds": round(imported, 3),
        "pack_refs_seconds": round(packed, 3),
        "build_seconds": round(time.perf_counter() - start, 3),
    }
    (tmp / ".git" / "benchmark.json").write_text(json.dumps(meta, indent=2))
    shutil.rmtree(repo, ignore_errors=True)
    tmp.rename(repo)
    meta["cached"] = False
    return repo, meta


# ---------------------------------------------------------------------------------------------
# Timing


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  # user + system, of the process and the git processes it ran
    maxrss_kb: int
    returncode: int
    stdout: bytes
    stderr: bytes


# Peak RSS needs a small parent: Linux keeps a process's RSS high-water mark across exec, and a
# child forked (or vforked) from this script starts out as big as this script. So every command
# runs under this tiny launcher (python -I -S, ~8 MB): it spawns the command, reaps it with
# wait4 and writes wall time, ru_maxrss (the largest of the command and the children it
# waited for, e.g. git), CPU time and exit code to a file.
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.posix_spawnp(sys.argv[2], sys.argv[2:], os.environ)
_, status, ru = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as f:
    cpu = ru.ru_utime + ru.ru_stime
    print(seconds, ru.ru_maxrss, cpu, os.waitstatus_to_exitcode(status), file=f)
"""


def run_once(
    argv: Sequence[str], env: dict[str, str] | None = None, stdin: bytes | None = None
) -> Run:
    """One whole process: wall time from spawn to reaping, CPU time and peak RSS. ``stdin``:
    what the command reads (from a file, so writing it is not timed; e.g. ``git cat-file
    --batch``'s object names)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as report,
        tempfile.TemporaryFile() as given,
    ):
        given.write(stdin or b"")
        given.seek(0)
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, report.name, *argv]
        source = given if stdin is not None else subprocess.DEVNULL
        subprocess.run(launcher, stdin=source, stdout=out, stderr=err, env=env)
        fields = report.read().split()
        if len(fields) != 4:
            err.seek(0)
            raise RuntimeError(f"could not run {argv[0]}: {err.read().decode(errors='replace')}")
        seconds, cpu = float(fields[0]), float(fields[2])
        maxrss, code = int(fields[1]), int(fields[3])
        maxrss = maxrss // 1024 if sys.platform == "darwin" else maxrss  # bytes there, else KiB
        out.seek(0)
        err.seek(0)
        return Run(seconds, cpu, maxrss, code, out.read(), err.read())


def no_site_help() -> list[str]:
    """``gitops --help`` without the site module. The editable install's .pth hook imports
    pathlib, re and importlib.util at every interpreter start (``python -c pass`` vs
    ``python -S -c pass``); a regular install (wheel, Docker image) has no such hook."""
    spec = importlib.util.find_spec("gitops")
    assert spec is not None and spec.submodule_search_locations
    root = Path(list(spec.submodule_search_locations)[0]).parent
    paths = [str(root), sysconfig.get_paths()["purelib"]]
    code = (
        f"import sys; sys.path[1:1] = {paths!r}; sys.argv[0] = 'gitops'; "
        "from gitops.cli import main; sys.exit(main())"
    )
    return [sys.executable, "-S", "-c", code, "--help"]


def pycache_env(prefix: Path) -> dict[str, str]:
    """Our editable checkout has no bytecode and the environment may forbid writing it
    (PYTHONDONTWRITEBYTECODE): every run would compile gitops from source, which no installed
    copy does. Cache bytecode in a private prefix instead (nothing is written under gitops/);
    the warmup run fills it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    return env


@dataclass
class Result:
    shape: str  # "bare" or "annotated"; "" for runs on no registry
    size: int | None
    label: str
    runs: list[Run]

    @property
    def best(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def cpu_median(self) -> float:
        return statistics.median(r.cpu_seconds for r in self.runs)

    @property
    def rss_mb(self) -> float:
        return max(r.maxrss_kb for r in self.runs) / 1024

    @property
    def failed(self) -> Run | None:
        return next((r for r in self.runs if r.returncode != 0), None)

    @property
    def stdout(self) -> bytes:
        return self.runs[0].stdout


def measure(
    key: tuple[str, int | None],
    label: str,
    argv: Sequence[str],
    repeat: int,
    warmup: bool = True,
    env: dict[str, str] | None = None,
    setup: Callable[[], None] | None = None,
    stdin: bytes | None = None,
) -> Result:
    """``repeat`` runs of ``argv`` (after a warmup), ``setup`` before each one, untimed."""
    shape, size = key
    if warmup:
        if setup is not None:
            setup()
        first = run_once(argv, env, stdin)
        if first.returncode != 0:
            return Result(shape, size, label, [first])
    runs = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        runs.append(run_once(argv, env, stdin))
    result = Result(shape, size, label, runs)
    shown = f"{shape:<9} {size:>7,}" if size else f"{'':<9}       -"
    status = f"exit {result.failed.returncode}" if result.failed else ""
    print(f"  {shown}  {label:<40} {result.median:8.3f} s {result.rss_mb:6.0f} MB  {status}")
    if result.failed:
        print("    " + result.failed.stderr.decode(errors="replace").strip()[-600:])
    sys.stdout.flush()
    return result


# gitops reads these fields (gitops/registry/git.py); the floor below reads only what the
# registry state needs, so the two rows show what the richer read costs.
FLOOR_FORMAT = "%00".join(
    [
        "%(refname)",
        "%(objecttype)",
        "%(*objectname)",
        "%(taggername)",
        "%(taggeremail)",
        "%(taggerdate:raw)",
        "%(contents)",
    ]
)


def gitops_format() -> str | None:
    try:
        from gitops.registry.git import _FIELDS  # informational only
    except ImportError:
        return None
    return "%00".join(f"%({f})" for f in _FIELDS) + "%00"


def _fmt_ratio(value: float | None, suffix: str = "x") -> str:
    if value is None:
        return "-"
    return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"


FLOOR = "git for-each-ref (floor)"


def print_table(results: list[Result], gto_pairs: dict[tuple[str, int, str], str]) -> None:
    floors = {(r.shape, r.size): r.median for r in results if r.label == FLOOR}
    by_key = {(r.shape, r.size, r.label): r for r in results}
    header = ("shape", "tags", "command", "best s", "median s", "cpu s", "x floor", "GTO/us", "MB")
    rows = [header]
    for r in results:
        floor = floors.get((r.shape, r.size))
        ratio = r.median / floor if floor and r.size is not None else None
        gto_label = gto_pairs.get((r.shape, r.size or 0, r.label))
        gto = by_key.get((r.shape, r.size, gto_label)) if gto_label else None
        versus = gto.median / r.median if gto and not r.failed and not gto.failed else None
        rows.append(
            (
                r.shape or "-",
                f"{r.size:,}" if r.size else "-",
                r.label + (f" (exit {r.failed.returncode})" if r.failed else ""),
                f"{r.best:.3f}",
                f"{r.median:.3f}",
                f"{r.cpu_median:.3f}",
                _fmt_ratio(ratio),
                _fmt_ratio(versus, "x faster"),
                f"{r.rss_mb:.0f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    left = {0, 2}
    for n, row in enumerate(rows):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in pairs]
        print("  ".join(cells))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def check_targets(results: list[Result]) -> list[tuple[str, str]]:
    by_key = {(r.shape, r.size, r.label): r for r in results}
    verdicts: list[tuple[str, str]] = []

    def judge(text: str, result: Result | None, value: float | None, limit: float) -> None:
        if result is None or value is None:
            verdicts.append((text, "n/a (not measured)"))
        elif result.failed:
            verdicts.append((text, f"FAIL (exit {result.failed.returncode})"))
        else:
            verdict = "PASS" if value < limit else "FAIL"
            verdicts.append((text, f"{verdict} ({value:.3f})"))

    for shape, size, label, limit in TARGETS_SECONDS:
        r = by_key.get((shape, size, label))
        text = f"{shape} {size:,} {label} < {limit} s (median)"
        judge(text, r, r.median if r else None, limit)
    r = by_key.get(("", None, "gitops --help"))
    judge(f"gitops --help < {HELP_LIMIT} s (median)", r, r.median if r else None, HELP_LIMIT)
    for shape, size, label, limit in RSS_TARGETS:
        r = by_key.get((shape, size, label))
        text = f"{shape} {size:,} {label} peak RSS < {limit:.0f} MB"
        judge(text, r, r.rss_mb if r else None, limit)
    return verdicts


def compare(ours: Result | None, theirs: Result | None) -> str:
    if ours is None or theirs is None:
        return "n/a"
    if ours.failed or theirs.failed:
        return "MISMATCH (a command failed)"
    if ours.stdout == theirs.stdout:
        return "OK (byte-identical)"
    try:
        same = json.loads(ours.stdout or b"null") == json.loads(theirs.stdout or b"null")
    except json.JSONDecodeError:
        return "MISMATCH (not JSON)"
    return "OK (JSON-equal, bytes differ)" if same else "MISMATCH"


# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    bindir = Path(sys.executable).parent
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000,100000", help="comma-separated tag counts")
    p.add_argument(
        "--shapes",
        default="bare,annotated",
        help="registry shapes: bare (tags only, the first benchmark's) and/or annotated "
        "(artifacts.yaml and dvc.yaml files, changing now and then)",
    )
    p.add_argument(
        "--every",
        type=int,
        default=100,
        help="annotated: artifacts.yaml changes every N commits (0: never after the "
        "first commit); dvc.yaml files every 2N",
    )
    p.add_argument("--entries", type=int, default=500, help="annotated: artifacts.yaml entries")
    p.add_argument(
        "--commits-per-tag",
        type=float,
        default=0.4,
        help="annotated: commits per tag (most versions on a commit of their own)",
    )
    p.add_argument("--gto-size", type=int, default=1000, help="run GTO on this size (0: never)")
    p.add_argument(
        "--gto-shapes",
        default="bare",
        help="shapes GTO runs on (annotated: GTO reads artifacts.yaml at every "
        "commit and takes minutes even at 1k)",
    )
    p.add_argument("--repeat", type=int, default=5, help="timed runs per command (after 1 warmup)")
    p.add_argument("--gto-repeat", type=int, default=3, help="timed GTO runs (no warmup)")
    p.add_argument("--no-action", action="store_true", help="do not time the CI action")
    p.add_argument(
        "--action-shallow",
        action="store_true",
        help="also time the action in a default (shallow, tag-less) checkout, which "
        "fetches every tag from origin",
    )
    p.add_argument("--keep", type=Path, help="cache registries here (default: a temp dir)")
    p.add_argument("--rebuild", action="store_true", help="rebuild cached registries")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument(
        "--no-pycache",
        action="store_true",
        help="run gitops with the environment as is (default: bytecode cached in a private "
        "PYTHONPYCACHEPREFIX, as an installed package has it, even under "
        "PYTHONDONTWRITEBYTECODE)",
    )
    p.add_argument("--gitops", default=str(bindir / "gitops"), help="gitops executable")
    p.add_argument("--gto", default=str(bindir / "gto"), help="gto executable")
    return p.parse_args(argv)


def shapes_of(args: argparse.Namespace) -> list[Shape]:
    shapes = []
    for name in (s.strip() for s in args.shapes.split(",") if s.strip()):
        if name == "bare":
            shapes.append(Shape("bare"))
        elif name == "annotated":
            shapes.append(Shape("annotated", args.every, args.entries, args.commits_per_tag))
        else:
            raise SystemExit(f"unknown shape {name!r}: bare or annotated")
    return shapes


def time_registry(
    args: argparse.Namespace,
    shape: Shape,
    size: int,
    repo: Path,
    meta: dict,
    env: dict[str, str] | None,
    results: list[Result],
    gto_pairs: dict[tuple[str, int, str], str],
    checks: list[tuple[str, str]],
) -> None:
    """Every command on one registry: the floor, our reads, moves, the action, GTO."""
    gitops, repeat, key, r = args.gitops, args.repeat, (shape.name, size), str(repo)
    tag = meta["check_ref_tag"]
    results.append(
        measure(
            key,
            FLOOR,
            ["git", "-C", r, "for-each-ref", f"--format={FLOOR_FORMAT}", "refs/tags"],
            repeat,
        )
    )
    own_format = gitops_format()
    if own_format:
        argv = ["git", "-C", r, "for-each-ref", f"--format={own_format}", "refs/tags/"]
        results.append(measure(key, "git for-each-ref (gitops fields)", argv, repeat))
    artifact = tag.partition("#")[0].replace("=", ":")
    ours = {
        "gitops show --json": [gitops, "show", "--json", "-r", r],
        "gitops show -d --json": [gitops, "show", "-d", "--json", "-r", r],
        "gitops history --json": [gitops, "history", "--json", "-r", r],
        "gitops check-ref --json": [gitops, "check-ref", f"refs/tags/{tag}", "--json", "-r", r],
        "gitops show NAME --json": [gitops, "show", artifact, "--json", "-r", r],
        "gitops moves TAG": [gitops, "moves", tag, "-r", r],
    }
    mine = {label: measure(key, label, argv, repeat, env=env) for label, argv in ours.items()}
    results.extend(mine.values())
    if not mine["gitops check-ref --json"].stdout.strip():
        print(f"    warning: check-ref {tag} printed nothing")
    if not args.no_action:
        for shallow in (False, True) if args.action_shallow else (False,):
            action = ActionRun(repo, tag, shallow)
            action.prepare()
            label = "gitops action (tag push" + (", shallow checkout)" if shallow else ")")
            run_env = action.env(env)
            argv = [gitops, "action"]
            results.append(measure(key, label, argv, repeat, env=run_env, setup=action.reset))
            problem = action.check()
            if problem:
                print(f"    warning: {label}: {problem}")
    gto_shapes = {s.strip() for s in args.gto_shapes.split(",")}
    if size != args.gto_size or shape.name not in gto_shapes:
        return
    gto = args.gto
    theirs = {
        "gto show --json": [gto, "show", "--json", "-r", r],
        "gto check-ref --json": [gto, "check-ref", f"refs/tags/{tag}", "--json", "-r", r],
    }
    gto_repeat = args.gto_repeat if not shape.annotated else 1
    for label, argv in theirs.items():
        # GTO is pip-installed: its bytecode is in site-packages already.
        results.append(measure(key, label, argv, gto_repeat, warmup=False))
        gto_pairs[(shape.name, size, label.replace("gto", "gitops", 1))] = label
    by_label = {x.label: x for x in results if (x.shape, x.size) == key}
    extra = {  # correctness only, run once
        "gto show -d --json": [gto, "show", "-d", "--json", "-r", r],
        "gto history --json": [gto, "history", "--json", "-r", r],
        "gto show NAME --json": [gto, "show", artifact, "--json", "-r", r],
    }
    for label, argv in extra.items():
        by_label[label] = Result(shape.name, size, label, [run_once(argv)])
    for what in ("show --json", "show -d --json", "history --json", "check-ref --json",
                 "show NAME --json"):  # fmt: skip
        verdict = compare(by_label.get(f"gitops {what}"), by_label.get(f"gto {what}"))
        checks.append((f"{shape.name} {size:,} {what} vs GTO", verdict))


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if args.gto_size and args.gto_size not in sizes:
        sizes = sorted({*sizes, args.gto_size})
    shapes = shapes_of(args)
    base = args.keep or Path(tempfile.gettempdir()) / "gitops-bench"
    base.mkdir(parents=True, exist_ok=True)
    gitops, repeat = args.gitops, args.repeat
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    print(f"{git_version.strip()}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} (other processes skew timings)")
    print(f"registries under {base} (seed {args.seed})")
    env = None if args.no_pycache else pycache_env(base / "pycache")
    if env is not None:
        print(f"gitops runs with PYTHONPYCACHEPREFIX={env['PYTHONPYCACHEPREFIX']}")

    repos: dict[tuple[str, int], tuple[Shape, Path, dict]] = {}
    for shape in shapes:
        print(f"{shape.name}: {shape.describe()}")
        for size in sizes:
            repo, meta = build_registry(base, size, args.seed, args.rebuild, shape)
            repos[(shape.name, size)] = (shape, repo, meta)
            how = "cached, built in" if meta["cached"] else "built in"
            counts = ", ".join(f"{k} {v}" for k, v in sorted(meta["counts"].items()))
            steps = (
                f"plan {meta['plan_seconds']:.1f} s, "
                f"fast-import {meta['fast_import_seconds']:.1f} s"
            )
            if "pack_refs_seconds" in meta:
                steps += f", pack-refs {meta['pack_refs_seconds']:.1f} s"
            print(f"  {size:>7,} tags: {how} {meta['build_seconds']:.1f} s ({steps})")
            print(f"           {meta['commits']} commits; {counts}")

    print("\ntiming (median and peak RSS shown as it goes):")
    results: list[Result] = []
    none = ("", None)
    python = [sys.executable, "-c", "pass"]
    results.append(measure(none, "python -c pass", python, repeat, env=env))
    results.append(measure(none, "gitops --help", [gitops, "--help"], repeat, env=env))
    bare = [sys.executable, "-S", "-c", "pass"]
    results.append(measure(none, "python -S -c pass", bare, repeat, env=env))
    help_argv = no_site_help()
    results.append(measure(none, "gitops --help (no site, no .pth)", help_argv, repeat, env=env))
    gto_pairs: dict[tuple[str, int, str], str] = {}
    checks: list[tuple[str, str]] = []
    for (_, size), (shape, repo, meta) in repos.items():
        time_registry(args, shape, size, repo, meta, env, results, gto_pairs, checks)

    print("\nresults: wall seconds of whole processes (best, median of the runs); cpu s = median")
    print("user+system CPU incl. git children; x floor = median / for-each-ref floor median;")
    print("GTO/us = GTO median / our median; MB = peak RSS, max over runs, incl. children\n")
    for shape in shapes:
        print(f"{shape.name}: {shape.describe()}")
    print()
    print_table(results, gto_pairs)
    print("\ncorrectness:")
    for text, verdict in checks:
        print(f"  {text:<48} {verdict}")
    print("\ntargets:")
    verdicts = check_targets(results)
    for text, verdict in verdicts:
        print(f"  {text:<60} {verdict}")
    bad = any(v.startswith(("FAIL", "MISMATCH")) for _, v in [*verdicts, *checks])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
