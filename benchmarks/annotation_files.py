"""Annotation files for the benchmark registries, shaped like a real project's.

A real registry repository carries an ``artifacts.yaml`` with hundreds of entries (type, path,
description, labels, now and then ``custom`` metadata) and DVC's ``dvc.yaml`` files with an
``artifacts:`` section, at the root and in the folders of namespaced artifacts (``dir:name`` is
declared in ``dir/dvc.yaml``). Both are committed and change now and then: most commits only
touch code or parameters. ``AnnotationHistory.files_at(i)`` says which files commit ``i``
writes; everything is seeded, so a registry is the same every time it is built.

Every file is one GTO 1.10.1 and DVC accept: names, types and labels are valid GTO names.
Standard library only.
"""

from __future__ import annotations

import random

TYPES = ("model", "model", "model", "dataset", "dataset", "metrics")
LABEL_POOL = (
    "tabular",
    "nlp",
    "vision",
    "weekly",
    "daily",
    "team-payments",
    "team-growth",
    "team-risk",
    "pii",
    "gpu",
    "experimental",
    "baseline",
)
FRAMEWORKS = ("sklearn", "xgboost", "pytorch", "lightgbm", "onnx")
OWNERS = ("alice@example.com", "bob@builders.example", "zoe@example.org", "ml-platform")


