"""Any string survives every writer, and no string can command the CI log.

Odd strings: surrogates as PyYAML reads JSON-style escapes (a valid pair, a lone half), NUL, CR,
LF, U+2028/2029, bidi controls, very long text. Hostile strings: GitHub workflow commands in both
forms the runner parses (``::name::`` after trimming, ``##[name]`` anywhere in a line), with
leading spaces, tabs and CRs; GitLab section markers. The action runs as a real process with the
platform's files; GitHub's runner is emulated from its source (``cienv.runner_commands``).
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

import pytest
from cienv import (
    RUNNER_COMMANDS,
    Origin,
    checkout_like_github,
    checkout_like_gitlab,
    parse_runner_command,
    run_github,
    run_gitlab,
    runner_commands,
)

from gitops.ci import spec
from gitops.ci.github import GitHubReporter
from gitops.ci.gitlab import GitLabReporter, dotenv_name
from gitops.ci.reporter import Reporter
from gitops.markdown import code, escape
from gitops.safetext import one_line, visible, well_formed

T0 = 1_760_000_000
ROCKET = "\U0001f680"

HOSTILE = [
    "Tune ##[error]INJECTED",
    "##[add-mask]INJECTED",
    "x ##[set-output name=changed;]INJECTED",
    "::error::INJECTED",
    "  \t::add-mask::INJECTED",
    "::stop-commands::INJECTED",
    "\u00a0\u3000::warning::INJECTED",  # .NET's TrimStart removes these too
    "ok\r::error::INJECTED",  # the runner ends a line at a bare CR
    "ok\r\n##[add-mask]INJECTED",
    "ok\n  ::set-output name=x::INJECTED",
    "ok\u2028::error::INJECTED",
    "##[endgroup]INJECTED ::endgroup::",
    "#\u200b#[error]INJECTED",
    "section_start:1:x[collapsed=true]\r\x1b[0KINJECTED",
    "\x1b[0Ksection_end:1:gitops\r\x1b[0KINJECTED",
    "\u202eDETCEJNI\u202c \ud83d lone \udcff byte \x00 nul",
]
OURS = {"group", "endgroup", "error", "warning"}
HIDDEN = ("Cc", "Cf", "Zl", "Zp", "Cs")  # what a log line never holds, except a tab


# --- the text functions -----------------------------------------------------------------------


def test_surrogates_are_joined_or_replaced_once_where_text_is_written() -> None:
    assert well_formed("rocket \ud83d\ude80") == f"rocket {ROCKET}"  # PyYAML's two halves
    assert well_formed("\ud83d") == "\ufffd"
    assert well_formed("\ude80\ud83d") == "\ufffd\ufffd"  # a pair the wrong way round
    assert well_formed(f"{ROCKET}\udcff") == f"{ROCKET}\ufffd"
    assert well_formed("plain") == "plain"
    for text in ("\ud83d", "a\udcff", "\ud83d\ude80"):
        well_formed(text).encode("utf-8")  # never raises


def test_visible_shows_what_would_break_or_hide_a_line() -> None:
    assert visible("a\nb\rc\x00d\x1b[31m") == "a\\nb\\rc\\x00d\\x1b[31m"
    assert visible("a\u2028b\u2029c\x85d") == "a\\u2028b\\u2029c\\x85d"
    assert visible("\u202eevil\u202c \u200b") == "\\u202eevil\\u202c \\u200b"
    assert visible(f"tab\tkept, emoji {ROCKET}, accents é ü") == (
        f"tab\tkept, emoji {ROCKET}, accents é ü"
    )
    assert visible("\ud83d\ude80 \ud83d") == f"{ROCKET} \ufffd"


def test_one_line_makes_controls_spaces_and_shows_format_characters() -> None:
    assert one_line("a\nb\r\tc\x00\u2028d") == "a b  c  d"
    assert one_line("\u202eab") == "\\u202eab"
    assert one_line("\u202eab", show_invisible=False) == "\u202eab"


def test_every_control_format_and_separator_character_is_shown() -> None:
    """The rule is Unicode's categories (Cc, Cf, Zl, Zp), not a list that could miss one."""
    categories = ("Cc", "Cf", "Zl", "Zp")
    odd = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in categories]
    shown = visible("".join(odd))
    assert not [c for c in shown if unicodedata.category(c) in HIDDEN and c != "\t"]
    assert "\t" in shown


