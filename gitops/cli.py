"""Command line: parse arguments, call one function, print. Lazy imports keep `--help` fast."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitops import __version__
from gitops.errors import GitopsError, UsageError

if TYPE_CHECKING:
    from gitops.registry.reader import Registry


def _repo_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-r", "--repo", default=".", type=Path, help="repository path (default: current dir)"
    )
    p.add_argument(
        "--lightweight",
        action="store_true",
        help="also read lightweight tags, dated by their commit (GTO ignores them)",
    )


def _deploy_args(p: argparse.ArgumentParser) -> None:
    _repo_arg(p)
    p.add_argument("-c", "--config", default="gitops.yaml", help="config file (in the repo)")
    p.add_argument(
        "-e", "--env", action="append", dest="envs", metavar="ENV", help="only this environment"
    )
    p.add_argument(
        "--allow-unknown-stage",
        action="store_true",
        help="accept stages no tag has used yet (a warning each; .gto's list still applies)",
    )


def _json_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON exactly as GTO 1.10.1 does")


def _push_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--push",
        nargs="?",
        const="origin",
        default=None,
        metavar="REMOTE",
        help="push the new tag(s) (to REMOTE, default origin)",
    )
    p.add_argument("-m", "--message", help="tag message (default: GTO's message)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gitops",
        description="GitOps for ML model registries kept in Git tags (GTO format).",
    )
    # The package's own version (gitops/__init__.py): no package metadata is read, so it is the
    # same for an installed wheel, an editable install and the source beside entrypoint.py.
    parser.add_argument("--version", action="version", version=f"gitops {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("show", help="registry state, or the versions of one artifact")
    p.add_argument("name", nargs="?", help="artifact, or NAME#stage, NAME@latest, NAME@vX.Y.Z")
    _repo_arg(p)
    _json_arg(p)
    p.add_argument(
        "-d",
        "--all",
        "--deprecated",
        dest="deprecated",
        action="store_true",
        help="include deprecated artifacts and versions",
    )
    p.add_argument(
        "--ro",
        "--registered-only",
        dest="registered_only",
        action="store_true",
        help="only registered versions (no bare commits)",
    )
    p.add_argument(
        "--sort",
        default="timestamp",
        choices=["timestamp", "semver"],
        help="which version a stage shows: latest assigned or highest SemVer",
    )
    p.add_argument(
        "--vs",
        "--versions-per-stage",
        dest="vs",
        type=int,
        default=1,
        help="versions shown per stage (-1: all)",
    )
    p.add_argument(
        "--av",
        "--assignments-per-version",
        dest="av",
        type=int,
        default=-1,
        help="stages shown per version (-1: all)",
    )

    p = sub.add_parser("check-ref", help="what one tag means")
    p.add_argument("ref", help="tag name or refs/tags/NAME")
    _repo_arg(p)
    _json_arg(p)

    p = sub.add_parser("history", help="registry events, newest first")
    p.add_argument("name", nargs="?", help="only this artifact")
    _repo_arg(p)
    _json_arg(p)
    p.add_argument(
        "--asc", "--ascending", dest="ascending", action="store_true", help="oldest first"
    )

    p = sub.add_parser("register", help="register a version (writes NAME@vX.Y.Z)")
    p.add_argument("name", help="artifact name, e.g. churn")
    p.add_argument("ref", nargs="?", default="HEAD", help="commit to register (default HEAD)")
    _repo_arg(p)
    bump = p.add_mutually_exclusive_group()
    bump.add_argument("--version", help="version to register, e.g. v1.2.0")
    bumps = {"major": "", "minor": "", "patch": " (the default)"}
    for part, note in bumps.items():
        help_text = f"next {part} version after the latest{note}"
        bump.add_argument(
            f"--bump-{part}", action="store_const", dest="bump", const=part, help=help_text
        )
    p.add_argument(
        "--force",
        action="store_true",
        help="register even if the commit already has an active version",
    )
    _push_args(p)

    p = sub.add_parser("assign", help="assign a stage (writes NAME#stage#N)")
    p.add_argument("name", help="artifact name")
    p.add_argument("ref", nargs="?", help="commit to assign (default HEAD unless --version)")
    _repo_arg(p)
    p.add_argument("--version", help="existing version to assign; with REF: name the new one")
    p.add_argument("--stage", required=True, help="the stage to assign, e.g. prod")
    p.add_argument("--force", action="store_true", help="assign even if already in the stage")
    p.add_argument(
        "--skip-registration",
        "--sr",
        action="store_true",
        help="do not register an unregistered commit first",
    )
    _push_args(p)

    p = sub.add_parser(
        "deprecate",
        help="deprecate an artifact, deregister a version, or unassign a stage",
    )
    p.add_argument("name", help="artifact name; alone: deprecate it (NAME@deprecated)")
    p.add_argument("version", nargs="?", help="deregister this version (NAME@vX.Y.Z!)")
    p.add_argument("stage", nargs="?", help="with VERSION: unassign this stage (NAME#stage!#N)")
    _repo_arg(p)
    p.add_argument("--force", action="store_true", help="write the tag even if it changes nothing")
    _push_args(p)

    p = sub.add_parser("moves", help="which stages the given tags moved")
    p.add_argument("tags", nargs="*", metavar="TAG", help="pushed tags (present now)")
    p.add_argument(
        "--deleted", action="append", default=[], metavar="TAG", help="a deleted tag (repeatable)"
    )
    _repo_arg(p)
    p.add_argument("--json", action="store_true", help="tags and moves as JSON")

    p = sub.add_parser("plan", help="what apply would change, per environment")
    _deploy_args(p)
    p.add_argument("--json", action="store_true", help="the plan as JSON")
    p.add_argument("--markdown", action="store_true", help="the plan as Markdown")
    p.add_argument("--all", action="store_true", help="also list what is in sync")
    p.add_argument(
        "--detailed-exitcode",
        action="store_true",
        help="exit 0 when in sync, 1 when there are changes, 2 on errors",
    )

    for name, text in (
        ("apply", "deploy what the plan says (plan, deploy, health check, rollback, record)"),
        ("reconcile", "bring every environment to the registry's state (plan + apply)"),
    ):
        p = sub.add_parser(name, help=text)
        _deploy_args(p)
        p.add_argument("--dry-run", action="store_true", help="show what would be done, do nothing")
        p.add_argument("--json", action="store_true", help="plan and results as JSON")
        p.add_argument(
            "--retry-failed",
            action="store_true",
            help="retry versions that failed in an environment before",
        )
        p.add_argument(
            "--ignore-after",
            action="store_true",
            help="deploy versions that have not run healthy in the environments of `after:` "
            "yet (a first sync of an adopted registry, an emergency); the record says so",
        )

    from gitops.commands import audit, check_policy, promote, report

    report.add_parser(sub)
    promote.add_parser(sub)
    audit.add_parser(sub)
    check_policy.add_parser(sub)

    sub.add_parser("schema", help="print the JSON Schema of gitops.yaml (for editors)")

    sub.add_parser(
        "action",
        help="the CI entry: act on the GitHub/GitLab event (inputs from INPUT_* variables)",
    )

    p = sub.add_parser("demo", help="build a sample registry in a temp dir and show it")
    p.add_argument("--keep", action="store_true", help="keep the sample repository")
    return parser


def _print_json(value: Any) -> None:
    """As GTO prints: ``json.dumps(indent=4)``, byte for byte (``gitops.jsonout``)."""
    from gitops.jsonout import write_json
    from gitops.registry.gto_json import json_default  # refuses what GTO cannot print

    write_json(value, sys.stdout.write, default=json_default)


def _print_warnings(registry: Registry, artifact: str | None = None) -> None:
    """Tag warnings and conflicts on stderr, except ``artifact``'s own conflict: a command about
    that artifact fails with it as its error, and saying it twice is noise."""
    for warning in registry.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for name, conflict in registry.state.conflicts.items():
        if name != artifact:
            print(f"warning: {conflict}", file=sys.stderr)


# Set by run(): what a read command built, kept alive to the end (os._exit), so that nothing
# is freed on the way out. None when main() runs in-process (tests): nothing is kept then.
_RETAINED: list[Any] | None = None


def _retain(value: Any) -> None:
    if _RETAINED is not None:
        _RETAINED.append(value)


def cmd_show(args: argparse.Namespace) -> int:
    from gitops.registry import reader, views
    from gitops.registry.tags import parse_shortcut

    name = parse_shortcut(args.name).name if args.name else None
    registry = reader.load_registry(args.repo, args.lightweight, only=name)
    _retain(registry)
    _print_warnings(registry, name)
    opts = views.ShowOptions(args.registered_only, args.deprecated, args.av, args.vs, args.sort)
    if args.name:
        versions = views.show_versions(registry, args.name, opts)
        if args.json:
            _print_json(versions)
        else:
            from gitops.registry.render import versions_table

            print(versions_table(registry, args.name, versions))
        return 0
    state = views.show_registry(registry, opts)
    if args.json:
        _print_json(state)
    else:
        from gitops.registry.render import registry_table

        print(registry_table(registry, state))
    return 0


def cmd_check_ref(args: argparse.Namespace) -> int:
    from gitops.registry import git, reader, views
    from gitops.registry.tags import parse_tag

    tag_name = args.ref.removeprefix("refs/tags/")
    parsed = parse_tag(tag_name)
    # GTO answers nothing for a tag that is not a registry tag, or not there, before it reads
    # any annotation: so a broken artifacts.yaml cannot fail those either.
    if parsed is None:
        git.repo_root(args.repo)  # a path that is not a repository still fails
        return 0
    source = reader.RegistrySource.read(args.repo, args.lightweight, only=parsed.artifact)
    if all(record.ref != tag_name for record in source.records):
        return 0
    registry = source.registry()
    _retain(registry)
    event = views.check_ref(registry, args.ref)
    if event is None:
        return 0
    if args.json:
        _print_json(views.event_json(event, with_kind=True, internals=False))
    else:
        from gitops.registry.render import describe_event

        print(describe_event(event))
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from gitops.registry import reader, views

    registry = reader.load_registry(args.repo, args.lightweight, only=args.name)
    _retain(registry)
    _print_warnings(registry, args.name)
    events = views.history(registry, args.name, args.ascending)
    _retain(events)
    if args.json:
        _print_json(events)
    else:
        from gitops.registry.render import history_table

        print(history_table(events))
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    from gitops.registry import write

    result = write.register(
        args.repo,
        args.name,
        args.ref,
        version=args.version,
        bump=args.bump,
        force=args.force,
        message=args.message,
    )
    return _report_written(args, result)


def cmd_assign(args: argparse.Namespace) -> int:
    """The direct way into a stage; the stage tag is signed when GITOPS_SIGNING_KEY is set (a
    ``signed_tags`` policy checks it when the tag is pushed, as for any hand-pushed tag)."""
    from gitops.registry import write
    from gitops.registry.signing import signing_from_env

    with signing_from_env() as signing:
        result = write.assign(
            args.repo,
            args.name,
            args.stage,
            ref=args.ref,
            version=args.version,
            force=args.force,
            skip_registration=args.skip_registration,
            message=args.message,
            signing=signing,
        )
    return _report_written(args, result)


def cmd_deprecate(args: argparse.Namespace) -> int:
    from gitops.registry import write

    if args.stage:
        result = write.unassign(
            args.repo, args.name, args.version, args.stage, force=args.force, message=args.message
        )
    elif args.version:
        result = write.deregister(
            args.repo, args.name, args.version, force=args.force, message=args.message
        )
    else:
        result = write.deprecate(args.repo, args.name, force=args.force, message=args.message)
    return _report_written(args, result)


def _report_written(args: argparse.Namespace, tags: list[str]) -> int:
    from gitops.registry import write

    for tag in tags:
        print(f"Created git tag '{tag}'")
    if args.push:
        write.push_tags(args.repo, tags, args.push)
        for tag in tags:
            print(f"Pushed git tag '{tag}' to {args.push}")
    elif tags:
        import shlex

        print("To push the changes upstream, run:")
        print(f"    git push origin {' '.join(shlex.quote(t) for t in tags)}")
    return 0


def cmd_moves(args: argparse.Namespace) -> int:
    from gitops.ci.summary import text_table
    from gitops.registry.moves import compute_changes
    from gitops.registry.reader import RegistrySource

    source = RegistrySource.read(args.repo, args.lightweight)
    changes = compute_changes(source, args.tags, args.deleted)
    for warning in changes.registry.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "tags": [t.to_json() for t in changes.tags],
                    "moves": [m.to_json() for m in changes.moves],
                    "conflicts": changes.conflict_errors(),
                },
                indent=2,
            )
        )
    else:
        print(text_table(changes))
    for error in changes.conflict_errors():
        print(f"error: {error}", file=sys.stderr)
    return 1 if changes.conflicts else 0


def _deploy_inputs(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Registry, config and state store of the repository the command runs on."""
    import os

    from gitops.config import load_config
    from gitops.deploy.store import open_store
    from gitops.registry import reader

    registry = reader.load_registry(args.repo, args.lightweight)
    for warning in registry.warnings:  # conflicts are errors of the plan (held, exit 1)
        print(f"warning: {warning}", file=sys.stderr)
    config = load_config(registry.root, args.config)
    if config is None:
        raise UsageError(
            f"no {args.config} in {registry.root}: nothing to deploy "
            "(see the README's gitops.yaml section)"
        )
    for env in args.envs or []:
        if env not in config.environments:
            known = ", ".join(config.environments) or "none"
            raise UsageError(f"unknown environment {env!r} (configured: {known})")
    from gitops.deploy.names import check_names

    for warning in check_names(config, registry, args.allow_unknown_stage):
        print(f"warning: {warning}", file=sys.stderr)
    in_ci = os.environ.get("GITHUB_ACTIONS") == "true" or os.environ.get("GITLAB_CI") == "true"
    return registry, config, open_store(config.state, registry.root, in_ci)