class AnnotationHistory:
    """The annotation files over a registry's commits.

    ``artifacts.yaml`` starts with nine tenths of ``entries`` names (every plain-named artifact
    of the tags, then names only annotated there) and changes every ``every`` commits: a few
    entries get a new description revision or new metrics, one more name may be added. The
    ``dvc.yaml`` files change every ``2 * every`` commits, half way between. ``every == 0``:
    the files are written by the first commit and never change (the issue's worst case).
    """

    def __init__(self, artifacts: list[str], seed: int, every: int, entries: int = 500) -> None:
        self.rng = random.Random(f"{seed}-annotations-{every}-{entries}")
        self.every = every
        plain = [a for a in artifacts if ":" not in a]
        extra = [f"{_word(i)}-data-{i:03d}" for i in range(max(0, entries - len(plain)))]
        names = plain + extra
        first = max(1, len(names) * 9 // 10)
        self.pending = names[first:]  # added one at a time as the project goes on
        self.entries: dict[str, dict] = {n: self._entry(n, i) for i, n in enumerate(names[:first])}
        # dvc.yaml: a few plain artifacts at the root, every namespaced one in its folder
        self.dvc_root = [n for n in plain[::8]][:25]
        self.dvc_dirs: dict[str, list[str]] = {}
        for name in artifacts:
            if ":" in name:
                folder, _, short = name.rpartition(":")
                self.dvc_dirs.setdefault(folder, []).append(short)
        self.dvc_revision = 0

    # -- what each commit writes ----------------------------------------------------------------

    def files_at(self, commit: int) -> dict[str, str]:
        """Path -> content of the annotation files commit ``commit`` writes (most write none)."""
        if commit == 0:
            return {"artifacts.yaml": self.artifacts_yaml(), **self.dvc_files()}
        if not self.every:
            return {}
        if commit % self.every == 0:
            self._evolve()
            return {"artifacts.yaml": self.artifacts_yaml()}
        if commit % (2 * self.every) == self.every // 2 and self.every > 1:
            self.dvc_revision += 1
            return self.dvc_files()
        return {}

    def _evolve(self) -> None:
        names = list(self.entries)
        for name in self.rng.sample(names, max(1, len(names) // 40)):
            entry = self.entries[name]
            entry["revision"] += 1
            if entry.get("custom") is not None and "metrics" in entry["custom"]:
                entry["custom"]["metrics"] = self._metrics()
        if self.pending and self.rng.random() < 0.7:
            name = self.pending.pop(0)
            self.entries[name] = self._entry(name, len(self.entries))

    # -- entries --------------------------------------------------------------------------------

    def _metrics(self) -> dict[str, float]:
        return {
            "auc": round(self.rng.uniform(0.6, 0.99), 4),
            "f1": round(self.rng.uniform(0.3, 0.9), 4),
        }

    def _entry(self, name: str, index: int) -> dict:
        rng = self.rng
        kind = rng.choice(TYPES)
        labels = rng.sample(LABEL_POOL, rng.randint(0, 3))
        custom: dict | None = None
        if rng.random() < 0.35:
            custom = {"framework": rng.choice(FRAMEWORKS), "owner": rng.choice(OWNERS)}
            if kind == "model":
                custom["metrics"] = self._metrics()
            if rng.random() < 0.3:
                custom["params"] = {"max_depth": rng.randint(3, 12), "lr": 0.05}
        suffix = {"model": "pkl", "dataset": "csv", "metrics": "json"}[kind]
        return {
            "type": kind,
            "path": f"{kind}s/{name}/{name}.{suffix}",
            "description": f"{kind.capitalize()} {name} for the {_word(index)} pipeline",
            "labels": labels,
            "virtual": rng.random() < 0.9,
            "custom": custom,
            "revision": 1,
            "style": index % 3,  # how it is written: flow lists, block lists, no labels line
        }

    def artifacts_yaml(self) -> str:
        out = ["# Registry annotations (GTO's artifacts.yaml)", ""]
        for name, e in self.entries.items():
            out.append(f"{name}:")
            out.append(f"  type: {e['type']}")
            out.append(f"  path: {e['path']}")
            out.append(f"  description: {e['description']} (revision {e['revision']})")
            if not e["virtual"]:
                out.append("  virtual: false")
            labels = e["labels"]
            if labels and e["style"] == 1:
                out.append("  labels:")
                out.extend(f"    - {label}" for label in labels)
            elif labels or e["style"] == 0:
                out.append(f"  labels: [{', '.join(labels)}]")
            custom = e["custom"]
            if custom is not None:
                out.append("  custom:")
                out.extend(_block(custom, "    "))
        return "\n".join(out) + "\n"

    def dvc_files(self) -> dict[str, str]:
        files = {"dvc.yaml": self._dvc_yaml(self.dvc_root, stages=True)}
        for folder, names in sorted(self.dvc_dirs.items()):
            files[f"{folder}/dvc.yaml"] = self._dvc_yaml(names, stages=False)
        return files

    def _dvc_yaml(self, names: list[str], stages: bool) -> str:
        out = []
        if stages:
            out += [
                "stages:",
                "  prepare:",
                "    cmd: python src/prepare.py data/raw data/prepared",
                "    deps: [src/prepare.py, data/raw]",
                "    outs: [data/prepared]",
                "  train:",
                "    cmd: python src/train.py data/prepared models",
                "    deps:",
                "      - src/train.py",
                "      - data/prepared",
                "    params: [train.lr, train.epochs]",
                "    outs: [models]",
            ]
        out.append("artifacts:")
        for i, name in enumerate(names):
            out.append(f"  {name}:")
            out.append(f"    path: models/{name}.pkl")
            out.append("    type: model")
            out.append(
                f"    desc: {name} served by the {_word(i)} service, rev {self.dvc_revision}"
            )
            out.append(f"    labels: [{LABEL_POOL[i % len(LABEL_POOL)]}]")
            if i % 2:
                out.append("    meta:")
                out.append(f"      owner: {OWNERS[i % len(OWNERS)]}")
        return "\n".join(out) + "\n"


def _word(i: int) -> str:
    words = ("scoring", "ranking", "fraud", "search", "pricing", "support", "ads", "growth")
    return words[i % len(words)]


def _block(value: dict, indent: str) -> list[str]:
    """A mapping as block YAML (nested mappings indented, scalars plain)."""
    lines = []
    for key, item in value.items():
        if isinstance(item, dict):
            lines.append(f"{indent}{key}:")
            lines.extend(_block(item, indent + "  "))
        else:
            lines.append(f"{indent}{key}: {item}")
    return lines