def test_markdown_cells_take_any_string() -> None:
    for text in HOSTILE:
        for cell in (code(text), escape(text)):
            cell.encode("utf-8")
            assert "\n" not in cell and "\r" not in cell and "\u202e" not in cell
    assert code("\ud83d\ude80") == f"`{ROCKET}`"


# --- GitHub: the runner acts on none of it ----------------------------------------------------


def github_lines(calls: list[tuple[str, str]]) -> list[str]:
    printed: list[str] = []
    reporter = GitHubReporter({}, print_fn=printed.append, secrets=["s3cr3t-token"])
    for method, text in calls:
        if method == "group":
            with reporter.group(text):
                reporter.log(text)
        else:
            getattr(reporter, method)(text)
    return printed


@pytest.mark.parametrize("text", HOSTILE)
def test_github_log_lines_cannot_be_workflow_commands(text: str) -> None:
    printed = github_lines([("log", text), ("log_block", f"{text}\n{text}"), ("group", text)])
    stdout = "\n".join(printed) + "\n"
    stdout.encode("utf-8")
    assert {c.name for c in runner_commands(stdout)} <= {"group", "endgroup"}
    for line in printed:
        assert "\r" not in line and "\n" not in line and "##[" not in line
        if not line.startswith(("::group::", "::endgroup::", "::stop-commands::")):
            assert parse_runner_command(line, RUNNER_COMMANDS) is None


@pytest.mark.parametrize("text", HOSTILE)
def test_github_annotations_carry_hostile_text_as_data_only(text: str) -> None:
    printed = github_lines([("error", text), ("warning", text)])
    stdout = "\n".join(printed) + "\n"
    commands = runner_commands(stdout)
    assert [(c.form, c.name) for c in commands] == [("v2", "error"), ("v2", "warning")]
    assert all("##[" not in c.data for c in commands)


def test_github_legacy_form_is_written_readably() -> None:
    [line] = github_lines([("log", "  ::error::x ##[error]y")])
    assert line == "  \\::error::x ##\\[error]y"


def test_runner_emulation_sees_both_forms() -> None:
    """The emulation is not vacuous: it finds what the runner would act on."""
    stdout = "a ##[error]x\n \t::add-mask::y\n\u00a0::warning::z\nplain\n##[unknown]q\n"
    commands = runner_commands(stdout)
    assert [(c.form, c.name, c.data) for c in commands] == [
        ("legacy", "error", "x"),
        ("v2", "add-mask", "y"),
        ("v2", "warning", "z"),
    ]
    stopped = "::stop-commands::t1\n##[error]x\n::error::y\n##[T1]\n::error::z\n"
    assert [c.data for c in runner_commands(stopped)] == ["z"]


# --- GitLab: no section markers, no erased lines ----------------------------------------------

SECTION = re.compile(r"section_((?:start)|(?:end)):(\d+):([a-zA-Z0-9_.-]+)(\[[^\]]*\])?\r\x1b\[0K")


@pytest.mark.parametrize("text", HOSTILE)
def test_gitlab_log_lines_cannot_open_or_close_sections(text: str, tmp_path: Path) -> None:
    printed: list[str] = []
    reporter = GitLabReporter({}, tmp_path, print_fn=printed.append)
    with reporter.group("Stage moves"):
        reporter.log(text)
        reporter.log_block(text)
        reporter.warning(text)
        reporter.error(text)
    stdout = "\n".join(printed)
    stdout.encode("utf-8")
    assert [m.group(1) for m in SECTION.finditer(stdout)] == ["start", "end"]
    for line in printed[1:-1]:
        assert "\r" not in line
        shown = re.sub(r"\x1b\[(?:31;1|33;1|0)m", "", line)
        assert not [c for c in shown if unicodedata.category(c) in HIDDEN and c != "\t"]