def cmd_plan(args: argparse.Namespace) -> int:
    from gitops.deploy.plan import plan_now, with_upstreams
    from gitops.deploy.render import plan_markdown, plan_table

    try:
        registry, config, store = _deploy_inputs(args)
        state, _ = store.read(with_upstreams(config, args.envs))
        plan = plan_now(registry, config, state, args.envs)
    except GitopsError as exc:
        if not args.detailed_exitcode:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(plan.to_json())
    elif args.markdown:
        print(plan_markdown(plan), end="")
    else:
        print(plan_table(plan, show_in_sync=args.all))
    for conflict in plan.conflicts:
        print(f"error: {conflict} Held where it is: nothing is changed for it.", file=sys.stderr)
    if plan.conflicts:
        return 2 if args.detailed_exitcode else 1
    if args.detailed_exitcode:
        return 1 if plan.changes else 0
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    import getpass
    import os
    from contextlib import contextmanager

    from gitops.deploy.apply import Applier, RunInfo
    from gitops.deploy.plan import plan_now, with_upstreams
    from gitops.deploy.render import plan_table, results_table
    from gitops.secrets import Masker

    registry, config, store = _deploy_inputs(args)
    why = f"gitops {args.command}"
    if args.ignore_after:
        why += " (order check skipped: --ignore-after)"
    run = RunInfo(actor=getpass.getuser(), why=why)
    out = sys.stderr if args.json else sys.stdout  # with --json, stdout is the JSON only

    def log(line: str) -> None:
        print(line, file=out, flush=True)

    @contextmanager
    def group(title: str):  # type: ignore[no-untyped-def]
        log(f"== {title}")
        yield

    mask = Masker.from_environment(os.environ).mask
    state, _ = store.read(with_upstreams(config, args.envs))
    plan = plan_now(registry, config, state, args.envs)
    applier = Applier(
        registry,
        config,
        store,
        run,
        dry_run=args.dry_run,
        log=log,
        group=group,
        mask=mask,
        retry_failed=args.retry_failed,
        ignore_order=args.ignore_after,
    )
    try:
        results = applier.apply(plan, args.envs)
    except GitopsError:
        if applier.results:  # what was done before the failure is not lost
            print(results_table(applier.results), file=sys.stderr)
        raise
    if args.json:  # plan --json's shape and format, plus the results
        _print_json({**plan.to_json(), "results": [r.to_json() for r in results]})
    else:
        print(plan_table(plan))
        print()
        print(results_table(results))
    for conflict in plan.conflicts:
        print(f"error: {conflict} Held where it is: nothing is changed for it.", file=sys.stderr)
    if not args.dry_run:
        _hint_untracked_state(registry.root)
    return 1 if plan.conflicts or any(r.failed for r in results) else 0


