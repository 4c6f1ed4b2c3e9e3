"""``gitops report`` as a user runs it: a real repository with a registry and metrics files,
each way of naming what to compare, each output format, gates and exit codes, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from gitutil import Repo
from test_report_render import check_markdown

T = 1_700_000_000
CONFIG = """\
reports:
  gates:
    acc: {min: 0.7, max_drop: 0.05}
    "*loss": {max: 0.5}
  history: 5
"""


def metrics(acc: float, loss: float, name: str = "acc") -> str:
    return json.dumps({name: acc, "loss": loss, "train": {"seed": 1}})


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """churn v1.0.0 (acc 0.8), v1.1.0 (0.82), v1.2.0 (0.6: a regression); prod held 1.0 then
    1.1; staging holds 1.2."""
    r = Repo(tmp_path / "r")
    for i, (v, acc, loss) in enumerate([("v1.0.0", 0.8, 0.3), ("v1.1.0", 0.82, 0.28),
                                       ("v1.2.0", 0.6, 0.45)]):  # fmt: skip
        files = {"gitops.yaml": CONFIG, "metrics.json": metrics(acc, loss),
                 "params.yaml": f"lr: 0.{i + 1}\n", "model.pkl": v}  # fmt: skip
        r.commit(files=files, epoch=T + i * 100)
        r.tag(f"churn@{v}", epoch=T + i * 100 + 1)
    r.tag("churn#prod#1", ref=r.rev("churn@v1.0.0"), epoch=T + 1000)
    r.tag("churn#prod#2", ref=r.rev("churn@v1.1.0"), epoch=T + 1001)
    r.tag("churn#staging#3", ref=r.rev("churn@v1.2.0"), epoch=T + 1002)
    return r


def gitops(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gitops", "report", "-r", str(repo.path), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_two_refs_as_json(repo: Repo) -> None:
    run = gitops(repo, "--base", "churn@v1.0.0", "--head", "churn@v1.1.0", "--format", "json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["kind"] == "refs"
    assert doc["base"]["sha"] == repo.rev("churn@v1.0.0")
    changes = {c["key"]: c for f in doc["metrics"] for c in f["changes"]}
    assert (changes["acc"]["old"], changes["acc"]["new"]) == (0.8, 0.82)
    assert changes["acc"]["delta"] == 0.02  # not 0.019999999999999907
    assert changes["acc"]["verdict"] == "better" and changes["loss"]["verdict"] == "better"
    assert changes["train.seed"]["verdict"] == "same"


def test_a_version_against_the_one_before_as_markdown(repo: Repo) -> None:
    run = gitops(repo, "churn@v1.1.0", "--format", "md")
    assert run.returncode == 0, run.stderr
    check_markdown(run.stdout)
    assert "churn v1\\.1\\.0 compared with v1\\.0\\.0" in run.stdout
    assert "| `metrics.json` | `acc` | 0.8 | 0.82 | +0.02 |" in run.stdout


def test_a_candidate_against_a_stage_with_its_history(repo: Repo) -> None:
    run = gitops(repo, "churn@v1.2.0", "--stage", "prod", "--format", "json")
    doc = json.loads(run.stdout)
    assert doc["base"]["version"] == "v1.1.0" and doc["head"]["version"] == "v1.2.0"
    points = [(p["version"], p["tag"]) for p in doc["history"]["points"]]
    assert points == [
        ("v1.0.0", "churn#prod#1"),
        ("v1.1.0", "churn#prod#2"),
        ("v1.2.0", "(candidate)"),
    ]
    failed = [g for g in doc["gates"]["results"] if g["status"] == "fail"]
    assert {g["metric"] for g in failed} == {"acc"}  # min 0.7 and max_drop 0.05 both broken
    assert run.returncode == 0  # gates report; they fail the run only when asked
    assert "gate failed: acc" in run.stderr


def test_fail_on_regression_fails_the_exit_code_and_config_can_ask_for_it(repo: Repo) -> None:
    run = gitops(repo, "churn@v1.2.0", "--stage", "prod", "--format", "text",
                 "--fail-on-regression")  # fmt: skip
    assert run.returncode == 1
    assert "gate failed" in run.stderr
    repo.commit(files={"gitops.yaml": CONFIG + "  fail_on_regression: true\n"}, epoch=T + 2000)
    assert gitops(repo, "churn@v1.2.0", "--stage", "prod").returncode == 1
    assert (
        gitops(repo, "churn@v1.2.0", "--stage", "prod", "--no-fail-on-regression").returncode == 0
    )
    assert gitops(repo, "churn@v1.1.0", "--stage", "prod").returncode == 0  # same: gates pass


def test_output_files_hold_the_markdown_and_the_json(repo: Repo, tmp_path: Path) -> None:
    md, js = tmp_path / "out" / "report.md", tmp_path / "out" / "report.json"
    run = gitops(repo, "churn", "--stage", "staging", "--format", "text", "-o", str(md),
                 "--json-output", str(js))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "\x1b[" not in run.stdout  # no colour when stdout is not a terminal
    check_markdown(md.read_text())
    assert json.loads(js.read_text())["kind"] == "stage"


def test_the_text_on_a_terminal_is_a_table(repo: Repo) -> None:
    """With a terminal as stdout (a real pseudo-terminal), the default is coloured text."""
    import os
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "gitops", "report", "-r", str(repo.path),
         "--base", "churn@v1.0.0", "--head", "churn@v1.1.0"],
        stdout=follower, stderr=subprocess.PIPE, timeout=60,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other end is closed and drained
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    out = b"".join(chunks).decode()
    assert proc.returncode == 0, proc.stderr
    assert "|---|" not in out  # not Markdown
    assert "\x1b[" in out  # coloured on a terminal
    [row] = [line for line in out.splitlines() if line.startswith("metrics.json  acc ")]
    assert "0.82" in row and "+0.02" in row and "better" in row


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "what to compare"),
        (("churn",), "give a version"),
        (("--head", "HEAD"), "--head needs --base"),
        (("churn@v1.0.0", "--base", "HEAD"), "not both"),
        (("--base", "nope"), "no commit named 'nope'"),
        (("--base=--upload-pack=x",), "not a revision"),
        (("chrun@v1.0.0",), "chrun"),
        (("churn@v9",), "no version 'v9'"),
    ],
)
def test_usage_errors_are_one_clear_line(repo: Repo, args: tuple[str, ...], message: str) -> None:
    run = gitops(repo, *args)
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_a_bad_reports_setting_names_the_file_and_line(repo: Repo) -> None:
    repo.commit(files={"gitops.yaml": "reports:\n  gates:\n    acc: {max_drop: lots}\n"})
    run = gitops(repo, "--base", "HEAD~1")
    assert run.returncode == 2
    assert "gitops.yaml:3" in run.stderr and "max_drop" in run.stderr
    assert "Traceback" not in run.stderr


def test_missing_and_malformed_files_are_in_the_report_not_dropped(repo: Repo) -> None:
    repo.commit(
        files={"metrics.json": "{not json", "dvc.yaml": "metrics: [metrics.json, gone.json]\n"}
    )
    run = gitops(repo, "--base", "HEAD~1", "--format", "json")
    assert run.returncode == 0, run.stderr
    files = {f["path"]: f for f in json.loads(run.stdout)["metrics"]}
    assert files["metrics.json"]["new_status"] == "malformed"
    assert "invalid JSON" in files["metrics.json"]["new_error"]
    assert files["gone.json"]["new_status"] == "missing"


def test_plots_are_drawn_old_against_new(repo: Repo) -> None:
    """A dvc.yaml plot (CSV, x and y named) at two revisions: one Mermaid chart of both, with
    the points downsampled to plot_points and a table fallback after it."""
    rows = "\n".join(f"{s},{1 / (s + 1):.4f},{1.2 / (s + 1):.4f}" for s in range(200))
    dvc = "plots:\n  - plots/loss.csv: {x: step, y: [train, val], title: Loss}\n"
    cfg = CONFIG + "  plot_points: 20\n"
    repo.commit(files={"dvc.yaml": dvc, "plots/loss.csv": "step,train,val\n" + rows,
                       "gitops.yaml": cfg, "metrics.json": metrics(0.8, 0.3)})  # fmt: skip
    better = "\n".join(f"{s},{0.8 / (s + 1):.4f},{1.0 / (s + 1):.4f}" for s in range(200))
    repo.commit(files={"plots/loss.csv": "step,train,val\n" + better})
    run = gitops(repo, "--base", "HEAD~1", "--format", "json")
    [plot] = json.loads(run.stdout)["plots"]
    assert plot["path"] == "plots/loss.csv" and plot["series"] == ["train", "val"]
    assert 2 < len(plot["new"]) <= 20 and plot["new"][0][0] == 0 and plot["new"][-1][0] == 199
    md = gitops(repo, "--base", "HEAD~1", "--format", "md").stdout
    check_markdown(md)
    assert "```mermaid" in md and "Loss" in md


def test_a_repository_template_replaces_ours(repo: Repo) -> None:
    template = (
        "# {{ report.title }}\n"
        "{% for f in report.metrics.files %}{% for c in f.changes %}"
        "- {{ c.key }}: {{ c.old }} -> {{ c.new }}\n{% endfor %}{% endfor %}"
    )
    repo.commit(files={".gitops/report.md.j2": template,
                       "gitops.yaml": CONFIG + "  template: .gitops/report.md.j2\n"})  # fmt: skip
    run = gitops(repo, "churn@v1.1.0", "--format", "md")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("# churn v1\\.1\\.0 compared with v1\\.0\\.0\n")
    assert "- acc: 0.8 -> 0.82\n" in run.stdout
    repo.commit(files={".gitops/report.md.j2": "{{ report.nope }}"})
    run = gitops(repo, "churn@v1.1.0", "--format", "md")
    assert run.returncode == 2 and "template" in run.stderr and "Traceback" not in run.stderr


def test_without_a_gitops_yaml_the_report_imports_no_pydantic(tmp_path: Path) -> None:
    """pydantic costs a fifth of a 10,000-metric report (benchmarks/report.py): it is only
    imported where a gitops.yaml is read."""
    r = Repo(tmp_path / "plain")
    r.commit(files={"metrics.json": metrics(0.8, 0.3)})
    r.commit(files={"metrics.json": metrics(0.9, 0.2)})
    probe = (
        "import sys, io, contextlib\n"
        "from gitops.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = main(['report', '-r', {str(r.path)!r}, '--base', 'HEAD~1', '--format=md'])\n"
        "assert code == 0 and '0.9' in out.getvalue(), out.getvalue()\n"
        "print('pydantic' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