def test_terminal_reporter_prints_any_string(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = Reporter()
    for text in HOSTILE:
        reporter.log(text)
        reporter.warning(text)
        reporter.error(text)
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err and "\r" not in out + err


# --- the action, end to end -------------------------------------------------------------------

CONFIG = (
    "state: {forge_records: false}\n"
    "environments:\n"
    f"  prod: {{stage: prod, deploy: {{driver: command, run: [{sys.executable}, -c, 'pass']}}}}\n"
)
ODD_DESCRIPTIONS = {
    # artifacts.yaml text (a YAML double-quoted scalar) -> the description output
    r'"rocket \ud83d\ude80"': f"rocket {ROCKET}",
    r'"lone \ud83d half"': "lone \ufffd half",
    r'"nul \0 cr \r lf \n ls \u2028 rlo \u202e end"': (
        "nul \ufffd cr \r lf \n ls \u2028 rlo \u202e end"
    ),
}


def odd_origin(tmp: Path, description: str, extra: str = "") -> Origin:
    o = Origin(tmp)
    files = {
        "gitops.yaml": CONFIG,
        "artifacts.yaml": f"churn:\n  type: model\n  path: m.pkl\n  description: {description}\n",
    }
    c1 = o.dev.commit(files=files, epoch=T0)
    o.dev.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    o.dev.tag("churn#prod#1", c1, epoch=T0 + 20)
    o.publish()
    return o


def assert_complete(outputs: dict[str, str], names: list[str]) -> None:
    assert sorted(outputs) == sorted(names)


@pytest.mark.parametrize("description", list(ODD_DESCRIPTIONS))
def test_github_action_writes_odd_descriptions_everywhere(tmp_path: Path, description: str) -> None:
    origin = odd_origin(tmp_path, description)
    tag = "churn#prod#1"
    ws = checkout_like_github(origin, tmp_path / "ws", tag)
    payload = {"ref": f"refs/tags/{tag}", "deleted": False, "head_commit": {"id": origin.dev.rev()}}
    run = run_github(tmp_path, ws, "push", payload, f"refs/tags/{tag}", origin.dev.rev())
    assert run.code == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert_complete(run.outputs, [o.name for o in spec.OUTPUTS])
    assert run.outputs["description"] == ODD_DESCRIPTIONS[description]
    assert json.loads(run.outputs["deployments"])[0]["status"] == "deployed"  # the deploy ran
    assert "## Registry stage moves" in run.summary and "## Deployments" in run.summary
    (tmp_path / "github_output").read_bytes().decode("utf-8")  # valid UTF-8


@pytest.mark.parametrize("description", list(ODD_DESCRIPTIONS))
def test_gitlab_action_writes_odd_descriptions_everywhere(tmp_path: Path, description: str) -> None:
    origin = odd_origin(tmp_path, description)
    ws = checkout_like_gitlab(origin, tmp_path / "ws", "churn#prod#1")
    variables = {"CI_COMMIT_TAG": "churn#prod#1", "CI_PIPELINE_SOURCE": "push"}
    variables["CI_COMMIT_SHA"] = origin.dev.rev()
    run = run_gitlab(tmp_path, ws, variables)
    assert run.code == 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert_complete(run.outputs, [dotenv_name(o.name) for o in spec.OUTPUTS])
    full = json.loads((ws / "gitops.json").read_text(encoding="utf-8"))
    assert full["description"] == ODD_DESCRIPTIONS[description]
    dotenv = run.outputs["GITOPS_DESCRIPTION"]
    assert dotenv == one_line(full["description"], show_invisible=False)
    assert "## Registry stage moves" in run.summary and "## Deployments" in run.summary


def test_a_very_long_description_survives(tmp_path: Path) -> None:
    long = "word " * 40_000  # 200 KB: far over GitLab's 5 KB dotenv report
    origin = odd_origin(tmp_path, json.dumps(long + "\ud83d"))
    ws = checkout_like_gitlab(origin, tmp_path / "ws", "churn#prod#1")
    variables = {"CI_COMMIT_TAG": "churn#prod#1", "CI_PIPELINE_SOURCE": "push"}
    run = run_gitlab(tmp_path, ws, variables)
    assert run.code == 0, run.stdout + run.stderr
    assert "GITOPS_DESCRIPTION" not in run.outputs  # too long: in the JSON file only
    assert json.loads((ws / "gitops.json").read_text())["description"] == long + "\ufffd"


def test_hostile_pr_title_on_github_is_data(tmp_path: Path) -> None:
    origin = odd_origin(tmp_path, "plain")
    ws = checkout_like_github(origin, tmp_path / "ws", None)
    title = " | ".join(HOSTILE)
    payload = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "title": title,
            "head": {"ref": "t"},
            "base": {"ref": "main"},
        },
    }
    run = run_github(tmp_path, ws, "pull_request", payload, "refs/pull/7/merge")
    assert run.code == 0, run.stdout + run.stderr
    assert "pull request #7: Tune ##\\[error]INJECTED" in run.stdout
    assert {c.name for c in runner_commands(run.stdout)} <= OURS
    assert not [c for c in runner_commands(run.stdout) if "INJECTED" in c.data]
    assert_complete(run.outputs, [o.name for o in spec.OUTPUTS])


