"""Writing registry tags through our CLI (shared/reference/gto.md §1.2, §2.4, §2.5).

Each test writes with ``gitops register|assign|deprecate`` on a real repository and checks the
exact tag names, messages and refusals; GTO 1.10.1 then reads what we wrote and must see the same
registry. ``--push`` goes to a real bare repository added as ``origin``.

Tag dates are pinned per write (``GIT_COMMITTER_DATE``): two writes in one second would tie, and
ties have rules of their own (tested in test_state_rules.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gto.api
import pytest
from click.testing import CliRunner
from gitutil import BASE_ENV, Repo, git, git_date
from gto.cli import app as gto_app
from gto.constants import Action
from gto.exceptions import GTOException
from gto.tag import name_tag
from scmrepo.git import Git

from gitops import cli

T0 = 1_700_000_000
GITOPS = str(Path(sys.executable).parent / "gitops")  # the installed entry point


@dataclass
class Written:
    code: int
    out: str
    err: str
    created: list[str]  # tags that did not exist before, sorted


def tags(repo: Repo) -> list[str]:
    return sorted(git(repo.path, "tag", "-l").splitlines())


@contextlib.contextmanager
def dated(epoch: int) -> Iterator[None]:
    """Tags written inside get this tagger date (git takes it from GIT_COMMITTER_DATE)."""
    saved = os.environ.get("GIT_COMMITTER_DATE")
    os.environ["GIT_COMMITTER_DATE"] = git_date(epoch)
    try:
        yield
    finally:
        if saved is None:
            del os.environ["GIT_COMMITTER_DATE"]
        else:
            os.environ["GIT_COMMITTER_DATE"] = saved


class Gitops:
    """``gitops COMMAND -r REPO ARGS`` in-process; every call is dated one minute after the last."""

    def __init__(self, repo: Repo) -> None:
        self.repo = repo
        self.minute = 0

    def __call__(self, *args: str) -> Written:
        self.minute += 1
        before = set(tags(self.repo))
        out, err = io.StringIO(), io.StringIO()
        with dated(T0 + 60 * self.minute):
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = cli.main([args[0], "-r", str(self.repo.path), *args[1:]])
        created = sorted(set(tags(self.repo)) - before)
        return Written(code, out.getvalue(), err.getvalue(), created)

    def ok(self, *args: str) -> list[str]:
        """Run a write that must succeed; the tags it created."""
        result = self(*args)
        assert result.code == 0, result.err
        return result.created

    def refused(self, *args: str) -> str:
        """Run a write that must be refused (exit 2, no tag, no traceback); its message."""
        result = self(*args)
        assert (result.code, result.created) == (2, []), result
        assert result.err.startswith("error: ") and "Traceback" not in result.err
        return result.err

    def json(self, *args: str) -> Any:
        result = self(*args, "--json")
        assert result.code == 0, result.err
        return json.loads(result.out) if result.out else None


@pytest.fixture
def gitops(repo: Repo) -> Gitops:
    return Gitops(repo)


def message(repo: Repo, tag: str) -> str:
    return git(repo.path, "for-each-ref", f"refs/tags/{tag}", "--format=%(contents)")


def target(repo: Repo, tag: str) -> str:
    return repo.rev(f"refs/tags/{tag}")


def gto_says(repo: Repo, *args: str) -> str:
    result = CliRunner().invoke(gto_app, [*args, "--json", "-r", str(repo.path)])
    assert result.exit_code == 0, result.output
    return result.stdout


def assert_gto_reads_the_same(gitops: Gitops, *args: str) -> None:
    result = gitops(*args, "--json")
    assert result.code == 0, result.err
    assert gto_says(gitops.repo, *args) == result.out


# -- the reference scenario of gto.md §2.5, step by step ------------------------------------


def test_reference_scenario(repo: Repo, gitops: Gitops) -> None:
    """Steps 1-14 of gto.md §2.5: the tag each command writes and the state it leaves."""
    c1 = repo.commit(epoch=T0)
    c2 = repo.commit(epoch=T0 + 1)
    write = gitops.ok

    def show(*args: str) -> Any:
        return gitops.json("show", *args)

    def stages_by_version(*args: str) -> dict[str, list[str]]:
        return {v["version"]: sorted(s["stage"] for s in v["stages"]) for v in show(*args)}

    # 1-2. register HEAD~1, then HEAD with a minor bump
    assert write("register", "churn", "HEAD~1") == ["churn@v0.0.1"]
    assert write("register", "churn", "--bump-minor") == ["churn@v0.1.0"]
    assert (target(repo, "churn@v0.0.1"), target(repo, "churn@v0.1.0")) == (c1, c2)
    assert show()["churn"]["version"] == "v0.1.0"
    # 3. v0.0.1 to prod
    assert write("assign", "churn", "--version", "v0.0.1", "--stage", "prod") == ["churn#prod#1"]
    assert show()["churn"]["stage"] == {"prod": "v0.0.1"}
    # 4-5. v0.1.0 to staging, then to prod (`gitops promote` opens a PR now: `assign` tags)
    assert write("assign", "churn", "--version", "v0.1.0", "--stage", "staging") == [
        "churn#staging#2"
    ]
    assert write("assign", "churn", "--version", "v0.1.0", "--stage", "prod") == ["churn#prod#3"]
    assert show()["churn"]["stage"] == {"prod": "v0.1.0", "staging": "v0.1.0"}
    assert stages_by_version("churn") == {"v0.1.0": ["prod", "staging"], "v0.0.1": []}
    assert stages_by_version("churn", "--vs", "-1") == {
        "v0.1.0": ["prod", "staging"],
        "v0.0.1": ["prod"],
    }
    # 6-7. v0.0.1 is still in prod: refused, unless forced (a rollback)
    err = gitops.refused("assign", "churn", "--version", "v0.0.1", "--stage", "prod")
    assert "already in stage 'prod'" in err and "--force" in err
    forced = write("assign", "churn", "--version", "v0.0.1", "--stage", "prod", "--force")
    assert forced == ["churn#prod#4"]
    assert show()["churn"]["stage"]["prod"] == "v0.0.1"
    assert show("--sort", "semver")["churn"]["stage"]["prod"] == "v0.1.0"
    # 8. unassign v0.0.1 from prod: prod falls back to v0.1.0
    assert write("deprecate", "churn", "v0.0.1", "prod") == ["churn#prod!#5"]
    assert show()["churn"]["stage"] == {"prod": "v0.1.0", "staging": "v0.1.0"}
    # 9. deregister v0.1.0: its stages vanish
    assert write("deprecate", "churn", "v0.1.0") == ["churn@v0.1.0!"]
    assert show()["churn"] == {
        "version": "v0.0.1",
        "stage": {},
        "registered": True,
        "active": True,
    }
    # 10-11. deprecate the artifact; a second time is refused
    assert write("deprecate", "churn") == ["churn@deprecated"]
    assert show() == {}
    assert show("-d")["churn"]["active"] is False
    assert "deprecated already" in gitops.refused("deprecate", "churn")
    # 12. a new registration reactivates it (the deregistered v0.1.0 is skipped by the bump)
    repo.commit(epoch=T0 + 2)
    assert write("register", "churn") == ["churn@v0.0.2"]
    assert show()["churn"]["active"] is True
    # 13. assigning an unregistered commit registers it first
    repo.commit(epoch=T0 + 3)
    assert write("assign", "churn", "HEAD", "--stage", "dev") == ["churn#dev#6", "churn@v0.0.3"]
    # 14. a namespaced artifact
    assert write("register", "models/churn:Clf_A") == ["models/churn=Clf_A@v0.0.1"]

    for query in (["show", "-d"], ["show", "churn", "-d"], ["history"]):
        assert_gto_reads_the_same(gitops, *query)


# -- register ----------------------------------------------------------------------------------


def test_register_writes_v0_0_1_with_gtos_message_and_a_push_hint(
    repo: Repo, gitops: Gitops
) -> None:
    commit = repo.commit()
    result = gitops("register", "churn")
    assert (result.code, result.created) == (0, ["churn@v0.0.1"])
    assert message(repo, "churn@v0.0.1") == "Registering artifact churn version v0.0.1"
    assert target(repo, "churn@v0.0.1") == commit
    assert result.out.splitlines() == [
        "Created git tag 'churn@v0.0.1' that registers version",
        "To push the changes upstream, run:",
        "    git push origin churn@v0.0.1",
    ]


def test_written_tags_are_annotated_and_tagged_by_the_git_identity(
    repo: Repo, gitops: Gitops
) -> None:
    repo.commit()
    gitops.ok("register", "churn")
    assert git(repo.path, "cat-file", "-t", "refs/tags/churn@v0.0.1") == "tag"
    tagger = git(repo.path, "for-each-ref", "refs/tags/churn@v0.0.1", "--format=%(taggername)")
    assert tagger == "Test User"


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ([], "churn@v1.2.4"),
        (["--bump-patch"], "churn@v1.2.4"),
        (["--bump-minor"], "churn@v1.3.0"),
        (["--bump-major"], "churn@v2.0.0"),
        (["--version", "v5.0.0-rc.1"], "churn@v5.0.0-rc.1"),
    ],
)
def test_register_bumps_the_latest_version(
    repo: Repo, gitops: Gitops, option: list[str], expected: str
) -> None:
    repo.commit()
    gitops.ok("register", "churn", "--version", "v1.2.3")
    repo.commit()
    assert gitops.ok("register", "churn", *option) == [expected]


def test_register_bump_skips_deregistered_versions(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    gitops.ok("register", "churn")
    repo.commit()
    gitops.ok("register", "churn", "--bump-minor")
    gitops.ok("deprecate", "churn", "v0.1.0")
    repo.commit()
    assert gitops.ok("register", "churn") == ["churn@v0.0.2"]


def test_register_bump_of_the_first_version_is_refused(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    assert "first version" in gitops.refused("register", "churn", "--bump-minor")
    with pytest.raises(GTOException, match="first version"):
        gto.api.register(str(repo.path), "churn", "HEAD", bump_minor=True)


def test_register_refuses_a_commit_with_an_active_version(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    gitops.ok("register", "churn")
    err = gitops.refused("register", "churn", "--version", "v1.0.0")
    assert "already registered on this commit as v0.0.1" in err
    with pytest.raises(GTOException):
        gto.api.register(str(repo.path), "churn", "HEAD", version="v1.0.0")


def test_register_refuses_a_version_name_in_use(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    gitops.ok("register", "churn", "--version", "v1.0.0")
    repo.commit()
    assert "already registered" in gitops.refused("register", "churn", "--version", "v1.0.0")


@pytest.mark.parametrize("version", ["1.0.0", "v1.0", "V1.0.0", "v01.0.0", "latest"])
def test_register_refuses_an_invalid_version(repo: Repo, gitops: Gitops, version: str) -> None:
    repo.commit()
    err = gitops.refused("register", "churn", "--version", version)
    assert repr(version) in err and "v1.0.0" in err


def test_register_a_namespaced_artifact_writes_dir_equals_name(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    assert gitops.ok("register", "models/churn:Clf_A") == ["models/churn=Clf_A@v0.0.1"]
    assert list(gitops.json("show")) == ["models/churn:Clf_A"]


def test_re_registering_a_deregistered_version_writes_the_counter_form(
    repo: Repo, gitops: Gitops
) -> None:
    """GTO fails on the taken simple name; we write ``churn@v0.1.0#N``, which GTO reads."""
    repo.commit()
    gitops.ok("register", "churn", "--version", "v0.1.0")
    gitops.ok("assign", "churn", "--version", "v0.1.0", "--stage", "prod")
    gitops.ok("deprecate", "churn", "v0.1.0")
    assert gitops.json("show")["churn"]["stage"] == {}
    assert gitops.ok("register", "churn", "--version", "v0.1.0") == ["churn@v0.1.0#2"]
    assert gitops.json("show")["churn"]["stage"] == {"prod": "v0.1.0"}  # resurrected
    assert_gto_reads_the_same(gitops, "show")


