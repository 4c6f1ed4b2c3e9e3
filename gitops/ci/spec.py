"""The action's inputs and outputs, in one place: action.yml, the README and the code follow it.

Output names keep gto-action's (`event`, `name`, ...) so existing workflows can switch.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Input:
    name: str
    default: str
    description: str


@dataclass(frozen=True)
class Output:
    name: str
    description: str


INPUTS: tuple[Input, ...] = (
    Input(
        "command",
        "auto",
        "What to run: `auto` decides from the event (tag push: stage moves and deploy; "
        "pull/merge request: report; schedule: reconcile), or `moves`, `plan`, `apply`, "
        "`reconcile`, `promote` (open or update the promotion PR/MR of `name`, `version`, "
        "`stage`), `catalog` (build the model catalog site: output `catalog`).",
    ),
    Input("config", "gitops.yaml", "Path of the gitops configuration file, relative to the repo."),
    Input(
        "ref",
        "",
        "Tag(s) to act on, `refs/tags/...` or bare names, separated by spaces or commas. "
        "Default: the ref of the event.",
    ),
    Input("environments", "", "Only these environments (comma-separated). Default: all."),
    Input("dry-run", "false", "Plan and report, change nothing."),
    Input("token", "${{ github.token }}", "Token for the forge API; never printed."),
    Input("comment", "update", "PR/MR comment mode: `update` (sticky), `new` or `off`."),
    Input(
        "fail-on-regression",
        "",
        "`true`: a failed metric gate fails the job and the commit status; `false`: gates "
        "only report. Empty: `reports.fail_on_regression` in gitops.yaml.",
    ),
    Input("working-directory", ".", "Where the repository is, relative to the workspace."),
    Input("name", "", "`command: promote`: the artifact to promote, e.g. churn."),
    Input("version", "", "`command: promote`: its registered version, e.g. v1.3.0."),
    Input("stage", "", "`command: promote`: the stage to promote it to, e.g. prod."),
    Input("reason", "", "`command: promote`: why, for the reviewers (the request file keeps it)."),
    Input(
        "pull",
        "false",
        "`true`: fetch the version of the pushed tag into the workspace at its path (Git, or "
        "DVC's cache or remote), for the job's later steps (gto-action's `pull`); its folder "
        "is the output `pulled-path`.",
    ),
)

OUTPUTS: tuple[Output, ...] = (
    Output("event", "Registry event of the tag: registration, assignment, deprecation, ..."),
    Output("name", "Artifact name of the tag."),
    Output("version", "Version of the tag."),
    Output("stage", "Stage of the tag (assignments and unassignments only)."),
    Output("type", "Artifact type, from artifacts.yaml or dvc.yaml."),
    Output("path", "Artifact path, from artifacts.yaml or dvc.yaml."),
    Output("description", "Artifact description, from artifacts.yaml or dvc.yaml."),
    Output("moves", "JSON list of stage moves: artifact, stage, from_version, to_version, ..."),
    Output("changed", "`true` when at least one stage moved, else `false`."),
    Output("plan", "JSON list of planned changes: environment, artifact, kind, from, to."),
    Output("deployments", "JSON list of deploy results: environment, artifact, status, ..."),
    Output(
        "matrix",
        'JSON for `strategy.matrix`: `{"include": [{"environment": ..., "changes": N, '
        '"level": L}]}`, in `after:` order.',
    ),
    Output("comment-url", "URL of the sticky PR/MR comment, when one was written."),
    Output("pr-url", "URL of the promotion PR/MR opened or updated (`command: promote`)."),
    Output(
        "pulled-path",
        "Where `pull: true` put the pushed tag's version, relative to the workspace.",
    ),
    Output(
        "catalog",
        "Folder of the model catalog site (`command: catalog`), relative to the workspace: "
        "the folder to publish to Pages.",
    ),
    Output(
        "proposals",
        "JSON list of the URLs of the promotion PRs/MRs the scheduled reconcile proposed "
        "(opened, updated or already open) for versions that soaked (`policies.*.promote`).",
    ),
    Output(
        "report",
        "Path of the metric report (Markdown), relative to the workspace; empty when none.",
    ),
    Output(
        "report-json",
        "Path of the metric report as JSON (a list: one per PR, or one per stage move).",
    ),
    Output(
        "error",
        "Empty when the run succeeded; else what failed. The other outputs still hold "
        "everything worked out before the failure.",
    ),
)
