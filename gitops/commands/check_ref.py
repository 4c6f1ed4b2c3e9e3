"""``gitops check-ref REF``: what one tag means (GTO's ``check-ref``)."""

from __future__ import annotations

import argparse

from gitops.commands._common import print_json, repo_arg, retain


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-ref", help="what one tag means")
    p.add_argument("ref", help="tag name or refs/tags/NAME")
    repo_arg(p)
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print JSON exactly as GTO does")
    for field, what in LINE_FIELDS.items():
        shown.add_argument(f"--{field}", dest=f"show_{field}", action="store_true", help=what)


# GTO's one-line answers: the field of the tag's event (none for an event without it)
LINE_FIELDS = {
    "name": "print the artifact name only",
    "version": "print the version only (none for a deprecation)",
    "stage": "print the stage only (assignments and unassignments)",
    "event": "print the event only (registration, assignment, ...)",
}
_KEY = {"name": "artifact", "version": "version", "stage": "stage", "event": "event"}


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
    data = views.event_json(event, with_kind=True, internals=False)
    field = next((f for f in LINE_FIELDS if getattr(args, f"show_{f}")), None)
    if args.json:
        print_json(data)
    elif field is not None:
        value = data.get(_KEY[field])
        if value:
            print(str(value).rstrip("\r\n"))
    else:
        from gitops.registry.gto_text import check_ref_line
        from gitops.registry.render import describe_event

        print(check_ref_line(describe_event(event)))
    return 0
