"""``gitops check-ref REF``: what one tag means (GTO's ``check-ref``)."""

from __future__ import annotations

import argparse

from gitops.commands._common import json_arg, print_json, repo_arg, retain


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-ref", help="what one tag means")
    p.add_argument("ref", help="tag name or refs/tags/NAME")
    repo_arg(p)
    json_arg(p)


def run(args: argparse.Namespace) -> int:
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
    retain(registry)
    event = views.check_ref(registry, args.ref)
    if event is None:
        return 0
    if args.json:
        print_json(views.event_json(event, with_kind=True, internals=False))
    else:
        from gitops.registry.render import describe_event

        print(describe_event(event))
    return 0