# -- assign ------------------------------------------------------------------------------------


def test_assign_counter_is_one_more_than_any_counter_of_the_artifact(
    repo: Repo, gitops: Gitops
) -> None:
    """Every tag name of the artifact counts (any event, lightweight, ``@created``); others not."""
    repo.commit()
    repo.tag("churn@v1.0.0#7")
    repo.tag("churn#qa#12", annotated=False)
    repo.tag("churn@created#20")
    repo.tag("other#prod#99")
    expected = name_tag(Action.ASSIGN, "churn", stage="prod", scm=Git(str(repo.path)))
    assert expected == "churn#prod#21"  # what GTO would write
    assert gitops.ok("assign", "churn", "--version", "v1.0.0", "--stage", "prod") == [expected]


def test_assign_registers_an_unregistered_commit_first(repo: Repo, gitops: Gitops) -> None:
    commit = repo.commit()
    result = gitops("assign", "churn", "--stage", "prod")
    assert (result.code, result.created) == (0, ["churn#prod#1", "churn@v0.0.1"])
    assert result.out.splitlines() == [  # GTO's words, a push hint per tag
        "Created git tag 'churn@v0.0.1' that registers version",
        "To push the changes upstream, run:",
        "    git push origin churn@v0.0.1",
        "Created git tag 'churn#prod#1' that assigns stage to version 'v0.0.1'",
        "To push the changes upstream, run:",
        "    git push origin 'churn#prod#1'",
    ]
    assert target(repo, "churn#prod#1") == commit
    assert message(repo, "churn#prod#1") == "Assigning stage prod to artifact churn version v0.0.1"