FAILING_DEPLOY = (
    "import sys; print('deploying'); "
    "print('the receiver said: ##[add-mask]INJECTED ::error::INJECTED'); sys.exit(1)"
)


def test_hostile_deploy_message_on_github_is_data(tmp_path: Path) -> None:
    """A webhook receiver's reply (the last line of a failed deploy) reaches the log through the
    deploy's result: as data of our own ``::error::``, never as a command of its own."""
    o = Origin(tmp_path)
    config = CONFIG.replace("'pass'", json.dumps(FAILING_DEPLOY))
    c1 = o.dev.commit(files={"gitops.yaml": config}, epoch=T0)
    o.dev.tag("churn@v1.0.0", c1, epoch=T0 + 10)
    o.dev.tag("churn#prod#1", c1, epoch=T0 + 20)
    o.publish()
    ws = checkout_like_github(o, tmp_path / "ws", "churn#prod#1")
    payload = {"ref": "refs/tags/churn#prod#1", "head_commit": {"id": o.dev.rev()}}
    run = run_github(tmp_path, ws, "push", payload, "refs/tags/churn#prod#1", o.dev.rev())
    assert run.code == 1, run.stdout + run.stderr
    assert "INJECTED" in run.stdout  # it is shown...
    commands = runner_commands(run.stdout)
    assert {c.name for c in commands} <= OURS  # ...but never acted on
    injected = [c for c in commands if "INJECTED" in c.data]
    assert injected and all(c.name == "error" and c.data.startswith("prod: ") for c in injected)
    assert all(c.form == "v2" for c in commands)


def test_hostile_mr_title_on_gitlab_is_data(tmp_path: Path) -> None:
    origin = odd_origin(tmp_path, "plain")
    ws = checkout_like_gitlab(origin, tmp_path / "ws", "churn#prod#1")
    variables = {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "5",
        # env values are bytes: \udcff is the undecodable byte 0xff, as os.environ reads it
        "CI_MERGE_REQUEST_TITLE": " | ".join(
            h.replace("\x00", "").replace("\ud83d", "") for h in HOSTILE
        ),
        "CI_COMMIT_SHA": origin.dev.rev(),
    }
    run = run_gitlab(tmp_path, ws, variables)
    assert run.code == 0, run.stdout + run.stderr
    assert "merge request !5: Tune ##[error]INJECTED" in run.stdout
    sections = [(m.group(1), m.group(3)) for m in SECTION.finditer(run.stdout)]
    ours = {"fetch_registry_tags", "stage_moves", "deployment_plan"}
    assert sections and {name for _, name in sections} <= ours
    assert [kind for kind, _ in sections].count("start") == len(sections) // 2
    assert "\\x1b[0K" in run.stdout and "\\udcff" not in run.stdout  # shown; the byte as U+FFFD
    assert "\ufffd byte" in run.stdout
