"""Command line: the parser and the dispatch. Each command is a module of ``gitops/commands/``
(``add_parser`` + ``run``, as pre-commit's ``commands/``); a module imports its code inside
``run``, so ``--help`` and ``--version`` load no command's code."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from gitops import __version__
from gitops.errors import GitopsError

# (command, its module in gitops/commands/), in the order --help lists them
COMMANDS: tuple[tuple[str, str], ...] = (
    ("show", "show"),
    ("check-ref", "check_ref"),
    ("history", "history"),
    ("stages", "stages"),
    ("doctor", "doctor"),
    ("register", "register"),
    ("assign", "assign"),
    ("deprecate", "deprecate"),
    ("moves", "moves"),
    ("plan", "plan"),
    ("apply", "apply"),
    ("reconcile", "apply"),
    ("report", "report"),
    ("promote", "promote"),
    ("audit", "audit"),
    ("check-policy", "check_policy"),
    ("catalog", "catalog"),
    ("locate", "locate"),
    ("schema", "schema"),
    ("action", "action"),
    ("demo", "demo"),
)
MODULE_OF = dict(COMMANDS)

# Commands that only read and print: as a process of their own they may end without tearing
# down what they built (a 100k-tag registry state takes a third of a second to free).
_READ_COMMANDS = frozenset({"show", "check-ref", "history", "moves"})


class Parser(argparse.ArgumentParser):
    """No prefix matching, in every command: ``--version`` is never read as
    ``--versions-per-stage``; an option that is not spelled out is an error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="gitops",
        description="GitOps for ML model registries kept in Git tags (GTO format).",
    )
    # The package's own version (gitops/__init__.py): no package metadata is read, so it is the
    # same for an installed wheel, an editable install and the source beside entrypoint.py.
    parser.add_argument("--version", action="version", version=f"gitops {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="say on stderr how long the command took"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name, module in COMMANDS:
        command = importlib.import_module(f"gitops.commands.{module}")
        if module == name.replace("-", "_"):
            command.add_parser(sub)
        else:  # one module, two commands (apply, reconcile)
            command.add_parser(sub, name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    return _dispatch(parser, parser.parse_args(argv))


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

    from gitops.commands import _common

    _common.RETAINED = []
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
        module = importlib.import_module(f"gitops.commands.{MODULE_OF[args.command]}")
        if not args.verbose:
            return module.run(args)
        import time

        start = time.perf_counter()
        try:
            return module.run(args)
        finally:
            took = time.perf_counter() - start
            print(f"debug: gitops {args.command} took {took:.3f} s", file=sys.stderr)
    except GitopsError as exc:  # UsageError too: text from files can hold anything
        from gitops.safetext import well_formed

        print(f"error: {well_formed(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
