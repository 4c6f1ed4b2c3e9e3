"""``gitops action``: the CI entry (GitHub Action, GitLab job)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser(
        "action",
        help="the CI entry: act on the GitHub/GitLab event (inputs from INPUT_* variables)",
    )


def run(args: argparse.Namespace) -> int:
    from gitops.ci import action

    return action.run()
