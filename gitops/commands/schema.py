"""``gitops schema``: the JSON Schema of gitops.yaml, for editors."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("schema", help="print the JSON Schema of gitops.yaml (for editors)")


def run(args: argparse.Namespace) -> int:
    import json

    from gitops.config import json_schema

    print(json.dumps(json_schema(), indent=2))
    return 0