def _hint_untracked_state(root: Path) -> None:
    """Local runs write live state (and the local driver's files) under ``.gitops/``: say how
    to keep them out of ``git status`` once, instead of leaving a surprise there."""
    from gitops.registry.git import run_git

    if not (root / ".gitops").is_dir():
        return
    try:
        untracked = run_git(root, "status", "--porcelain", "--", ".gitops").strip()
    except GitopsError:
        return
    if untracked:
        print(
            "hint: .gitops/ holds this machine's live state and local deployments and is not "
            "ignored by git: add `.gitops/` to .gitignore",
            file=sys.stderr,
        )


def cmd_schema(args: argparse.Namespace) -> int:
    from gitops.config import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_action(args: argparse.Namespace) -> int:
    from gitops.ci import action

    return action.run()


def cmd_demo(args: argparse.Namespace) -> int:
    from gitops import demo

    return demo.run(keep=args.keep)


def _lazy(name: str) -> Callable[[argparse.Namespace], int]:
    """``gitops/commands/<name>.py``'s ``run`` (already imported for its parser)."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        return importlib.import_module(f"gitops.commands.{name}").run(args)

    return run


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "show": cmd_show,
    "check-ref": cmd_check_ref,
    "history": cmd_history,
    "register": cmd_register,
    "assign": cmd_assign,
    "promote": _lazy("promote"),
    "deprecate": cmd_deprecate,
    "moves": cmd_moves,
    "plan": cmd_plan,
    "apply": cmd_apply,
    "reconcile": cmd_apply,
    "report": _lazy("report"),
    "audit": _lazy("audit"),
    "check-policy": _lazy("check_policy"),
    "schema": cmd_schema,
    "action": cmd_action,
    "demo": cmd_demo,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    return _dispatch(parser, parser.parse_args(argv))


# Commands that only read and print: as a process of their own they may end without tearing
# down what they built (a 100k-tag registry state takes a third of a second to free).
_READ_COMMANDS = frozenset({"show", "check-ref", "history", "moves"})


def run() -> None:
    """The console script (and ``python -m gitops``): ``main`` as a process of its own.

    A read command runs with the garbage collector off (it allocates millions of objects and
    frees none before it ends) and ends with ``os._exit`` once its output is flushed.
    """
    parser = build_parser()
    args = parser.parse_args()
    if args.command not in _READ_COMMANDS:
        sys.exit(_dispatch(parser, args))
    import gc
    import os

    global _RETAINED
    _RETAINED = []
    gc.disable()
    code = _dispatch(parser, args)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass  # the reader went away: as main() does for a broken pipe, not an error
    os._exit(code)


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except GitopsError as exc:  # UsageError too: text from files can hold anything
        from gitops.safetext import well_formed

        print(f"error: {well_formed(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    run()
