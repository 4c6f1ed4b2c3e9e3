"""Registry state rules (shared/reference/gto.md §2), one small real repository per rule.

Each test builds the tags it needs with exact tagger dates, asks our CLI (in-process,
``gitops.cli.main``) and asserts the concrete answer. Where it is cheap, the same question goes to
GTO 1.10.1 (its own click CLI, in-process) so the test also documents what GTO does.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest
from click.testing import CliRunner
from gitutil import Repo, git
from gto.cli import app as gto_app

from gitops import cli
from gitops.registry.annotations import find_dvc_artifact, read_dvc_artifacts

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def at(minutes: int) -> int:
    """An epoch ``minutes`` after T0 (tagger dates are what orders events)."""
    return T0 + 60 * minutes


def run_ours(repo: Repo, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([*args, "-r", str(repo.path)])
    return code, out.getvalue(), err.getvalue()


def ours(repo: Repo, *args: str) -> Any:
    """``gitops ARGS --json`` parsed (``None`` when nothing is printed)."""
    code, out, err = run_ours(repo, *args, "--json")
    assert code == 0, err
    return json.loads(out) if out else None


def gto_run(repo: Repo, *args: str) -> Any:
    return CliRunner().invoke(gto_app, [*args, "--json", "-r", str(repo.path)])


def gto_json(repo: Repo, *args: str) -> Any:
    """``gto ARGS --json`` parsed, GTO 1.10.1's answer to the same question."""
    result = gto_run(repo, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout else None


def assert_gto_agrees(repo: Repo, *args: str) -> None:
    """GTO prints exactly what we print for this question."""
    code, out, err = run_ours(repo, *args, "--json")
    assert code == 0, err
    result = gto_run(repo, *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == out


def two_versions(repo: Repo) -> tuple[str, str]:
    """``churn`` v1.0.0 on an older commit and v2.0.0 on a newer one."""
    c1 = repo.commit(epoch=T0)
    c2 = repo.commit(epoch=T0 + 10)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn@v2.0.0", c2, epoch=at(2))
    return c1, c2


# -- §2.1 reading tags: ordering --------------------------------------------------------------


def test_stage_holds_the_latest_assignment_by_tagger_time(repo: Repo) -> None:
    """Tagger time decides; neither the tag name nor the commit date does."""
    c1, c2 = two_versions(repo)
    repo.tag("churn#prod#1", c2, epoch=at(10))  # v2.0.0 first
    repo.tag("churn#prod#2", c1, epoch=at(20))  # then v1.0.0 (older commit, later tag)
    assert ours(repo, "show")["churn"]["stage"] == {"prod": "v1.0.0"}
    assert_gto_agrees(repo, "show")


def test_counters_never_order_events(repo: Repo) -> None:
    """``t#prod#5`` dated Jan 3 beats ``t#prod#9`` dated Jan 2 (gto.md §2.2)."""
    c1, c2 = two_versions(repo)
    repo.tag("churn#prod#5", c1, epoch=at(3 * 1440))
    repo.tag("churn#prod#9", c2, epoch=at(2 * 1440))
    assert ours(repo, "show")["churn"]["stage"]["prod"] == "v1.0.0"
    assert_gto_agrees(repo, "show")


def test_same_second_assignments_lower_semver_wins(repo: Repo) -> None:
    """Stable sort then reversal: the lower SemVer wins a same-second tie, whatever the names."""
    c1, c2 = two_versions(repo)
    repo.tag("churn#prod#1", c1, epoch=at(10))
    repo.tag("churn#prod#2", c2, epoch=at(10))
    repo.tag("churn#qa#3", c2, epoch=at(11))
    repo.tag("churn#qa#4", c1, epoch=at(11))
    assert ours(repo, "show")["churn"]["stage"] == {"prod": "v1.0.0", "qa": "v1.0.0"}
    assert_gto_agrees(repo, "show")


def test_same_second_deregistration_beats_registration(repo: Repo) -> None:
    """GTO concatenates registrations then deregistrations before its stable sort, so in a
    same-second tie the deregistration is the latest event, even when its name sorts first."""
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0!", c1, epoch=at(1))
    repo.tag("churn@v1.0.0#2", c1, epoch=at(1))  # sorts after "churn@v1.0.0!"
    assert ours(repo, "show", "churn", "-d")[0]["is_active"] is False
    assert ours(repo, "show")["churn"]["version"] is None
    assert_gto_agrees(repo, "show", "churn", "-d")


def test_same_second_unassignment_beats_assignment(repo: Repo) -> None:
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn#prod!#1", c1, epoch=at(2))
    repo.tag("churn#prod#2", c1, epoch=at(2))  # sorts after the unassignment
    assert ours(repo, "show")["churn"]["stage"] == {}
    assert_gto_agrees(repo, "show")


def test_same_second_registration_beats_deprecation(repo: Repo) -> None:
    """The artifact's events are deprecations + version events: a tie keeps it active."""
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@deprecated", c1, epoch=at(1))
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    assert ours(repo, "show")["churn"]["active"] is True
    assert_gto_agrees(repo, "show")


def test_tagger_timezone_offset_is_kept(repo: Repo) -> None:
    """``created_at`` is the tagger date in the tagger's own zone (#425)."""
    repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", epoch=T0, offset_minutes=330)
    event = ours(repo, "check-ref", "churn@v1.0.0")
    assert event["created_at"] == "2023-11-15T03:43:20+05:30"
    assert_gto_agrees(repo, "check-ref", "churn@v1.0.0")


def test_event_author_is_the_tagger_and_commit_is_the_peeled_target(repo: Repo) -> None:
    commit = repo.commit(epoch=T0, author=("Alice", "alice@example.com"))
    repo.tag("churn@v1.0.0", epoch=at(1), tagger=("Bob", "bob@example.com"), message="hello")
    event = ours(repo, "check-ref", "churn@v1.0.0")
    assert (event["author"], event["author_email"]) == ("Bob", "bob@example.com")
    assert event["commit_hexsha"] == commit
    assert event["message"] == "hello"
    assert event["event"] == "registration"
    assert_gto_agrees(repo, "check-ref", "churn@v1.0.0")


def test_tags_on_commits_outside_head_history_count(repo: Repo) -> None:
    """No branch filtering: a tag on a commit HEAD never reaches is read all the same."""
    repo.commit(epoch=T0)
    orphan = git(repo.path, "commit-tree", "HEAD^{tree}", "-m", "side")
    repo.tag("churn@v1.0.0", orphan, epoch=at(1))
    versions = ours(repo, "show", "churn")
    assert [(v["version"], v["commit_hexsha"]) for v in versions] == [("v1.0.0", orphan)]
    assert_gto_agrees(repo, "show")


# -- §2.1.7 the version of an assignment comes from its target commit ------------------------


def test_assignment_takes_the_version_registered_on_its_commit(repo: Repo) -> None:
    c1, c2 = two_versions(repo)
    repo.tag("churn#prod#1", c1, epoch=at(10))
    assert ours(repo, "check-ref", "churn#prod#1")["version"] == "v1.0.0"
    assert ours(repo, "show", "churn#prod")[0]["version"] == "v1.0.0"
    assert_gto_agrees(repo, "check-ref", "churn#prod#1")


def test_assignment_on_unregistered_commit_is_a_commit_sha_pseudo_version(repo: Repo) -> None:
    """GTO names the version by the full commit sha and lists it twice in ``show NAME``."""
    c1, _ = two_versions(repo)
    c3 = repo.commit(epoch=T0 + 20)
    repo.tag("churn#prod#1", c3, epoch=at(10))
    state = ours(repo, "show")["churn"]
    assert state["version"] == "v2.0.0"  # latest counts registered versions only
    assert state["stage"] == {"prod": c3}
    versions = ours(repo, "show", "churn")
    assert [v["version"] for v in versions] == ["v2.0.0", "v1.0.0", c3, c3]
    assert all(v["discovered"] for v in versions[2:])
    assert ours(repo, "show", "--ro")["churn"]["stage"] == {"prod": None}  # --ro: no bare commits
    assert_gto_agrees(repo, "show", "churn")
    assert_gto_agrees(repo, "show", "--ro")
    assert c1 != c3


def test_latest_is_the_highest_active_semver_not_the_newest(repo: Repo) -> None:
    c1, c2 = two_versions(repo)
    c3 = repo.commit(epoch=T0 + 20)
    repo.tag("churn@v1.5.0", c3, epoch=at(30))  # registered last, but lower than v2.0.0
    assert ours(repo, "show")["churn"]["version"] == "v2.0.0"
    assert [v["version"] for v in ours(repo, "show", "churn@latest")] == ["v2.0.0"]
    assert [v["version"] for v in ours(repo, "show", "churn@greatest")] == ["v2.0.0"]
    repo.tag("churn@v2.0.0!", c2, epoch=at(40))
    assert ours(repo, "show")["churn"]["version"] == "v1.5.0"
    assert_gto_agrees(repo, "show", "churn@latest")


# -- §2.2 activity ----------------------------------------------------------------------------


def test_deregistered_version_and_its_stages_vanish(repo: Repo) -> None:
    c1, c2 = two_versions(repo)
    repo.tag("churn#prod#1", c1, epoch=at(10))
    repo.tag("churn#prod#2", c2, epoch=at(11))
    repo.tag("churn@v2.0.0!", c2, epoch=at(12))
    assert ours(repo, "show")["churn"] == {
        "version": "v1.0.0",
        "stage": {"prod": "v1.0.0"},
        "registered": True,
        "active": True,
    }
    assert [v["version"] for v in ours(repo, "show", "churn")] == ["v1.0.0"]
    hidden = [v for v in ours(repo, "show", "churn", "-d") if v["version"] == "v2.0.0"]
    assert [(v["is_active"], v["stages"]) for v in hidden] == [(False, [])]
    assert_gto_agrees(repo, "show", "churn", "-d")


def test_stage_column_vanishes_with_the_last_version_holding_it(repo: Repo) -> None:
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn#prod#1", c1, epoch=at(2))
    assert ours(repo, "show")["churn"]["stage"] == {"prod": "v1.0.0"}
    repo.tag("churn@v1.0.0!", c1, epoch=at(3))
    assert ours(repo, "show")["churn"] == {
        "version": None,
        "stage": {},
        "registered": True,
        "active": True,
    }
    assert_gto_agrees(repo, "show")


def test_re_registration_resurrects_old_assignments(repo: Repo) -> None:
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v0.1.0", c1, epoch=at(1))
    repo.tag("churn#prod#1", c1, epoch=at(2))
    repo.tag("churn@v0.1.0!", c1, epoch=at(3))
    assert ours(repo, "show")["churn"]["stage"] == {}
    repo.tag("churn@v0.1.0#8", c1, epoch=at(4))
    assert ours(repo, "show")["churn"]["stage"] == {"prod": "v0.1.0"}
    assert_gto_agrees(repo, "show")


def test_unassign_falls_back_to_the_previous_assignment(repo: Repo) -> None:
    c1, c2 = two_versions(repo)
    repo.tag("churn#prod#1", c1, epoch=at(10))
    repo.tag("churn#prod#2", c2, epoch=at(11))
    assert ours(repo, "show")["churn"]["stage"] == {"prod": "v2.0.0"}
    repo.tag("churn#prod!#3", c2, epoch=at(12))
    assert ours(repo, "show")["churn"]["stage"] == {"prod": "v1.0.0"}
    assert_gto_agrees(repo, "show")


def test_assigning_again_after_unassign_reactivates_the_pair(repo: Repo) -> None:
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn#prod#1", c1, epoch=at(2))
    repo.tag("churn#prod!#2", c1, epoch=at(3))
    assert ours(repo, "show")["churn"]["stage"] == {}
    repo.tag("churn#prod#3", c1, epoch=at(4))
    assert ours(repo, "show")["churn"]["stage"] == {"prod": "v1.0.0"}
    [stage] = ours(repo, "show", "churn")[0]["stages"]
    assert [e["tag"] for e in stage["assignments"]] == ["churn#prod#1", "churn#prod#3"]
    assert [e["tag"] for e in stage["unassignments"]] == ["churn#prod!#2"]
    assert_gto_agrees(repo, "show", "churn")


def test_deprecated_artifact_is_hidden_unless_asked(repo: Repo) -> None:
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("other@v1.0.0", c1, epoch=at(1))
    repo.tag("churn@deprecated", c1, epoch=at(2))
    assert list(ours(repo, "show")) == ["other"]
    assert ours(repo, "show", "-d")["churn"]["active"] is False
    assert ours(repo, "show", "churn") == []
    assert_gto_agrees(repo, "show", "-d")


def test_registration_after_deprecation_reactivates_the_artifact(repo: Repo) -> None:
    c1, c2 = repo.commit(epoch=T0), repo.commit(epoch=T0 + 10)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn@deprecated", c1, epoch=at(2))
    repo.tag("churn@v1.1.0", c2, epoch=at(3))
    assert ours(repo, "show")["churn"]["active"] is True
    assert ours(repo, "show")["churn"]["version"] == "v1.1.0"
    assert_gto_agrees(repo, "show")


def test_assignment_after_deprecation_reactivates_the_artifact(repo: Repo) -> None:
    """Any later event counts, not only registrations."""
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn@deprecated", c1, epoch=at(2))
    assert "churn" not in ours(repo, "show")
    repo.tag("churn#prod#1", c1, epoch=at(3))
    assert ours(repo, "show")["churn"]["stage"] == {"prod": "v1.0.0"}
    assert_gto_agrees(repo, "show")


# -- §2.3 which version a stage shows: --sort, --vs, --av -------------------------------------


def rollback(repo: Repo) -> None:
    """v0.0.1 in prod, then v0.1.0, then v0.0.1 again (a rollback)."""
    c1, c2 = repo.commit(epoch=T0), repo.commit(epoch=T0 + 10)
    repo.tag("churn@v0.0.1", c1, epoch=at(1))
    repo.tag("churn@v0.1.0", c2, epoch=at(2))
    repo.tag("churn#prod#1", c1, epoch=at(3))
    repo.tag("churn#prod#2", c2, epoch=at(4))
    repo.tag("churn#prod#3", c1, epoch=at(5))


def test_sort_timestamp_shows_the_rollback_and_semver_the_highest(repo: Repo) -> None:
    rollback(repo)
    assert ours(repo, "show")["churn"]["stage"]["prod"] == "v0.0.1"
    assert ours(repo, "show", "--sort", "timestamp")["churn"]["stage"]["prod"] == "v0.0.1"
    assert ours(repo, "show", "--sort", "semver")["churn"]["stage"]["prod"] == "v0.1.0"
    assert_gto_agrees(repo, "show", "--sort", "semver")


def test_versions_per_stage_lists_several_versions(repo: Repo) -> None:
    rollback(repo)
    assert ours(repo, "show", "--vs", "-1")["churn"]["stage"]["prod"] == "v0.0.1, v0.1.0"
    assert ours(repo, "show", "--vs", "1")["churn"]["stage"]["prod"] == "v0.0.1"
    semver = ours(repo, "show", "--vs", "-1", "--sort", "semver")
    assert semver["churn"]["stage"]["prod"] == "v0.1.0, v0.0.1"
    assert_gto_agrees(repo, "show", "--vs", "-1")
    assert_gto_agrees(repo, "show", "--vs", "-1", "--sort", "semver")


def test_assignments_per_version_keeps_the_oldest(repo: Repo) -> None:
    """``--av N`` keeps the N oldest active stages of each version (help says "last")."""
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn#dev#1", c1, epoch=at(2))
    repo.tag("churn#staging#2", c1, epoch=at(3))
    repo.tag("churn#prod#3", c1, epoch=at(4))
    assert ours(repo, "show", "--av", "1")["churn"]["stage"] == {
        "dev": "v1.0.0",
        "prod": None,
        "staging": None,
    }
    [version] = ours(repo, "show", "churn", "--av", "2")
    assert sorted(s["stage"] for s in version["stages"]) == ["dev", "staging"]
    assert_gto_agrees(repo, "show", "--av", "1")
    assert_gto_agrees(repo, "show", "churn", "--av", "2")


# -- which tags count -------------------------------------------------------------------------


def test_lightweight_tags_are_ignored_by_default(repo: Repo) -> None:
    repo.commit(epoch=T0)
    repo.tag("lw@v1.0.0", annotated=False)
    assert ours(repo, "show") == {}
    assert ours(repo, "check-ref", "lw@v1.0.0") is None
    assert ours(repo, "history") == []
    assert gto_json(repo, "show") == {}


def test_lightweight_tags_are_read_when_asked_dated_by_their_commit(repo: Repo) -> None:
    commit = repo.commit(epoch=T0, offset_minutes=-300, author=("Alice", "alice@example.com"))
    repo.tag("lw@v1.0.0", annotated=False)
    repo.tag("lw#prod#1", annotated=False)
    assert ours(repo, "show", "--lightweight") == {
        "lw": {"version": "v1.0.0", "stage": {"prod": "v1.0.0"}, "registered": True, "active": True}
    }
    event = ours(repo, "check-ref", "lw@v1.0.0", "--lightweight")
    assert event["created_at"] == "2023-11-14T17:13:20-05:00"
    assert (event["author"], event["commit_hexsha"]) == ("Alice", commit)


def test_created_tags_are_ignored(repo: Repo) -> None:
    """``name@created`` breaks every GTO command; we skip it."""
    repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", epoch=at(1))
    repo.tag("churn@created", epoch=at(2))
    repo.tag("other@created#3", epoch=at(3))
    assert ours(repo, "show") == {
        "churn": {"version": "v1.0.0", "stage": {}, "registered": True, "active": True}
    }
    assert ours(repo, "check-ref", "churn@created") is None
    assert [e["ref"] for e in ours(repo, "history")] == ["churn@v1.0.0"]
    assert gto_run(repo, "show").exit_code != 0


def test_tags_outside_the_grammar_are_ignored(repo: Repo) -> None:
    repo.commit(epoch=T0)
    for name in ("release-1.0", "churn@1.0.0", "churn@latest", "churn#prod#1#2", "my.model@v1.0.0"):
        repo.tag(name, epoch=at(1))
    assert ours(repo, "show") == {}
    assert ours(repo, "check-ref", "churn@1.0.0") is None
    assert gto_json(repo, "show") == {}


def test_tag_on_a_tree_is_skipped_with_a_warning(repo: Repo) -> None:
    repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", epoch=at(1))
    repo.tag("tree@v1.0.0", "HEAD^{tree}", epoch=at(2))
    code, out, err = run_ours(repo, "show", "--json")
    assert code == 0
    assert list(json.loads(out)) == ["churn"]
    assert "tree@v1.0.0" in err and "not a commit" in err


def test_tag_of_a_tag_is_skipped_with_a_warning(repo: Repo) -> None:
    """A registry tag whose object points at another tag object, not at a commit.

    We skip it with a warning. GTO reads it with the inner tag object's sha as the "commit"
    (so an assignment on it becomes a pseudo-version named by a tag sha): a deliberate
    difference, since that sha is no commit at all.
    """
    repo.commit(epoch=T0)
    repo.tag("base", epoch=at(1))
    repo.tag("churn@v1.0.0", "refs/tags/base", epoch=at(2))
    code, out, err = run_ours(repo, "show", "--json")
    assert (code, json.loads(out)) == (0, {})
    assert "'churn@v1.0.0' points at a tag, not a commit; ignored" in err
    assert gto_json(repo, "show")["churn"]["version"] == "v1.0.0"


def test_a_second_ref_to_one_tag_object_counts_once(repo: Repo) -> None:
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn#prod#1", c1, epoch=at(2))
    git(repo.path, "tag", "churn#prod#2", "churn#prod#1")  # a new ref to the same tag object
    assert [e["ref"] for e in gto_json(repo, "history")] == ["churn#prod#1", "churn@v1.0.0"]
    assert [e["ref"] for e in ours(repo, "history")] == ["churn#prod#1", "churn@v1.0.0"]
    assert_gto_agrees(repo, "show", "churn")


# -- §2.1.8 and §4 annotations and configuration ----------------------------------------------


def test_artifacts_yaml_at_head_lists_an_unregistered_artifact(repo: Repo) -> None:
    repo.commit(files={"artifacts.yaml": "rf:\n  type: model\n  path: rf.pkl\n"}, epoch=T0)
    assert ours(repo, "show") == {
        "rf": {"version": None, "stage": {}, "registered": False, "active": True}
    }
    code, out, _ = run_ours(repo, "show")
    assert code == 0 and "*rf" in out  # the table marks it unregistered
    assert_gto_agrees(repo, "show")


def test_artifacts_yaml_is_read_from_commits_not_the_work_tree(repo: Repo) -> None:
    repo.commit(epoch=T0)
    (repo.path / "artifacts.yaml").write_text("rf:\n  path: rf.pkl\n")  # never committed
    assert ours(repo, "show") == {}
    assert gto_json(repo, "show") == {}


def test_artifacts_yaml_is_read_at_each_version_commit(repo: Repo) -> None:
    """A version's enrichment comes from artifacts.yaml at its own commit, not at HEAD."""
    c1 = repo.commit(files={"artifacts.yaml": "churn:\n  type: model\n  path: old.pkl\n"})
    repo.commit(files={"artifacts.yaml": "churn:\n  type: model\n  path: new.pkl\n"})
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    versions = ours(repo, "show", "churn")
    by_version = {
        v["version"]: v["enrichments"][0]["enrichments"][0]["artifact"]["path"] for v in versions
    }
    head = repo.rev()
    assert by_version == {"v1.0.0": "old.pkl", head: "new.pkl"}
    assert_gto_agrees(repo, "show", "churn")


def test_index_file_name_comes_from_gto_config(repo: Repo) -> None:
    (repo.path / ".gto").write_text("INDEX: registry.yaml\n")
    repo.commit(
        files={"registry.yaml": "rf:\n  path: rf.pkl\n", "artifacts.yaml": "ignored:\n  path: x\n"}
    )
    assert list(ours(repo, "show")) == ["rf"]
    assert_gto_agrees(repo, "show")


def test_index_file_name_from_the_gto_index_environment_variable(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.commit(
        files={"models.yaml": "rf:\n  path: rf.pkl\n", "artifacts.yaml": "xgb:\n  path: x.pkl\n"}
    )
    assert list(ours(repo, "show")) == ["xgb"]
    assert_gto_agrees(repo, "show")
    monkeypatch.setenv("GTO_INDEX", "models.yaml")
    assert list(ours(repo, "show")) == ["rf"]
    assert_gto_agrees(repo, "show")


def test_dvc_yaml_artifacts_and_namespaces(repo: Repo) -> None:
    """``name`` in dvc.yaml is ``name``; in dir/dvc.yaml it is ``dir:name``, tagged ``dir=name``.

    dvc.yaml only annotates (CI outputs, type checks): like GTO, ``show`` lists tagged artifacts.
    """
    repo.commit(
        files={
            "dvc.yaml": "artifacts:\n  clf:\n    path: clf.pkl\n    type: model\n",
            "models/churn/dvc.yaml": "artifacts:\n  net:\n    path: net.pt\n    desc: A net\n",
        },
        epoch=T0,
    )
    repo.tag("models/churn=net@v1.0.0", epoch=at(1))
    assert list(read_dvc_artifacts(repo.path)) == ["clf"]
    assert list(read_dvc_artifacts(repo.path, "models/churn")) == ["models/churn:net"]
    found = find_dvc_artifact(repo.path, "models/churn:net")
    assert found is not None and (found.path, found.desc) == ("net.pt", "A net")
    clf = find_dvc_artifact(repo.path, "clf")
    assert clf is not None and clf.type == "model"
    assert find_dvc_artifact(repo.path, "net") is None  # not at the root
    assert list(ours(repo, "show")) == ["models/churn:net"]
    assert ours(repo, "check-ref", "models/churn=net@v1.0.0")["artifact"] == "models/churn:net"
    assert_gto_agrees(repo, "show")


def test_gto_stages_are_the_columns_and_other_stages_still_read(repo: Repo) -> None:
    """``.gto`` stages are the registry columns (an empty one is null); a hand-made tag for an
    unlisted stage still counts for that version, it is just not a column."""
    (repo.path / ".gto").write_text("stages: [dev, prod]\n")
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn#dev#1", c1, epoch=at(2))
    repo.tag("churn#qa#2", c1, epoch=at(3))
    assert ours(repo, "show")["churn"]["stage"] == {"dev": "v1.0.0", "prod": None}
    [version] = ours(repo, "show", "churn")
    assert sorted(s["stage"] for s in version["stages"]) == ["dev", "qa"]
    assert_gto_agrees(repo, "show")
    assert_gto_agrees(repo, "show", "churn")


_ok = {"registered": True, "active": True}


def test_without_gto_config_the_columns_are_the_stages_in_use(repo: Repo) -> None:
    c1 = repo.commit(epoch=T0)
    repo.tag("a@v1.0.0", c1, epoch=at(1))
    repo.tag("a#prod#1", c1, epoch=at(2))
    repo.tag("b@v1.0.0", c1, epoch=at(3))
    repo.tag("b#dev#1", c1, epoch=at(4))
    assert ours(repo, "show") == {
        "a": {"version": "v1.0.0", "stage": {"dev": None, "prod": "v1.0.0"}, **_ok},
        "b": {"version": "v1.0.0", "stage": {"dev": "v1.0.0", "prod": None}, **_ok},
    }
    assert_gto_agrees(repo, "show")


# -- §2.1.7 two versions on one commit ---------------------------------------------------------


def test_two_versions_on_one_commit_is_a_conflict_others_still_answer(repo: Repo) -> None:
    c1, c2 = repo.commit(epoch=T0), repo.commit(epoch=T0 + 10)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn@v1.0.0-rc.1", c1, epoch=at(2))
    repo.tag("churn#prod#1", c1, epoch=at(3))
    repo.tag("other@v0.1.0", c2, epoch=at(4))
    code, out, err = run_ours(repo, "show", "--json")
    assert code == 0
    assert json.loads(out) == {
        "other": {"version": "v0.1.0", "stage": {}, "registered": True, "active": True}
    }
    for needle in (c1[:12], "churn@v1.0.0", "churn@v1.0.0-rc.1", "churn#prod#1"):
        assert needle in err
    code, out, err = run_ours(repo, "show", "churn", "--json")
    assert (code, out) == (1, "")
    assert c1[:12] in err and "Traceback" not in err
    assert ours(repo, "check-ref", "other@v0.1.0")["version"] == "v0.1.0"
    assert gto_run(repo, "show").exit_code != 0  # GTO fails on the whole registry


def test_two_versions_on_one_commit_without_stage_tag_is_no_conflict(repo: Repo) -> None:
    """GTO only looks a version up by commit for stage tags: no stage tag, no conflict."""
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn@v1.0.0-rc.1", c1, epoch=at(2))
    code, _, err = run_ours(repo, "show", "--json")
    assert code == 0 and err == ""
    assert ours(repo, "show")["churn"]["version"] == "v1.0.0"
    assert_gto_agrees(repo, "show")


# -- §3.4 history order ------------------------------------------------------------------------


def test_history_is_newest_first_with_priority_breaking_ties(repo: Repo) -> None:
    c1 = repo.commit(epoch=T0)
    repo.tag("churn@v1.0.0", c1, epoch=at(1))
    repo.tag("churn#prod#1", c1, epoch=at(1))  # same second: assignment (5) after registration (3)
    repo.tag("churn#prod!#2", c1, epoch=at(2))
    assert [e["ref"] for e in ours(repo, "history")] == [
        "churn#prod!#2",
        "churn#prod#1",
        "churn@v1.0.0",
    ]
    assert [e["ref"] for e in ours(repo, "history", "--asc")] == [
        "churn@v1.0.0",
        "churn#prod#1",
        "churn#prod!#2",
    ]
    assert_gto_agrees(repo, "history")
