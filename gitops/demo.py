"""``gitops demo``: a sample registry built in a temp dir, then shown. Nothing else needed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gitops.registry import write
from gitops.registry.reader import load_registry
from gitops.registry.render import describe_event, history_table, registry_table, versions_table
from gitops.registry.views import ShowOptions, check_ref, history, show_registry, show_versions

START = 1_767_225_600  # 2026-01-01T00:00:00Z: fixed dates make the demo repeatable

ARTIFACTS_YAML = """\
churn:
  type: model
  path: models/churn.pkl
  description: Customer churn classifier
fraud:
  type: model
  path: models/fraud.onnx
"""


@contextmanager
def _at(minutes: int) -> Iterator[None]:
    """Date the next git objects ``minutes`` after START (tags order by tagger time)."""
    saved = {k: os.environ.get(k) for k in ("GIT_COMMITTER_DATE", "GIT_AUTHOR_DATE")}
    os.environ["GIT_COMMITTER_DATE"] = os.environ["GIT_AUTHOR_DATE"] = (
        f"{START + minutes * 60} +0000"
    )
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


def build_sample(repo: Path) -> None:
    """A small registry: two models with versions moving through stages, one deprecated."""
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "config", "user.name", "Demo User")
    _git(repo, "config", "user.email", "demo@example.com")
    _git(repo, "config", "tag.gpgSign", "false")
    _git(repo, "config", "commit.gpgSign", "false")
    (repo / ".gto").write_text("stages: [dev, staging, prod]\n")
    (repo / "artifacts.yaml").write_text(ARTIFACTS_YAML)
    commits = []
    scores = [(0.861, 0.412, 96.0), (0.874, 0.377, 101.5), (0.879, 0.369, 99.2)]
    for i, text in enumerate(["baseline", "more features", "tuned thresholds"]):
        (repo / "models").mkdir(exist_ok=True)
        (repo / "models" / "churn.pkl").write_text(f"churn model: {text}\n")
        (repo / "models" / "fraud.onnx").write_text(f"fraud model {i}\n")
        (repo / "metrics.json").write_text(_metrics(*scores[i]))
        _git(repo, "add", "-A")
        with _at(i * 60):
            _git(repo, "commit", "-q", "-m", f"Train models: {text}")
        commits.append(
            subprocess.run(
                ["git", "-C", str(repo), "rev-parse", "HEAD"],
                check=True,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout.strip()
        )
    steps = [
        lambda: write.register(repo, "churn", commits[0], version="v1.0.0"),
        lambda: write.assign(repo, "churn", "staging", version="v1.0.0"),
        lambda: write.assign(repo, "churn", "prod", version="v1.0.0"),
        lambda: write.register(repo, "churn", commits[1], bump="minor"),
        lambda: write.assign(repo, "churn", "staging", version="v1.1.0"),
        lambda: write.assign(repo, "churn", "prod", version="v1.1.0"),
        lambda: write.assign(repo, "churn", "dev", ref=commits[2]),  # registers v1.1.1 first
        lambda: write.unassign(repo, "churn", "v1.1.0", "prod"),  # prod falls back to v1.0.0
        lambda: write.register(repo, "fraud", commits[1], version="v0.1.0"),
        lambda: write.assign(repo, "fraud", "staging", version="v0.1.0"),
        lambda: write.register(repo, "legacy-scorer", commits[0], version="v0.9.0"),
        lambda: write.deprecate(repo, "legacy-scorer"),
    ]
    for minute, step in enumerate(steps, start=200):
        with _at(minute):
            step()


def _metrics(accuracy: float, loss: float, p95_ms: float) -> str:
    """The training run's metrics file: what each version's report compares."""
    import json

    doc = {"eval": {"accuracy": accuracy, "loss": loss}, "latency_ms": {"p95": p95_ms}}
    return json.dumps(doc, indent=2) + "\n"


def run(keep: bool = False) -> int:
    tmp = Path(tempfile.mkdtemp(prefix="gitops-demo-"))
    repo = tmp / "registry"
    try:
        build_sample(repo)
        registry = load_registry(repo)
        opts = ShowOptions()
        print(f"Sample registry built in {repo}\n")
        print("== Registry state (gitops show) ==")
        print(registry_table(registry, show_registry(registry, opts)))
        print("\n== Versions of churn (gitops show churn) ==")
        print(versions_table(registry, "churn", show_versions(registry, "churn", opts)))
        events = history(registry)
        unassign_tag = next(e["ref"] for e in events if e["event"] == "unassignment")
        print(f"\n== What a tag means (gitops check-ref '{unassign_tag}') ==")
        event = check_ref(registry, unassign_tag)
        print(describe_event(event) if event else "not a registry tag")
        print("  -> prod fell back to the version assigned before v1.1.0")
        print("\n== History (gitops history) ==")
        print(history_table(events))
        deploy_loop(repo, tmp / "deployments")
        if keep:
            print(f"\nKept: try `gitops show -r {repo}`")
        return 0
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


HEALTH_CHECK = """
import os, pathlib, sys
base = pathlib.Path(sys.argv[1]) / os.environ["GITOPS_ENVIRONMENT"] / os.environ["GITOPS_ARTIFACT"]
model = base / os.environ["GITOPS_PATH"]
sys.exit(1 if "broken" in model.read_text() else 0)
"""


def _gitops_yaml(deployments: Path) -> str:
    import json
    import sys

    check = json.dumps([sys.executable, "-c", HEALTH_CHECK, str(deployments)])
    local = f"{{driver: local, dir: {json.dumps(str(deployments))}}}"
    health = f"{{command: {check}, retries: 1, interval: 0}}"
    return (
        "# Which environment runs which registry stage, and how it is deployed.\n"
        "environments:\n"
        "  staging:\n"
        "    stage: staging\n"
        f"    deploy: {local}\n"
        f"    health: {health}\n"
        "    on_failure: rollback\n"
        "  prod:\n"
        "    stage: prod\n"
        "    after: [staging]  # a version reaches prod only once it ran healthy in staging\n"
        f"    deploy: {local}\n"
        f"    health: {health}\n"
        "    on_failure: rollback\n"
        "reports:  # the metric report of every stage move, and its gates\n"
        "  gates:\n"
        "    eval.accuracy: {min: 0.85, max_drop: 1%}\n"
    )


def deploy_loop(repo: Path, deployments: Path) -> None:
    """Plan, deploy with the local driver, a stage move, a broken version rolled back in
    staging and held back from prod, and drift (an edited model file) found and fixed: the
    whole loop on the sample registry."""
    from gitops.config import load_config
    from gitops.deploy.apply import RunInfo, apply
    from gitops.deploy.plan import plan_now
    from gitops.deploy.render import plan_table, results_table
    from gitops.deploy.store import FileStore
    from gitops.registry.moves import Changes, compute_changes
    from gitops.registry.reader import RegistrySource

    (repo / "gitops.yaml").write_text(_gitops_yaml(deployments))
    (repo / ".gitignore").write_text(".gitops/\n")
    _git(repo, "add", "gitops.yaml", ".gitignore")
    with _at(300):
        _git(repo, "commit", "-q", "-m", "Deploy with gitops")
    store = FileStore(repo / ".gitops" / "state")
    run = RunInfo(actor="demo", why="gitops demo")

    def reconcile(title: str, **options: bool) -> None:
        registry = load_registry(repo)
        config = load_config(repo)
        assert config is not None
        _, results = apply(registry, config, store, run, log=lambda _: None, **options)
        print(f"\n== {title} ==")
        print(results_table(results))

    def show_plan(title: str) -> None:
        registry = load_registry(repo)
        config = load_config(repo)
        assert config is not None
        state, _ = store.read(list(config.environments))
        plan = plan_now(registry, config, state)
        print(f"\n== {title} ==")
        print(plan_table(plan))

    def move(title: str, tags: list[str], report: bool = False) -> None:
        changes = compute_changes(RegistrySource.read(repo), tags)
        print(f"\n== {title} ==")
        for m in changes.moves:
            print(f"{m.artifact} {m.stage}: {m.from_version or '-'} -> {m.to_version or '-'}")
        if report:
            show_report(changes)

    def show_report(changes: Changes) -> None:
        """What the action puts in the job summary for a stage move, as text."""
        from gitops.report import compare
        from gitops.report.build import build_report
        from gitops.report.text import render

        config = load_config(repo)
        assert config is not None
        for m in changes.moves:
            comparison = compare.stage_move(changes.registry, m)
            if comparison is None:
                continue
            held = compare.stage_history(changes.registry, m.artifact, m.stage, 10)
            report = build_report(repo, config.reports, comparison, history=held)
            print(f"\n== Its metric report (the job summary of the tag push: {m.tag}) ==")
            print(render(report, color=False).rstrip())

    print(f"\n== gitops.yaml (deploys into {deployments}) ==")
    print("staging <- stage staging; prod <- stage prod, after staging; both health-checked")
    show_plan("Plan (gitops plan): prod waits, its version never ran in staging")
    reconcile("First sync of an adopted registry (gitops apply --ignore-after)", ignore_order=True)
    show_plan("Plan again: applying twice does nothing")

    with _at(310):
        tags = write.assign(repo, "churn", "prod", version="v1.1.0")
    move(f"Stage move: a tag is pushed ({tags[0]})", tags, report=True)
    reconcile("Deploy the move: v1.1.0 ran healthy in staging, so prod takes it")

    (repo / "models" / "churn.pkl").write_text("churn model: broken build\n")
    (repo / "metrics.json").write_text(_metrics(0.812, 0.455, 131.0))
    _git(repo, "add", "-A")
    with _at(320):
        _git(repo, "commit", "-q", "-m", "Retrain churn (broken)")
        write.register(repo, "churn", "HEAD", version="v1.2.0")
    with _at(321):
        tags = write.assign(repo, "churn", "staging", version="v1.2.0")
    move(f"A broken version enters staging ({tags[0]})", tags, report=True)
    reconcile("Deploy: the health check fails, staging rolls back")
    with _at(322):
        tags = write.assign(repo, "churn", "prod", version="v1.2.0")
    move(f"Someone promotes it to prod anyway ({tags[0]})", tags)
    reconcile("Deploy: prod holds it back, it failed in staging")
    with _at(330):
        tags = write.unassign(repo, "churn", "v1.2.0", "prod")
        tags += write.unassign(repo, "churn", "v1.2.0", "staging")
    move(f"Git is put right: v1.2.0 leaves both stages ({', '.join(tags)})", tags)
    show_plan("Plan: both already run v1.1.0 (the rollback and the hold did it)")

    model = deployments / "prod" / "churn" / "models" / "churn.pkl"
    model.write_text("churn model: patched by hand on the server\n")
    show_plan("Drift: someone edited the model file in prod by hand")
    reconcile("Reconcile (gitops reconcile) puts the real bytes back")
    show_plan("In sync")


def _rev(repo: Path, ref: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", f"{ref}^{{commit}}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip()
