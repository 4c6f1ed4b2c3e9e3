"""Seeded random GTO registries for differential tests against GTO 1.10.1.

``generate(seed)`` plans a registry (commits, tags, ``.gto``, ``artifacts.yaml``) from nothing
but the seed, so any failure replays exactly; ``build(spec, path)`` makes it a real git repository
with exact commit and tagger dates. The plan mixes every event kind the tag grammar has
(shared/reference/gto.md §1-2) with the situations where GTO's semantics are subtle: same-second
ties, out-of-order counters, re-registration, reactivation, pseudo-versions, time zones,
namespaces, lightweight look-alikes and noise.

Left out on purpose, because GTO itself fails on them (tests/test_differential.py covers our
behaviour separately): ``name@created`` tags (every GTO command crashes), two versions registered
on one commit of the same artifact (``ManyVersions`` once a stage tag or HEAD annotation touches
that commit), taggers without email (``Name <>``), tags of tags or trees. ``artifacts.yaml`` is
kept to plain YAML (quoted keys, no null entries, no scalars YAML 1.1 and 1.2 read differently).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from pathlib import Path

from gitutil import Repo, git, git_date

BASE_EPOCH = 1_700_000_000

# Artifact names in every shape the grammar allows: plain, one character, leading digit,
# uppercase and `_`, a slash in the name, namespaced (`dir:name`, tagged `dir=name`).
ARTIFACTS = [
    "churn",
    "m",
    "1",
    "Churn_A",
    "a/b",
    "nn",
    "models/churn:clf",
    "dir.v2/x:model",
    "seg:sub/model",
]
PLAIN_ARTIFACTS = [a for a in ARTIFACTS if ":" not in a]
STAGES = ["prod", "staging", "dev", "qa", "Prod_1", "stage/sub", "1", "prod-5"]
OFFSETS = [0, 0, 0, 330, 345, -480, -300, 60, 120, -210, 600, 840, -720, 525]
TAGGERS = [
    ("Tagger", "tagger@example.com"),
    ("Alice", "alice@example.com"),
    ("Bob Builder", "bob@builders.example"),
    ("Zoë Ångström", "zoe@example.org"),
    ("ci-bot", "ci-bot@users.noreply.github.com"),
]
# A tagger without email (``Name <>``) crashes GTO ("Could not parse tagger identity"): commit
# authors and committers only.
PEOPLE = [*TAGGERS, ("No Mail", "")]
MESSAGES = [
    None,  # the default ``tag NAME`` message
    "Registering artifact churn version v0.0.1",
    "promote to prod",
    "multi-line\n\nbody with details\nand more",
    "  padded message  ",
    "unicode: déploiement ✓ 模型",
    "quotes \"double\" and 'single' and \\backslash",
    "tab\tinside",
    "",
    "   ",
    "# not a comment?\nsecond line",
]
NOISE_TAGS = [
    "v1.0",
    "v1.2.3",
    "release-x",
    "churn@1.0.0",
    "churn@V1.0.0",
    "churn@v1.0",
    "churn@latest",
    "churn#prod#1#2",
    "churn@deprecated!",
    "my.model@v1.0.0",
    "churn#prod@v1.0.0",
    "_c@v1.0.0",
    "a-@v1.0.0",
    "churn@v01.0.0",
    "churn@v1.0.0-01",
    "model#prod#1-2",
    "a=b=c@v1.0.0",
]
PRERELEASES = ["-rc.1", "-rc.2", "-alpha", "-beta.2", "-0", "-x.7.z"]


@dataclass(frozen=True)
class CommitSpec:
    epoch: int  # committer date: what GTO shows for a version's commit
    offset: int  # minutes east of UTC
    message: str
    author: tuple[str, str]
    committer: tuple[str, str]
    author_epoch: int
    files: dict[str, str]


@dataclass(frozen=True)
class TagSpec:
    name: str
    commit: int  # index into RegistrySpec.commits
    epoch: int
    offset: int
    message: str | None
    tagger: tuple[str, str]
    annotated: bool = True
    alias_of: str | None = None  # a second ref to this tag's object (``git tag NAME ALIAS_OF``)


@dataclass
class RegistrySpec:
    seed: int
    commits: list[CommitSpec] = field(default_factory=list)
    tags: list[TagSpec] = field(default_factory=list)
    gto_config: str | None = None
    index_file: str = "artifacts.yaml"
    head: int | None = None  # HEAD moved back to this commit (None: the last one)
    detached: bool = False
    artifacts: list[str] = field(default_factory=list)  # every name GTO may know
    versions: dict[str, list[str]] = field(default_factory=dict)  # registered, per artifact

    def describe(self) -> str:
        """The plan in a few lines, for assertion messages."""
        lines = [f"seed {self.seed}: {len(self.commits)} commits, {len(self.tags)} tags"]
        for i, c in enumerate(self.commits):
            if self.index_file in c.files:
                entries = c.files[self.index_file].splitlines()
                names = [e.split("'")[1] for e in entries if e.startswith("'")]
                lines.append(f"  c{i} {self.index_file}: {', '.join(names) or '{}'}")
        if self.gto_config:
            lines.append(f".gto: {self.gto_config.strip()!r}")
        if self.head is not None:
            lines.append(f"HEAD at c{self.head}{' (detached)' if self.detached else ''}")
        for t in sorted(self.tags, key=lambda t: (t.epoch, t.name)):
            kind = f" -> {t.alias_of}" if t.alias_of else "" if t.annotated else " (lightweight)"
            lines.append(f"  {t.epoch - BASE_EPOCH:>9} {t.offset:+5} c{t.commit} {t.name}{kind}")
        return "\n".join(lines)


class _ArtifactModel:
    """What the generator knows of one artifact, to make mostly meaningful moves."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tag_base = name.replace(":", "=")
        self.version_at: dict[int, str] = {}  # commit -> the one version registered there
        self.commit_of: dict[str, int] = {}  # version -> commit
        self.deregistered: set[str] = set()
        self.assigned: list[tuple[int, str]] = []  # (commit, stage)
        self.tagged = False  # has an annotated tag, so GTO knows it


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.spec = RegistrySpec(seed=seed)
        self.names: set[str] = set()
        self.base_of: dict[str, tuple[_ArtifactModel, str]] = {}  # tag name -> (model, base)
        self.clock = BASE_EPOCH + self.rng.randrange(0, 86_400)
        # A quarter of the plans are dense: two or three commits, mostly annotated, most events
        # in the same few seconds, so versions, pseudo-versions and ties pile up on each commit.
        self.dense = self.rng.random() < 0.25

    # -- time ---------------------------------------------------------------------------------

    def tick(self) -> int:
        """Next event time: often the same second (ties), sometimes back in time."""
        rng = self.rng
        steps = [0, 0, 0, 1, 1, 3600] if self.dense else [0, 0, 0, 1, 1, 2, 59, 3600, 86_400]
        self.clock += rng.choice(steps)
        if rng.random() < 0.12:
            return self.clock - rng.randrange(0, 200_000)
        return self.clock

    def offset(self) -> int:
        return self.rng.choice(OFFSETS)

    # -- plan ---------------------------------------------------------------------------------

    def plan(self) -> RegistrySpec:
        rng = self.rng
        n_artifacts = rng.choice([1, 2, 2, 3, 3, 4])
        self.models = [_ArtifactModel(a) for a in rng.sample(ARTIFACTS, n_artifacts)]
        self.plan_commits()
        n_tags = rng.randint(5, 40)
        attempts = 0
        while len(self.spec.tags) < n_tags and attempts < 400:
            attempts += 1
            self.step(rng.choice(self.models))
        self.add_noise()
        tagged = {m.name for m in self.models if m.tagged}
        self.spec.artifacts = sorted(tagged | self.annotated_names)
        self.spec.versions = {m.name: sorted(m.commit_of) for m in self.models}
        return self.spec

    def plan_commits(self) -> None:
        rng = self.rng
        spec = self.spec
        n = rng.randint(2, 3) if self.dense else rng.randint(2, 9)
        annotate = rng.random() < (0.8 if self.dense else 0.3)
        config = []
        if rng.random() < 0.2:  # registry columns: these stages (maybe none), used or not
            stages = rng.sample(STAGES, rng.choice([0, 1, 2, 3]))
            config.append("stages: [" + ", ".join(f"'{s}'" for s in stages) + "]")
        elif rng.random() < 0.03:
            config.append("# an empty .gto")
        if annotate and rng.random() < 0.15:
            spec.index_file = "registry.yaml"
            config.append(f"INDEX: {spec.index_file}")
        spec.gto_config = "\n".join(config) + "\n" if config else None
        if rng.random() < 0.2:
            spec.head, spec.detached = rng.randrange(n), rng.random() < 0.5
        head = n - 1 if spec.head is None else spec.head
        self.annotated_names: set[str] = set()  # in the annotations file at HEAD
        when = self.clock - rng.randrange(0, 100_000)
        for i in range(n):
            when += rng.choice([0, 1, 600, 3600, 50_000])
            files = {f"file{i}.txt": f"{i}\n"}
            if annotate and rng.random() < 0.6:
                files[spec.index_file] = self.artifacts_yaml()
                if i <= head:
                    self.annotated_names = self.head_names
            if i == 0 and spec.gto_config:
                files[".gto"] = spec.gto_config
            spec.commits.append(
                CommitSpec(
                    epoch=when,
                    offset=self.offset(),
                    message=rng.choice(["commit", "fix: things\n\nlonger body", f"c{i}"]),
                    author=rng.choice(PEOPLE),
                    committer=rng.choice(PEOPLE),
                    author_epoch=when - rng.choice([0, 0, 5, 86_400]),
                    files=files,
                )
            )

    def artifacts_yaml(self) -> str:
        """A valid ``artifacts.yaml``: some of our artifacts plus one never tagged (``rf``)."""
        rng = self.rng
        names = rng.sample([*PLAIN_ARTIFACTS, "rf"], rng.randint(0, 3))
        self.head_names = set(names)
        if not names:
            return "{}\n"
        out = []
        for name in names:
            out.append(f"'{name}':")  # quoted: a bare `1:` is an integer key
            out.append(f"  type: {rng.choice(['model', 'dataset'])}")
            out.append(f"  path: models/{name.replace('/', '_')}.pkl")
            if rng.random() < 0.5:
                out.append(f"  virtual: {rng.choice(['true', 'false'])}")
            if rng.random() < 0.5:
                out.append("  labels: [" + ", ".join(rng.sample(["a", "b", "cv", "nlp"], 2)) + "]")
            if rng.random() < 0.5:
                out.append(f"  description: {rng.choice(['a model', 'Ünïcode text'])!r}")
            if rng.random() < 0.3:
                out.append("  custom: {k: 1, items: [x, y]}")
        return "\n".join(out) + "\n"

    def add_tag(self, name: str, commit: int, annotated: bool = True) -> bool:
        if name in self.names:
            return False
        rng = self.rng
        self.names.add(name)
        epoch = self.tick()
        if rng.random() < 0.08:  # the same second as the commit it tags
            epoch = self.spec.commits[commit].epoch
        self.spec.tags.append(
            TagSpec(
                name=name,
                commit=commit,
                epoch=epoch,
                offset=self.offset(),
                message=rng.choice(MESSAGES),
                tagger=rng.choice(TAGGERS),
                annotated=annotated,
            )
        )
        return True

    def counter(self, model: _ArtifactModel) -> int:
        """GTO's next counter (1 + the artifact's highest), or now and then an odd one."""
        highest = 0
        for name in self.names:
            base, sep, rest = name.rpartition("#")
            if sep and rest.isdigit() and base.startswith(model.tag_base):
                if base[len(model.tag_base) : len(model.tag_base) + 1] in ("@", "#"):
                    highest = max(highest, int(rest))
        if self.rng.random() < 0.12:
            return self.rng.randint(0, 60)  # hand-made, out of order
        return highest + 1

    def named(self, model: _ArtifactModel, base: str, simple_odds: float) -> str:
        """``base`` as is (a hand-made tag without counter) or with a counter."""
        if self.rng.random() < simple_odds and base not in self.names:
            name = base
        elif self.rng.random() < 0.03:
            name = f"{base}#{self.counter(model):03d}"  # "#007" reads as 7
        else:
            name = f"{base}#{self.counter(model)}"
        self.base_of[name] = (model, base)
        return name

    def next_version(self, model: _ArtifactModel) -> str:
        rng = self.rng
        cores = [_core(v) for v in model.commit_of]
        major, minor, patch = max(cores, default=(0, 0, 0))
        match rng.choice(["patch", "patch", "minor", "major", "low"]):
            case "patch":
                patch += 1
            case "minor":
                minor, patch = minor + 1, 0
            case "major":
                major, minor, patch = major + 1, 0, 0
            case "low":  # lower than the highest: SemVer order differs from time order
                major, minor, patch = 0, 0, rng.randint(0, 3)
        version = f"v{major}.{minor}.{patch}"
        if rng.random() < 0.15:
            version += rng.choice(PRERELEASES)
        if rng.random() < 0.05:
            version += "+build.5"
        elif rng.random() < 0.02:
            # a pre-release id `1٣`: the tag grammar's `\d` takes it, SemVer (ASCII) does not
            version += ("." if "-" in version else "-") + "1\u0663"
        return version

    def step(self, model: _ArtifactModel) -> None:
        before = len(self.spec.tags)
        self.move(model)
        model.tagged = model.tagged or len(self.spec.tags) > before

    def move(self, model: _ArtifactModel) -> None:
        """One random event for ``model``: registration, deregistration, assignment..."""
        rng = self.rng
        commits = range(len(self.spec.commits))
        free = [c for c in commits if c not in model.version_at]
        action = rng.choices(
            ["register", "reregister", "deregister", "assign", "unassign", "deprecate", "odd"],
            weights=[5, 1, 2, 7, 3, 1, 0.4],
        )[0]
        if action == "odd" and free:
            # Hand-made oddities: a version name registered again on another commit, or a
            # deregistration of a version never registered. GTO makes a version of each.
            commit = rng.choice(free)
            if model.commit_of and rng.random() < 0.5:
                base = f"{model.tag_base}@{rng.choice(sorted(model.commit_of))}"
            else:
                base = f"{model.tag_base}@{self.next_version(model)}!"
            if self.add_tag(self.named(model, base, 0.3), commit):
                model.version_at[commit] = base.partition("@")[2].rstrip("!")
        if action == "register" and free:
            version = self.next_version(model)
            if version in model.commit_of:
                return
            commit = rng.choice(free)
            if self.add_tag(self.named(model, f"{model.tag_base}@{version}", 0.7), commit):
                model.version_at[commit] = version
                model.commit_of[version] = commit
        elif action == "reregister" and model.deregistered:
            version = rng.choice(sorted(model.deregistered))
            commit = model.commit_of[version]
            if self.add_tag(self.named(model, f"{model.tag_base}@{version}", 0.0), commit):
                model.deregistered.discard(version)
        elif action == "deregister" and model.commit_of:
            version = rng.choice(sorted(model.commit_of))
            commit = model.commit_of[version]
            if self.add_tag(self.named(model, f"{model.tag_base}@{version}!", 0.5), commit):
                model.deregistered.add(version)
        elif action == "assign":
            # mostly a registered commit; otherwise GTO names a pseudo-version by the sha
            pool = list(model.version_at) if model.version_at and rng.random() < 0.8 else free
            if not pool:
                return
            commit, stage = rng.choice(pool), rng.choice(STAGES)
            if self.add_tag(self.named(model, f"{model.tag_base}#{stage}", 0.15), commit):
                model.assigned.append((commit, stage))
        elif action == "unassign":
            if model.assigned and rng.random() < 0.85:
                commit, stage = rng.choice(model.assigned)
            else:
                commit, stage = rng.choice(list(commits)), rng.choice(STAGES)
            self.add_tag(self.named(model, f"{model.tag_base}#{stage}!", 0.2), commit)
        elif action == "deprecate":
            commit = rng.choice(list(commits))
            self.add_tag(self.named(model, f"{model.tag_base}@deprecated", 0.6), commit)

    def add_noise(self) -> None:
        """Tags GTO must skip: names outside the grammar, and lightweight look-alikes."""
        rng = self.rng
        n_commits = len(self.spec.commits)
        for name in rng.sample(NOISE_TAGS, rng.randint(0, 3)):
            self.add_tag(name, rng.randrange(n_commits))
        for _ in range(rng.randint(0, 2)):
            model = rng.choice(self.models)
            name = rng.choice(
                [
                    f"{model.tag_base}@v9.{rng.randint(0, 9)}.0",
                    f"{model.tag_base}#prod#{rng.randint(90, 99)}",
                    f"{model.tag_base}@deprecated#{rng.randint(90, 99)}",
                ]
            )
            self.add_tag(name, rng.randrange(n_commits), annotated=False)
        # Second refs to a registry tag's object, named for the same artifact and event (a tag
        # "renamed" with `git tag new old`): GTO reads the event twice and keeps it once.
        made = [t for t in self.spec.tags if t.name in self.base_of and t.annotated]
        for _ in range(rng.choice([0, 0, 0, 1, 2])):
            if not made:
                break
            original = rng.choice(made)
            model, base = self.base_of[original.name]
            alias = f"{base}#{self.counter(model)}"
            if alias not in self.names:
                self.names.add(alias)
                self.spec.tags.append(replace(original, name=alias, alias_of=original.name))


