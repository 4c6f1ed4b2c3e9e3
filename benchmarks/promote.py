"""The merge job of a promotion on a big registry: what a push to the default branch that
brings in one promotion request costs, as GitHub's runner runs the action.

For each size, the registry of ``registry.py`` (bare or annotated shape) is cloned to a bare
``origin`` and a workspace (``actions/checkout`` with ``fetch-depth: 0``). One commit on ``main``
adds ``.gitops/promotions/canary/<name>.yaml`` (the latest version of one artifact into a stage
nobody uses yet, so it always lands) and a ``gitops.yaml`` whose ``canary`` environment deploys
with the ``local`` driver. Timed, as whole processes (``registry.run_once``):

- ``merge``: ``gitops action`` on that push: read the request, check the policy, make the stage
  tag with GTO's counter, push it to origin, deploy it, write the audit to the summary;
- ``re-run``: the same job again: the stage holds the version, nothing is done;
- ``tag push``: the action on a pushed stage tag of the same registry (the deploy alone);
- the floor: ``git for-each-ref`` of the tags.

Before each ``merge`` run the tag and the state branch are deleted from origin and the
workspace, so each run does the whole work. No forge: the merger is the commit's committer.

    .venv/bin/python benchmarks/promote.py --sizes 1000,10000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry import Shape, build_registry, run_once  # noqa: E402

STAGE = "canary"


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args[:3])}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def latest_version(repo: Path) -> tuple[str, str, str]:
    """(artifact, version, commit) of a plain-named artifact's newest registration."""
    out = git(repo, "for-each-ref", "--sort=-creatordate", "--format=%(refname:short)",
              "refs/tags/*@v*")  # fmt: skip
    for tag in out.splitlines():
        name, _, version = tag.partition("@")
        if "=" not in name and "#" not in tag and not version.endswith("!"):
            return name, version, git(repo, "rev-parse", f"refs/tags/{tag}^{{commit}}")
    raise RuntimeError("no registered version found")


class MergeJob:
    def __init__(self, registry: Path, work: Path) -> None:
        self.work = work
        self.origin, self.ws = work / "origin.git", work / "ws"
        subprocess.run(["git", "clone", "-q", "--bare", str(registry), str(self.origin)],
                       check=True)  # fmt: skip
        subprocess.run(["git", "clone", "-q", str(self.origin), str(self.ws)], check=True)
        self.name, self.version, commit = latest_version(self.ws)
        self.before = git(self.ws, "rev-parse", "HEAD")
        request = (
            "# A promotion request made by gitops: merging its PR creates the stage tag.\n"
            f'artifact: "{self.name}"\nversion: "{self.version}"\nstage: "{STAGE}"\n'
            f'commit: "{commit}"\nrequested_by: "alice"\nreason: "benchmark"\n'
            'created_at: "2026-12-05T09:00:00Z"\n'
        )
        deployed = json.dumps(str(work / "deployed"))
        config = (
            "state: {forge_records: false}\n"
            "environments:\n"
            f"  {STAGE}: {{stage: {STAGE}, allow_unknown_stage: true, deploy: "
            f"{{driver: local, dir: {deployed}}}}}\n"
        )
        path = self.ws / ".gitops" / "promotions" / STAGE / f"{self.name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(request)
        (self.ws / "gitops.yaml").write_text(config)
        git(self.ws, "add", ".gitops", "gitops.yaml")
        who = {"GIT_AUTHOR_NAME": "Dora", "GIT_AUTHOR_EMAIL": "d@x", "GIT_COMMITTER_NAME":
               "Dora", "GIT_COMMITTER_EMAIL": "d@x"}  # fmt: skip
        git(self.ws, "commit", "-q", "-m", "Merge promotion", env=who)
        git(self.ws, "push", "-q", "origin", "HEAD:main")
        self.after = git(self.ws, "rev-parse", "HEAD")
        (work / "home").mkdir()
        (work / "event.json").write_text(json.dumps({
            "ref": "refs/heads/main", "before": self.before, "after": self.after,
            "repository": {"full_name": "acme/models", "default_branch": "main"},
        }))  # fmt: skip

    def reset(self) -> None:
        """Nothing of the last run left: no stage tag, no state branch, no deployed files."""
        for repo in (self.origin, self.ws):
            for tag in git(repo, "tag", "--list", f"{self.name}#{STAGE}#*").split():
                git(repo, "tag", "-d", tag)
        self.undeploy()

    def undeploy(self) -> None:
        """No state branch (here or on origin) and no deployed files: the deploy runs again."""
        for ref in ("refs/heads/gitops/state", "refs/gitops/state/gitops/state"):
            for repo in (self.origin, self.ws):
                subprocess.run(["git", "-C", str(repo), "update-ref", "-d", ref],
                               capture_output=True)  # fmt: skip
        shutil.rmtree(self.work / "deployed", ignore_errors=True)

    def env(self) -> dict[str, str]:
        ours = ("GITHUB_", "GITLAB", "CI", "INPUT_", "GIT_", "GITOPS_")
        base = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        out, summary = self.work / "output", self.work / "summary"
        out.write_text("")
        summary.write_text("")
        return base | {
            "HOME": str(self.work / "home"), "CI": "true", "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": "push", "GITHUB_EVENT_PATH": str(self.work / "event.json"),
            "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": self.after,
            "GITHUB_WORKSPACE": str(self.ws), "GITHUB_OUTPUT": str(out),
            "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_REPOSITORY": "acme/models",
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": "http://127.0.0.1:9",
            "GITHUB_RUN_ID": "1", "GITHUB_ACTOR": "dora", "INPUT_TOKEN": "",
            "INPUT_COMMAND": "auto",
        }  # fmt: skip