def test_assign_with_ref_and_version_names_the_new_version(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    created = gitops.ok("assign", "churn", "HEAD", "--version", "v2.0.0", "--stage", "prod")
    assert created == ["churn#prod#1", "churn@v2.0.0"]
    assert gitops.json("show")["churn"]["stage"] == {"prod": "v2.0.0"}


def test_assign_skip_registration_assigns_the_bare_commit(repo: Repo, gitops: Gitops) -> None:
    commit = repo.commit()
    assert gitops.ok("assign", "churn", "--stage", "prod", "--sr") == ["churn#prod#1"]
    assert message(repo, "churn#prod#1") == (
        f"Assigning stage prod to artifact churn version {commit}"
    )
    assert gitops.json("show")["churn"]["stage"] == {"prod": commit}
    assert_gto_reads_the_same(gitops, "show", "churn")


def test_assign_refuses_a_version_already_in_the_stage_unless_forced(
    repo: Repo, gitops: Gitops
) -> None:
    repo.commit()
    gitops.ok("assign", "churn", "--stage", "prod")
    err = gitops.refused("assign", "churn", "--version", "v0.0.1", "--stage", "prod")
    assert "v0.0.1 is already in stage 'prod'" in err
    with pytest.raises(GTOException, match="already in stage"):
        gto.api.assign(str(repo.path), "churn", "prod", version="v0.0.1")
    forced = gitops.ok("assign", "churn", "--version", "v0.0.1", "--stage", "prod", "--force")
    assert forced == ["churn#prod#2"]


def test_assign_refuses_an_unregistered_version(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    err = gitops.refused("assign", "churn", "--version", "v9.0.0", "--stage", "prod")
    assert "v9.0.0" in err and "not registered" in err


# -- unassign, deregister, deprecate -----------------------------------------------------------


def test_unassign_writes_a_cancel_tag_and_the_stage_falls_back(repo: Repo, gitops: Gitops) -> None:
    c1 = repo.commit()
    gitops.ok("assign", "churn", "--stage", "prod")
    repo.commit()
    gitops.ok("assign", "churn", "--stage", "prod")
    assert gitops.ok("deprecate", "churn", "v0.0.2", "prod") == ["churn#prod!#3"]
    assert message(repo, "churn#prod!#3") == (
        "Unassigning stage 'prod' to artifact 'churn' version 'v0.0.2'"
    )
    assert gitops.json("show")["churn"]["stage"] == {"prod": "v0.0.1"}
    assert target(repo, "churn@v0.0.1") == c1


def test_unassign_refuses_a_stage_the_version_does_not_hold_unless_forced(
    repo: Repo, gitops: Gitops
) -> None:
    """Stricter than GTO, on purpose (README): the version must hold the stage now."""
    repo.commit()
    gitops.ok("assign", "churn", "--stage", "prod")
    gitops.ok("deprecate", "churn", "v0.0.1", "prod")
    err = gitops.refused("deprecate", "churn", "v0.0.1", "prod")
    assert "'prod' is not assigned to version v0.0.1" in err
    assert gitops.ok("deprecate", "churn", "v0.0.1", "prod", "--force") == ["churn#prod!#3"]


def test_deregister_writes_the_simple_cancel_tag(repo: Repo, gitops: Gitops) -> None:
    commit = repo.commit()
    gitops.ok("register", "churn", "--version", "v0.1.0")
    assert gitops.ok("deprecate", "churn", "v0.1.0") == ["churn@v0.1.0!"]
    assert message(repo, "churn@v0.1.0!") == "Deregistering artifact churn version v0.1.0"
    assert target(repo, "churn@v0.1.0!") == commit
    assert "deregistered already" in gitops.refused("deprecate", "churn", "v0.1.0")
    assert "not registered" in gitops.refused("deprecate", "churn", "v0.2.0")


def test_deprecate_tags_the_commit_of_the_latest_event(repo: Repo, gitops: Gitops) -> None:
    c1 = repo.commit()
    gitops.ok("register", "churn")
    repo.commit()  # HEAD moves on; the deprecation stays on the artifact's commit
    assert gitops.ok("deprecate", "churn") == ["churn@deprecated"]
    assert target(repo, "churn@deprecated") == c1
    assert message(repo, "churn@deprecated") == "Deprecating artifact 'churn'"


def test_deprecate_refuses_an_unknown_artifact(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    assert "'ghost' is not in the registry" in gitops.refused("deprecate", "ghost")


def test_deprecate_twice_is_refused_unless_forced(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    gitops.ok("register", "churn")
    gitops.ok("deprecate", "churn")
    assert "deprecated already" in gitops.refused("deprecate", "churn")
    with pytest.raises(GTOException, match="deprecated already"):
        gto.api.deprecate(str(repo.path), "churn")
    assert gitops.ok("deprecate", "churn", "--force") == ["churn@deprecated#1"]


def test_deprecating_again_after_reactivation_writes_the_counter_form(
    repo: Repo, gitops: Gitops
) -> None:
    repo.commit()
    gitops.ok("register", "churn")
    gitops.ok("deprecate", "churn")
    repo.commit()
    gitops.ok("register", "churn")
    assert gitops.json("show")["churn"]["active"] is True
    assert gitops.ok("deprecate", "churn") == ["churn@deprecated#1"]
    assert gitops.json("show") == {}
    assert_gto_reads_the_same(gitops, "show", "-d")


def test_custom_message(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    gitops.ok("register", "churn", "-m", "Trained on the March data")
    assert message(repo, "churn@v0.0.1") == "Trained on the March data"


# -- .gto and annotations enforced on write ----------------------------------------------------


def test_gto_stages_are_enforced(repo: Repo, gitops: Gitops) -> None:
    (repo.path / ".gto").write_text("stages: [dev, prod]\n")
    repo.commit()
    gitops.ok("register", "churn")
    err = gitops.refused("assign", "churn", "--version", "v0.0.1", "--stage", "qa")
    assert "'qa'" in err and "dev, prod" in err
    with pytest.raises(GTOException):
        gto.api.assign(str(repo.path), "churn", "qa", version="v0.0.1")
    assert gitops.ok("assign", "churn", "--version", "v0.0.1", "--stage", "prod") == [
        "churn#prod#1"
    ]


def test_gto_types_are_enforced_with_the_artifacts_yaml_type(repo: Repo, gitops: Gitops) -> None:
    (repo.path / ".gto").write_text("types: [model]\n")
    repo.commit(files={"artifacts.yaml": "churn:\n  type: dataset\nrf:\n  type: model\n"})
    err = gitops.refused("register", "churn")
    assert "'dataset'" in err and "model" in err
    assert gitops.ok("register", "rf") == ["rf@v0.0.1"]


def test_gto_types_are_enforced_with_a_dvc_yaml_type(repo: Repo, gitops: Gitops) -> None:
    (repo.path / ".gto").write_text("types: [model]\n")
    repo.commit(files={"models/dvc.yaml": "artifacts:\n  net:\n    path: n.pt\n    type: data\n"})
    assert "'data'" in gitops.refused("register", "models:net")
    (repo.path / "models" / "dvc.yaml").write_text(
        "artifacts:\n  net:\n    path: n.pt\n    type: model\n"
    )
    assert gitops.ok("register", "models:net") == ["models=net@v0.0.1"]


@pytest.mark.parametrize("name", ["my.model", "-churn", "churn-", "a b", "churn#1", "x@y", "a:b:c"])
def test_invalid_artifact_names_are_refused(repo: Repo, gitops: Gitops, name: str) -> None:
    repo.commit()
    assert "invalid artifact name" in gitops.refused("register", "--", name)


@pytest.mark.parametrize("stage", ["prod_", "-prod", "prod!", "pr od", "prod#1"])
def test_invalid_stage_names_are_refused(repo: Repo, gitops: Gitops, stage: str) -> None:
    repo.commit()
    gitops.ok("register", "churn")
    assert "invalid stage name" in gitops.refused(
        "assign", "churn", "--version", "v0.0.1", f"--stage={stage}"
    )


# -- --push to a real remote -------------------------------------------------------------------


@pytest.fixture
def origin(repo: Repo, tmp_path: Path) -> Path:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo.path, "remote", "add", "origin", str(bare))
    return bare


def run_gitops(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **BASE_ENV, "GIT_COMMITTER_DATE": git_date(T0)}
    return subprocess.run(
        [GITOPS, *args, "-r", str(repo.path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def remote_tags(bare: Path) -> list[str]:
    return sorted(git(bare, "tag", "-l").splitlines())


def test_push_sends_the_new_tags_to_origin(repo: Repo, origin: Path) -> None:
    commit = repo.commit()
    result = run_gitops(repo, "assign", "churn", "--stage", "prod", "--push")
    assert result.returncode == 0, result.stderr
    assert remote_tags(origin) == ["churn#prod#1", "churn@v0.0.1"]
    assert git(origin, "rev-parse", "churn#prod#1^{commit}") == commit
    assert git(origin, "cat-file", "-t", "refs/tags/churn#prod#1") == "tag"
    assert "Running `git push origin churn#prod#1`" in result.stdout
    assert "Successfully pushed git tag churn#prod#1 on remote." in result.stdout
    assert "To push the changes upstream" not in result.stdout  # no hint when pushed


def test_push_to_a_named_remote(repo: Repo, tmp_path: Path) -> None:
    bare = tmp_path / "mirror.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(repo.path, "remote", "add", "mirror", str(bare))
    repo.commit()
    result = run_gitops(repo, "register", "churn", "--push", "--remote", "mirror")
    assert result.returncode == 0, result.stderr
    assert remote_tags(bare) == ["churn@v0.0.1"]


def test_push_failure_is_a_clear_error(repo: Repo) -> None:
    """No remote: exit 1 with git's reason; the tag stays local (nothing is rolled back)."""
    repo.commit()
    result = run_gitops(repo, "register", "churn", "--push")
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach origin to push")
    assert "does not appear to be a git repository" in result.stderr  # git's reason
    assert "Traceback" not in result.stderr
    assert tags(repo) == ["churn@v0.0.1"]


# -- GTO reads what we wrote -------------------------------------------------------------------


def test_gto_reads_our_tags_exactly_as_we_do(repo: Repo, gitops: Gitops) -> None:
    repo.commit()
    gitops.ok("register", "churn")
    gitops.ok("assign", "churn", "--version", "v0.0.1", "--stage", "staging")
    repo.commit()
    gitops.ok("assign", "churn", "--stage", "staging")
    gitops.ok("assign", "churn", "--stage", "prod")
    gitops.ok("deprecate", "churn", "v0.0.2", "staging")
    gitops.ok("register", "dir/sub:clf", "--version", "v3.0.0")
    gitops.ok("assign", "dir/sub:clf", "--version", "v3.0.0", "--stage", "prod")
    for query in (
        ["show"],
        ["show", "churn"],
        ["show", "dir/sub:clf"],
        ["history"],
        ["check-ref", "churn#staging!#4"],
        ["check-ref", "dir/sub=clf#prod#1"],
    ):
        assert_gto_reads_the_same(gitops, *query)
    assert gitops.json("show")["churn"]["stage"] == {"prod": "v0.0.2", "staging": "v0.0.1"}


def test_assign_signs_the_stage_tag_when_a_key_is_configured(repo: Repo, tmp_path: Path) -> None:
    """GITOPS_SIGNING_KEY (an SSH key's text, as a CI secret holds it): the stage tag is signed
    and verifies against allowed signers; the registration tag made on the way stays plain."""
    key = tmp_path / "k"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True,
                   timeout=60)  # fmt: skip
    repo.commit()
    env = {**os.environ, **BASE_ENV, "GITOPS_SIGNING_KEY": key.read_text()}
    result = subprocess.run([GITOPS, "assign", "churn", "--stage", "prod", "-r", str(repo.path)],
                            capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    signers = tmp_path / "allowed"
    signers.write_text(f"* {(tmp_path / 'k.pub').read_text()}")
    argv = ["git", "-C", str(repo.path), "-c", f"gpg.ssh.allowedSignersFile={signers}"]
    verify = subprocess.run([*argv, "verify-tag", "churn#prod#1"], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert verify.returncode == 0, verify.stderr
    assert "BEGIN SSH SIGNATURE" not in message(repo, "churn@v0.0.1")
    assert key.read_text().splitlines()[1] not in result.stdout + result.stderr


def gto_prints(repo: Repo, *args: str) -> tuple[int, str]:
    """GTO 1.10.1's own CLI, in-process: exit code and stdout."""
    result = CliRunner().invoke(gto_app, [*args, "-r", str(repo.path)])
    return result.exit_code, result.stdout


WRITES = [
    [["register", "rf", "--simple", "false"], ["register", "nn", "--simple", "true"]],
    [["register", "rf"], ["assign", "rf", "--stage", "prod", "--simple", "true"],
     ["assign", "rf", "--version", "v0.0.1", "--stage", "dev"]],
    [["register", "rf"], ["assign", "rf", "--stage", "prod"],
     ["deprecate", "rf", "v0.0.1", "prod", "--simple", "true"]],
    [["register", "rf"], ["deprecate", "rf", "v0.0.1", "--simple", "false"],
     ["deprecate", "rf", "--simple", "false"]],
    [["register", "rf", "--ver", "v1.2.3"], ["deprecate", "rf"]],
    [["assign", "rf", "--stage", "prod"], ["deprecate", "rf", "v0.0.1", "prod", "--delete"]],
    [["register", "rf"], ["assign", "rf", "--stage", "dev"], ["deprecate", "rf", "--delete"]],
    [["register", "a-rather-long-model-name-that-makes-the-line-wrap-at-eighty"],
     ["assign", "a-rather-long-model-name-that-makes-the-line-wrap-at-eighty", "--stage",
      "production-eu-west"]],
]  # fmt: skip


@pytest.mark.parametrize("steps", WRITES, ids=lambda s: " | ".join(" ".join(x) for x in s))
def test_write_commands_say_what_gto_says(tmp_path: Path, steps: list[list[str]]) -> None:
    """The same writes on two identical repositories, one by GTO, one by us: the same tags,
    and word for word the same output (messages, push hints, deletions)."""
    theirs, ours = Repo(tmp_path / "gto"), Repo(tmp_path / "ours")
    for repo in (theirs, ours):
        repo.commit(epoch=T0)
    # `--delete` lists tags oldest first, and tags made in the same second tie (GTO and we
    # break ties alike). GTO dates its tags itself (now), so each step waits for the next
    # second: neither repository gets a tie the other has not.
    apart = any("--delete" in step for step in steps)
    for i, step in enumerate(steps):
        if apart and i:
            time.sleep(1.05)
        code, expected = gto_prints(theirs, *step)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            mine = cli.main([*step, "-r", str(ours.path)])
        assert (mine, out.getvalue()) == (code, expected), (step, err.getvalue())
    assert tags(ours) == tags(theirs)