def _core(version: str) -> tuple[int, int, int]:
    """``v1.2.3-rc.1+b`` -> (1, 2, 3)."""
    major, minor, patch = version[1:].split("+")[0].split("-")[0].split(".")
    return int(major), int(minor), int(patch)


def generate(seed: int) -> RegistrySpec:
    """The registry plan for ``seed`` (deterministic)."""
    return _Generator(seed).plan()


def _commit(repo: Repo, c: CommitSpec) -> str:
    """A commit whose author and committer (names and dates) differ, as they may in life."""
    for name, content in c.files.items():
        (repo.path / name).write_text(content)
        git(repo.path, "add", name)
    env = {
        "GIT_AUTHOR_NAME": c.author[0],
        "GIT_AUTHOR_EMAIL": c.author[1],
        "GIT_AUTHOR_DATE": git_date(c.author_epoch, c.offset),
        "GIT_COMMITTER_NAME": c.committer[0],
        "GIT_COMMITTER_EMAIL": c.committer[1],
        "GIT_COMMITTER_DATE": git_date(c.epoch, c.offset),
    }
    git(repo.path, "commit", "-q", "--allow-empty", "-m", c.message, env=env)
    return repo.rev()


def build(spec: RegistrySpec, path: Path) -> Repo:
    """Make ``spec`` a real repository at ``path``: commits, tags in plan order, then HEAD."""
    repo = Repo(path)
    shas = [_commit(repo, c) for c in spec.commits]
    for t in spec.tags:
        if t.alias_of is not None:
            git(repo.path, "tag", t.name, f"refs/tags/{t.alias_of}")
            continue
        if not t.annotated:
            git(repo.path, "tag", t.name, shas[t.commit])
            continue
        env = {
            "GIT_COMMITTER_DATE": git_date(t.epoch, t.offset),
            "GIT_COMMITTER_NAME": t.tagger[0],
            "GIT_COMMITTER_EMAIL": t.tagger[1],
        }
        message = f"tag {t.name}" if t.message is None else t.message
        git(repo.path, "tag", "-a", t.name, shas[t.commit], "-m", message, env=env)
    if spec.head is not None:
        target = shas[spec.head]
        if spec.detached:
            git(repo.path, "checkout", "-q", "--detach", target)
        else:
            git(repo.path, "reset", "-q", "--hard", target)
    return repo
