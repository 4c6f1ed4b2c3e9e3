"""``gitops check-policy``: may this version enter this stage now? (the text of ``--help``)"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from gitops.errors import UsageError

if TYPE_CHECKING:
    from gitops.config import GitopsConfig
    from gitops.promote.decision import Candidate, Decision
    from gitops.registry.reader import Registry

DESCRIPTION = """The policies of gitops.yaml (`policies:`) applied to a version and a stage, as
a promotion PR's merge or a hand-pushed tag would be checked. Exit 0: allowed; 1: refused (each
rule broken is printed with how to meet it); 2: a usage or config error.

    gitops check-policy churn v1.3.0 prod
    gitops check-policy churn v1.3.0 prod --actor alice --approvals 2 --label hotfix
    gitops check-policy churn v1.3.0 prod --now 2026-12-24T18:30:00+01:00
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check-policy",
        help="may a version enter a stage now: the policies of gitops.yaml, rule by rule",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("name", help="artifact name")
    p.add_argument("version", help="version, e.g. v1.3.0")
    p.add_argument("stage", help="the stage it would enter, e.g. prod")
    p.add_argument(
        "--actor", help="who promotes (default: $GITHUB_ACTOR, $GITLAB_USER_LOGIN, your login)"
    )
    p.add_argument(
        "--tag",
        help="the stage tag whose signature is checked (default: the tag that put the version "
        "in the stage, if one did)",
    )
    p.add_argument(
        "--approvals",
        type=int,
        metavar="N",
        help="approvals of the promotion PR (default: no PR, as for a hand-pushed tag)",
    )
    p.add_argument(
        "--label", action="append", default=[], metavar="L", help="a label of the PR (repeatable)"
    )
    p.add_argument("--now", metavar="ISO", help="judge at this time (default: now; no zone: UTC)")
    p.add_argument("--markdown", action="store_true", help="print the verdict as Markdown")
    p.add_argument("-r", "--repo", default=".", type=Path, help="repository (default: .)")
    p.add_argument("-c", "--config", default="gitops.yaml", help="config file (in the repo)")


def run(args: argparse.Namespace) -> int:
    import os

    from gitops.config import load_config
    from gitops.deploy.store import open_store
    from gitops.promote import policy
    from gitops.registry.git import repo_root
    from gitops.registry.reader import load_registry

    repo = repo_root(args.repo)
    registry = load_registry(repo)
    config = load_config(repo, args.config)
    candidate = _candidate(args, registry, config)
    rules = config.policies.get(args.stage) if config is not None else None
    if config is None or rules is None:
        where = args.config if config is None else f"policies: in {args.config}"
        print(f"allowed: no policy for stage {_shown(args.stage)} (none in {where})")
        return 0
    in_ci = os.environ.get("GITHUB_ACTIONS") == "true" or os.environ.get("GITLAB_CI") == "true"
    upstreams = [env for stage in rules.after for env in config.environments_for(stage)]
    state, _ = open_store(config.state, repo, in_ci).read(upstreams)
    gates = None
    if rules.gates and config.reports.gates:
        from gitops.commands.report import make

        target = f"{args.name}@{args.version}"
        gates = make(repo, config.reports, target, None, None, args.stage).gates
    decision = policy.check(
        candidate, config, registry=registry, state=state, repo=repo, gates=gates
    )
    if args.markdown:
        sys.stdout.write(policy.describe(decision))
    else:
        _print(candidate, decision)
    return 0 if decision.allowed else 1


def _candidate(
    args: argparse.Namespace, registry: Registry, config: GitopsConfig | None
) -> Candidate:
    """The arguments as a Candidate; a usage error for a name the registry does not know."""
    from gitops.promote.decision import Candidate
    from gitops.registry.views import find_artifact

    artifact = find_artifact(registry, args.name)
    found = next((v for v in artifact.versions if v.version == args.version), None)
    if found is None:
        known = ", ".join(v.version for v in artifact.versions[-5:]) or "none"
        raise UsageError(f"{args.name} has no version {args.version!r} (latest: {known})")
    stages = set(registry.stages) | set(registry.state.used_stages())
    if config is not None:
        stages |= set(config.policies) | {e.stage for e in config.environments.values()}
    if args.stage not in stages:
        raise UsageError(
            f"unknown stage {args.stage!r}: no tag, .gto, environment or policy names it "
            f"(known: {', '.join(sorted(stages)) or 'none'})"
        )
    if args.approvals is not None and args.approvals < 0:
        raise UsageError("--approvals must be 0 or more")
    tag = args.tag
    if tag is None:
        vstage = found.stages.get(args.stage)
        held = vstage.activated_at if vstage is not None else None
        tag = held.tag if held is not None else None
    elif registry.tag(tag) is None:
        raise UsageError(f"no tag {tag!r} in {registry.root}")
    approvals = None
    if args.approvals is not None:
        approvals = tuple(f"approver {i + 1}" for i in range(args.approvals))
    return Candidate(
        artifact=args.name,
        version=args.version,
        commit=found.commit,
        stage=args.stage,
        actor=args.actor or _default_actor(),
        now=_now(args.now),
        tag=tag,
        approvals=approvals,
        labels=tuple(args.label),
    )


def _default_actor() -> str:
    import getpass
    import os

    for variable in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN"):
        if os.environ.get(variable):
            return os.environ[variable]
    return getpass.getuser()


def _now(text: str | None) -> datetime:
    if text is None:
        from gitops.promote import times

        return times.now()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now {text!r}: use ISO 8601, e.g. 2026-12-24T18:30:00+01:00") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _print(candidate: Candidate, decision: Decision) -> None:
    what = f"{candidate.artifact} {candidate.version} into {candidate.stage}"
    if decision.allowed:
        print(f"allowed: {_shown(what)}")
    else:
        print(f"refused: {_shown(what)}")
        for v in decision.violations:
            print(f"  {v.rule}: {_shown(v.message)}")
            print(f"    how to meet it: {_shown(v.fix)}")
    for note in decision.notes:
        print(f"  note: {_shown(note)}")


def _shown(text: str) -> str:
    """One visible line: names and reasons come from files and people."""
    from gitops.safetext import one_line

    return one_line(text)
