"""Stage and artifact names in gitops.yaml are checked against the registry (real repos): a typo
is an error with file and line, never an empty desired state that prune turns into a removal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deploy_fixtures import T0, command_env, gitops, read_log, registry_repo
from gitutil import Repo

from gitops.config import load_config
from gitops.deploy.names import check_names
from gitops.registry.reader import load_registry
from gitops.yamlfile import YamlFileError

PROD = "environments:\n  prod:\n    stage: {stage}\n    prune: true\n"


def setup(tmp_path: Path, text: str, gto: str | None = None) -> Repo:
    """The fixture registry (churn, fraud, features; stages staging and prod) with ``text`` as
    its gitops.yaml (and ``gto`` as its .gto) in the work tree."""
    repo = registry_repo(tmp_path / "r", {"environments": {}}, scripts=False)
    (repo.path / "gitops.yaml").write_text(text)
    if gto is not None:
        (repo.path / ".gto").write_text(gto)
    return repo


def check(repo: Repo, allow: bool = False) -> list[str]:
    config = load_config(repo.path)
    assert config is not None
    return [str(w) for w in check_names(config, load_registry(repo.path), allow)]


def error(repo: Repo, allow: bool = False) -> YamlFileError:
    with pytest.raises(YamlFileError) as info:
        check(repo, allow)
    return info.value


def test_known_names_pass_silently(tmp_path: Path) -> None:
    text = "environments:\n  prod:\n    stage: prod\n    artifacts: [churn, fraud, features]\n"
    assert check(setup(tmp_path, text)) == []


def test_a_stage_no_tag_has_used_is_an_error_with_its_line(tmp_path: Path) -> None:
    err = error(setup(tmp_path, PROD.format(stage="prdo")))
    assert (err.file, err.line) == ("gitops.yaml", 3)
    assert err.detail == "environments.prod.stage: no tag has ever used stage 'prdo'"
    assert err.hint.startswith("did you mean 'prod'?")
    assert "allow_unknown_stage: true" in err.hint


def test_a_stage_gto_does_not_allow_is_an_error_even_when_unknown_stages_are_allowed(
    tmp_path: Path,
) -> None:
    text = "environments:\n  prod:\n    stage: prdo\n    allow_unknown_stage: true\n"
    repo = setup(tmp_path, text, gto="stages: [dev, staging, prod]\n")
    err = error(repo, allow=True)
    assert (err.file, err.line) == ("gitops.yaml", 3)
    assert "stage 'prdo' is not one .gto allows (dev, staging, prod)" in err.detail
    assert err.hint == "did you mean 'prod'?"


def test_a_stage_gto_allows_passes_before_any_tag_uses_it(tmp_path: Path) -> None:
    repo = setup(tmp_path, PROD.format(stage="dev"), gto="stages: [dev, staging, prod]\n")
    assert check(repo) == []


def test_an_unused_stage_allowed_on_purpose_warns_on_every_run(tmp_path: Path) -> None:
    text = "environments:\n  canary:\n    stage: canary\n    allow_unknown_stage: true\n"
    repo = setup(tmp_path, text)
    expected = (
        "gitops.yaml:3: environments.canary.stage: no tag has ever used stage 'canary' "
        "(allowed by allow_unknown_stage)"
    )
    assert check(repo) == [expected]
    for _ in range(2):
        proc = gitops(repo.path, "plan")
        assert proc.returncode == 0, proc.stderr
        assert f"warning: {expected}" in proc.stderr
    # the stage's escape hatch lets no artifact typo through
    (repo.path / "gitops.yaml").write_text(text + "    artifacts: [chrun]\n")
    err = error(repo)
    assert (err.line, err.hint) == (5, "did you mean 'churn'?")


def test_the_cli_flag_allows_an_unused_stage_with_a_warning(tmp_path: Path) -> None:
    repo = setup(tmp_path, PROD.format(stage="canary"))
    assert "canary" in error(repo).detail
    assert check(repo, allow=True) == [
        "gitops.yaml:3: environments.prod.stage: no tag has ever used stage 'canary' "
        "(allowed by --allow-unknown-stage)"
    ]
    proc = gitops(repo.path, "plan", "--allow-unknown-stage")
    assert proc.returncode == 0, proc.stderr
    assert "warning: gitops.yaml:3: environments.prod.stage" in proc.stderr


def test_a_stage_used_only_by_an_old_unassigned_tag_counts_as_used(tmp_path: Path) -> None:
    repo = setup(tmp_path, PROD.format(stage="qa"))
    assert "'qa'" in error(repo).detail
    churn = repo.rev("churn@v1.0.0")
    repo.tag("churn#qa#3", churn, epoch=T0 + 500)
    repo.tag("churn#qa!#4", churn, epoch=T0 + 600)
    assert check(repo) == []
    repo.delete_tag("churn#qa#3")  # the unassignment alone still says the stage was used
    assert check(repo) == []


def test_an_unknown_artifact_is_an_error_at_its_list_item_with_a_suggestion(
    tmp_path: Path,
) -> None:
    text = "environments:\n  prod:\n    stage: prod\n    artifacts:\n      - fraud\n      - chrun\n"
    err = error(setup(tmp_path, text))
    assert (err.file, err.line) == ("gitops.yaml", 6)
    assert err.detail == (
        "environments.prod.artifacts.1: unknown artifact 'chrun': "
        "no tag, artifacts.yaml or dvc.yaml declares it"
    )
    assert err.hint == "did you mean 'churn'?"


def test_artifacts_declared_without_tags_or_in_conflict_are_known(tmp_path: Path) -> None:
    text = PROD.format(stage="prod") + "    artifacts: [churn, newmodel, dvcmodel, fraud]\n"
    repo = setup(tmp_path, text)
    assert "'newmodel'" in error(repo).detail
    annotations = (repo.path / "artifacts.yaml").read_text() + "newmodel: {type: model}\n"
    repo.commit(files={"artifacts.yaml": annotations}, epoch=T0 + 700)  # at HEAD, no tag
    assert "'dvcmodel'" in error(repo).detail
    (repo.path / "dvc.yaml").write_text(
        "artifacts:\n  dvcmodel:\n    path: m.pkl\n    type: model\n"
    )
    assert check(repo) == []
    # two versions on one commit: fraud is in conflict, still a name the registry knows
    repo.tag("fraud@v0.2.0", repo.rev("fraud@v0.1.0"), epoch=T0 + 800)
    assert "fraud" in load_registry(repo.path).state.conflicts
    assert check(repo) == []


@pytest.mark.parametrize("command", ["plan", "apply", "reconcile"])
def test_a_typo_fails_the_deploy_commands_and_removes_nothing(tmp_path: Path, command: str) -> None:
    log = tmp_path / "log"
    good = {"environments": {"prod": {"stage": "prod", "prune": True, "deploy": command_env(log)}}}
    repo = registry_repo(tmp_path / "r", good)
    assert gitops(repo.path, "apply").returncode == 0
    deployed = read_log(log)
    assert {c["GITOPS_ARTIFACT"] for c in deployed} == {"churn", "fraud"}
    state_file = repo.path / ".gitops/state/prod.json"
    state = json.loads(state_file.read_text())

    text = (repo.path / "gitops.yaml").read_text()
    (repo.path / "gitops.yaml").write_text(text.replace("stage: prod", "stage: prdo"))
    line = text.splitlines().index("    stage: prod") + 1
    proc = gitops(repo.path, command)
    assert proc.returncode == 2
    assert f"gitops.yaml:{line}: environments.prod.stage: no tag has ever used stage" in proc.stderr
    assert "did you mean 'prod'?" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert read_log(log) == deployed  # no `remove` ran
    assert json.loads(state_file.read_text()) == state

    (repo.path / "gitops.yaml").write_text(
        text.replace("stage: prod", "stage: prod\n    artifacts: [chrun]")
    )
    proc = gitops(repo.path, command, "--allow-unknown-stage")  # the flag is for stages only
    assert proc.returncode == 2
    assert f"gitops.yaml:{line + 1}: environments.prod.artifacts.0: unknown artifact" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert read_log(log) == deployed
