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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

GEN_VERSION = 1  # bump when the generator changes: cached registries are rebuilt
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

TARGETS_SECONDS = (  # (size, command label, limit in seconds; judged on the median)
    (10_000, "gitops show --json", 0.5),
    (10_000, "gitops check-ref --json", 0.3),
    (100_000, "gitops show --json", 3.0),
)
HELP_LIMIT = 0.15
RSS_TARGET = (100_000, "gitops show --json", 200.0)  # MB

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


def plan_registry(size: int, seed: int) -> tuple[Plan, str]:
    """A registry of exactly ``size`` tags, and the last assignment tag (for check-ref)."""
    rng = random.Random(f"{seed}-{size}")
    commits = max(300, size // 150)
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
    return Plan(commits, tags, lightweight), last_assignment


def fast_import_stream(plan: Plan) -> bytes:
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
        data(f"Train run {i}")
        out.append(b"M 644 inline model/params.txt\n")
        data(f"run = {i}\nlearning_rate = {0.001 * (i % 17 + 1):.3f}\n")
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


def build_registry(base: Path, size: int, seed: int, rebuild: bool) -> tuple[Path, dict]:
    """The registry of ``size`` tags under ``base``, built unless a finished one is there."""
    repo = base / f"gto-registry-{size}-g{GEN_VERSION}-s{seed}"
    meta_file = repo / ".git" / "benchmark.json"
    if repo.exists() and not rebuild and meta_file.exists():
        meta = json.loads(meta_file.read_text())
        meta["cached"] = True
        return repo, meta
    start = time.perf_counter()
    plan, check_tag = plan_registry(size, seed)
    stream = fast_import_stream(plan)
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


def run_once(argv: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """One whole process: wall time from spawn to reaping, CPU time and peak RSS."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as report,
    ):
        launcher = [sys.executable, "-I", "-S", "-c", LAUNCHER, report.name, *argv]
        subprocess.run(launcher, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
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
    size: int | None,
    label: str,
    argv: Sequence[str],
    repeat: int,
    warmup: bool = True,
    env: dict[str, str] | None = None,
) -> Result:
    if warmup:
        first = run_once(argv, env)
        if first.returncode != 0:
            return Result(size, label, [first])
    runs = [run_once(argv, env) for _ in range(repeat)]
    result = Result(size, label, runs)
    shown = f"{size:>7,}" if size else "      -"
    status = f"exit {result.failed.returncode}" if result.failed else ""
    print(f"  {shown}  {label:<34} {result.median:8.3f} s  {status}", flush=True)
    if result.failed:
        print("    " + result.failed.stderr.decode(errors="replace").strip()[-600:])
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


# ---------------------------------------------------------------------------------------------
# Report


def _fmt_ratio(value: float | None, suffix: str = "x") -> str:
    if value is None:
        return "-"
    return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"


def print_table(results: list[Result], gto_pairs: dict[tuple[int, str], str]) -> None:
    floors = {r.size: r.median for r in results if r.label == "git for-each-ref (floor)"}
    by_key = {(r.size, r.label): r for r in results}
    header = ("size", "command", "best s", "median s", "cpu s", "x floor", "GTO/us", "RSS MB")
    rows = [header]
    for r in results:
        floor = floors.get(r.size)
        ratio = r.median / floor if floor and r.size is not None else None
        gto_label = gto_pairs.get((r.size or 0, r.label))
        gto = by_key.get((r.size, gto_label)) if gto_label else None
        versus = gto.median / r.median if gto and not r.failed and not gto.failed else None
        rows.append(
            (
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
    left = {1}
    for n, row in enumerate(rows):
        pairs = enumerate(zip(row, widths, strict=True))
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in pairs]
        print("  ".join(cells))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def check_targets(results: list[Result]) -> list[tuple[str, str]]:
    by_key = {(r.size, r.label): r for r in results}
    verdicts: list[tuple[str, str]] = []

    def judge(text: str, result: Result | None, value: float | None, limit: float) -> None:
        if result is None or value is None:
            verdicts.append((text, "n/a (not measured)"))
        elif result.failed:
            verdicts.append((text, f"FAIL (exit {result.failed.returncode})"))
        else:
            verdict = "PASS" if value < limit else "FAIL"
            verdicts.append((text, f"{verdict} ({value:.3f})"))

    for size, label, limit in TARGETS_SECONDS:
        r = by_key.get((size, label))
        judge(f"{size:,} {label} < {limit} s (median)", r, r.median if r else None, limit)
    r = by_key.get((None, "gitops --help"))
    judge(f"gitops --help < {HELP_LIMIT} s (median)", r, r.median if r else None, HELP_LIMIT)
    size, label, limit = RSS_TARGET
    r = by_key.get((size, label))
    judge(f"{size:,} {label} peak RSS < {limit:.0f} MB", r, r.rss_mb if r else None, limit)
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
    p.add_argument("--gto-size", type=int, default=1000, help="run GTO on this size (0: never)")
    p.add_argument("--repeat", type=int, default=5, help="timed runs per command (after 1 warmup)")
    p.add_argument("--gto-repeat", type=int, default=3, help="timed GTO runs (no warmup)")
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if args.gto_size and args.gto_size not in sizes:
        sizes = sorted({*sizes, args.gto_size})
    base = args.keep or Path(tempfile.gettempdir()) / "gitops-bench"
    base.mkdir(parents=True, exist_ok=True)
    gitops, gto, repeat = args.gitops, args.gto, args.repeat
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    print(f"{git_version.strip()}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load} (other processes skew timings)")
    print(f"registries under {base} (seed {args.seed})")
    env = None if args.no_pycache else pycache_env(base / "pycache")
    if env is not None:
        print(f"gitops runs with PYTHONPYCACHEPREFIX={env['PYTHONPYCACHEPREFIX']}")

    repos: dict[int, tuple[Path, dict]] = {}
    for size in sizes:
        repo, meta = build_registry(base, size, args.seed, args.rebuild)
        repos[size] = (repo, meta)
        how = "cached, built in" if meta["cached"] else "built in"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(meta["counts"].items()))
        steps = (
            f"plan {meta['plan_seconds']:.1f} s, fast-import {meta['fast_import_seconds']:.1f} s"
        )
        if "pack_refs_seconds" in meta:
            steps += f", pack-refs {meta['pack_refs_seconds']:.1f} s"
        print(f"  {size:>7,} tags: {how} {meta['build_seconds']:.1f} s ({steps})")
        print(f"           {meta['commits']} commits; {counts}")

    print("\ntiming (median shown as it goes):")
    results: list[Result] = []
    python = [sys.executable, "-c", "pass"]
    results.append(measure(None, "python -c pass", python, repeat, env=env))
    results.append(measure(None, "gitops --help", [gitops, "--help"], repeat, env=env))
    bare = [sys.executable, "-S", "-c", "pass"]
    results.append(measure(None, "python -S -c pass", bare, repeat, env=env))
    results.append(
        measure(None, "gitops --help (no site, no .pth)", no_site_help(), repeat, env=env)
    )
    gto_pairs: dict[tuple[int, str], str] = {}
    checks: list[tuple[str, str]] = []
    own_format = gitops_format()
    for size in sizes:
        repo, meta = repos[size]
        r = str(repo)
        tag = f"refs/tags/{meta['check_ref_tag']}"
        results.append(
            measure(
                size,
                "git for-each-ref (floor)",
                ["git", "-C", r, "for-each-ref", f"--format={FLOOR_FORMAT}", "refs/tags"],
                repeat,
            )
        )
        if own_format:
            results.append(
                measure(
                    size,
                    "git for-each-ref (gitops fields)",
                    ["git", "-C", r, "for-each-ref", f"--format={own_format}", "refs/tags/"],
                    repeat,
                )
            )
        ours = {
            "gitops show --json": [gitops, "show", "--json", "-r", r],
            "gitops show -d --json": [gitops, "show", "-d", "--json", "-r", r],
            "gitops history --json": [gitops, "history", "--json", "-r", r],
            "gitops check-ref --json": [gitops, "check-ref", tag, "--json", "-r", r],
        }
        mine = {label: measure(size, label, argv, repeat, env=env) for label, argv in ours.items()}
        results.extend(mine.values())
        if not mine["gitops check-ref --json"].stdout.strip():
            print(f"    warning: check-ref {tag} printed nothing")
        if size != args.gto_size:
            continue
        theirs = {
            "gto show --json": [gto, "show", "--json", "-r", r],
            "gto check-ref --json": [gto, "check-ref", tag, "--json", "-r", r],
        }
        for label, argv in theirs.items():
            # GTO is pip-installed: its bytecode is in site-packages already.
            results.append(measure(size, label, argv, args.gto_repeat, warmup=False))
            gto_pairs[(size, label.replace("gto", "gitops", 1))] = label
        by_label = {x.label: x for x in results if x.size == size}
        extra = {  # correctness only, run once
            "gto show -d --json": [gto, "show", "-d", "--json", "-r", r],
            "gto history --json": [gto, "history", "--json", "-r", r],
        }
        for label, argv in extra.items():
            by_label[label] = Result(size, label, [run_once(argv)])
        for what in ("show --json", "show -d --json", "history --json", "check-ref --json"):
            verdict = compare(by_label.get(f"gitops {what}"), by_label.get(f"gto {what}"))
            checks.append((f"{size:,} {what} vs GTO", verdict))

    print("\nresults: wall seconds of whole processes (best, median of the runs); cpu s = median")
    print("user+system CPU incl. git children; x floor = median / for-each-ref floor median;")
    print("GTO/us = GTO median / our median; RSS MB = peak RSS, max over runs, incl. children\n")
    print_table(results, gto_pairs)
    print("\ncorrectness:")
    for text, verdict in checks:
        print(f"  {text:<40} {verdict}")
    print("\ntargets:")
    verdicts = check_targets(results)
    for text, verdict in verdicts:
        print(f"  {text:<45} {verdict}")
    bad = any(v.startswith(("FAIL", "MISMATCH")) for _, v in [*verdicts, *checks])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
