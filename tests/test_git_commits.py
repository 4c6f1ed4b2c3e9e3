"""Commits behind tags read by one regex (``_CommitParser``) give what the general parser gives
(``_parse_commit``, checked against ``git for-each-ref`` in test_git_read.py), on commit objects
git writes and on crafted ones the regex must leave to the general path."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gitutil import Repo, git

from gitops.registry.git import _PLAIN_COMMIT, _CommitParser, _parse_commit

CRAFTED = [
    b"tree a\nauthor  <> 1 +0000\ncommitter Bob  <b@x> 5 -0130\n\n\n\nmsg\n",
    b"tree a\nparent b\nparent c\nauthor A <a> 1 +0000\ncommitter C <c> 7 +0545\n\nm\0x",
    b"tree a\nauthor A <a> 1 +0000\ncommitter C <c> 7 +0545\nencoding latin1\n\nm",
    b"tree a\nauthor A <a> 1 +0000\ncommitter C \xff <c> 7 +0545\n\nm\xfe",
    b"tree a\nauthor A <a> 1 +0000\ncommitter C <c> 7 +0545\ngpgsig -----BEGIN PGP\n \n\nm",
    b"tree a\nauthor A <a> 1 +0000\ncommitter C <c> 7\n\nno zone",
    b"tree a\nauthor A <a> 1 +0000\ncommitter C <c <d>> 7 +0100\n\nodd email",
    b"tree a\nauthor A <a> 1 +0000\ncommitter C <c> 7 +0100\n",
    b"tree a\nauthor A <a> 1 +0000\ncommitter Zo\xc3\xab <z@x> 99 +1400\n\n\xc3\xa9t\xc3\xa9\n",
]


@pytest.mark.parametrize("body", CRAFTED)
def test_crafted_commits(body: bytes) -> None:
    assert _CommitParser().parse("x", body) == _parse_commit("x", body)


def test_commits_git_writes(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "repo")
    shas = [
        repo.commit(author=("Zoë Ångström", "zoe@example.org"), offset_minutes=330),
        repo.commit(message="multi\n\nline\n", author=("No Mail", ""), offset_minutes=-480),
        repo.commit(message="  padded  ", author=("A <b>", "weird@x")),
    ]
    git(repo.path, "checkout", "-q", "-b", "side", shas[0])
    side = repo.commit()
    git(repo.path, "checkout", "-q", "main")
    git(repo.path, "merge", "-q", "--no-ff", "-m", "merge", side)
    shas += [side, repo.rev()]
    parser = _CommitParser()
    plain = 0
    for sha in shas:
        body = subprocess.run(
            ["git", "-C", str(repo.path), "cat-file", "commit", sha],
            capture_output=True,
            check=True,
        ).stdout
        plain += _PLAIN_COMMIT.match(body) is not None
        assert parser.parse(sha, body) == _parse_commit(sha, body)
    assert plain == len(shas)  # all of them by the regex