def timed(argv: list[str], env: dict[str, str], check: str, repeat: int, before=None) -> dict:  # noqa: ANN001
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        run = run_once(argv, env=env)
        text = (run.stdout + run.stderr).decode(errors="replace")
        if run.returncode != 0 or check not in text:
            raise RuntimeError(f"{' '.join(argv[-2:])} failed ({run.returncode}):\n{text[-2000:]}")
        runs.append(run)
    return {"median": statistics.median(r.seconds for r in runs),
            "best": min(r.seconds for r in runs),
            "rss_mb": max(r.maxrss_kb for r in runs) / 1024}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000", help="comma-separated tag counts")
    p.add_argument("--shape", default="bare", choices=["bare", "annotated"])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--keep", type=Path, help="cache registries here")
    p.add_argument("--gitops", default=str(Path(sys.executable).parent / "gitops"))
    args = p.parse_args(argv)
    shape = Shape("annotated", 100, 500, 0.4) if args.shape == "annotated" else Shape("bare")
    base = args.keep or Path(tempfile.gettempdir()) / "gitops-bench"
    base.mkdir(parents=True, exist_ok=True)
    print(f"shape: {shape.describe()}; {args.repeat} runs each, medians (best); whole processes")
    print(f"{'tags':>7}  {'floor':>7}  {'merge':>15}  {'re-run':>15}  {'tag push':>15}  "
          f"{'merge/floor':>11}  {'peak RSS':>8}")  # fmt: skip
    for size in [int(s) for s in args.sizes.split(",")]:
        registry, _ = build_registry(base, size, 20240601, False, shape)
        with tempfile.TemporaryDirectory(prefix="gitops-promote-bench-") as tmp:
            job = MergeJob(registry, Path(tmp))
            env = job.env()
            action = [args.gitops, "action"]
            floor = timed(["git", "-C", str(job.ws), "for-each-ref", "refs/tags"], env, "",
                          args.repeat)  # fmt: skip
            merge = timed(action, env, "pushed", args.repeat, job.reset)
            rerun = timed(action, env, "nothing to do", args.repeat)
            tag = git(job.ws, "tag", "--list", f"{job.name}#{STAGE}#*").split()[0]
            push_env = env | {"GITHUB_REF": f"refs/tags/{tag}", "GITHUB_SHA": job.after}
            (job.work / "tag.json").write_text(json.dumps({"ref": f"refs/tags/{tag}",
                                                           "before": "0" * 40}))  # fmt: skip
            push_env["GITHUB_EVENT_PATH"] = str(job.work / "tag.json")

            pushed = timed(action, push_env, "deployed", args.repeat, job.undeploy)

            def cell(r: dict) -> str:
                return f"{r['median']:.2f}s ({r['best']:.2f})"

            print(f"{size:>7}  {floor['median']:>6.3f}s  {cell(merge):>15}  {cell(rerun):>15}  "
                  f"{cell(pushed):>15}  {merge['median'] / floor['median']:>10.0f}x  "
                  f"{merge['rss_mb']:>6.0f}MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
