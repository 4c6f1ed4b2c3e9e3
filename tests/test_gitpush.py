"""gitops.gitpush on real remotes: what git answers in each case and how it is classified.

A race (non-fast-forward, fetch first, the server's ref moved under the push) comes back as
``race`` for the caller to retry; a refusal (a hook, a checked-out branch, a taken tag name,
refused credentials) raises ``PushRefused`` with git's reason and the remote's lines; a remote
that cannot be reached raises ``PushUnreachable``. Every remote here is a real bare repository,
a real HTTP server on 127.0.0.1 or a closed port.
"""

from __future__ import annotations

import base64
import http.server
import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from gitutil import BASE_ENV, git, server_hook

from gitops.deploy.store import http_auth_env
from gitops.gitcommit import open_repo
from gitops.gitpush import (
    PushError,
    PushRefused,
    PushUnreachable,
    RefPush,
    hide_userinfo,
    push,
    push_commit,
    push_plain,
)

TOKEN = "glpat-s3cretV4lue"
WHO = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x"}
WHO |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    """git here must not read the machine's git config."""
    for name, value in BASE_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    path = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(path))
    return path


@pytest.fixture
def work(tmp_path: Path, bare: Path) -> Path:
    path = tmp_path / "work"
    git(tmp_path, "init", "-q", "-b", "main", str(path))
    git(path, "config", "user.name", "Test User")
    git(path, "config", "user.email", "test@example.com")
    git(path, "commit", "-q", "--allow-empty", "-m", "one")
    git(path, "remote", "add", "origin", str(bare))
    git(path, "push", "-q", "origin", "main")
    return path


def commit_on(repo: Path, parent: str, message: str) -> str:
    """A new commit on ``parent`` (same tree), nowhere on a branch yet."""
    tree = git(repo, "rev-parse", f"{parent}^{{tree}}")
    return git(repo, "commit-tree", tree, "-p", parent, "-m", message, env=WHO)


@pytest.fixture(params=["gitpython", "porcelain"])
def way(request: pytest.FixtureRequest) -> str:
    """Both ways to push read git's answers by the same rules: GitPython's per-ref results
    (the state store, the manifest driver) and ``git push --porcelain`` (``--push``)."""
    return request.param


def push_refs(
    work: Path, refspecs: list[tuple[str, str]], way: str, remote: str = "origin", **kw: object
) -> list[RefPush]:
    if way == "gitpython":
        return push(open_repo(work), remote, refspecs, **kw)  # type: ignore[arg-type]
    return push_plain(work, remote, refspecs, **kw)  # type: ignore[arg-type]


def push_to(
    work: Path, commit: str, way: str, dst: str = "refs/heads/main", **kw: object
) -> RefPush:
    """Push a commit: GitPython's way from a private ref named after it, git's by its id."""
    if way == "gitpython":
        remote = str(kw.pop("remote", "origin"))
        return push_commit(open_repo(work), remote, commit, dst, **kw)  # type: ignore[arg-type]
    return push_refs(work, [(commit, dst)], way, **kw)[0]


def test_pushed_new_and_up_to_date(work: Path, bare: Path, way: str) -> None:
    new = commit_on(work, "main", "two")
    assert push_to(work, new, way).status == "pushed"
    assert git(bare, "rev-parse", "main") == new
    created = push_to(work, new, way, "refs/heads/gitops/state")
    assert created == RefPush("refs/heads/gitops/state", "pushed", "[new branch]")
    assert push_to(work, new, way, "refs/heads/gitops/state").status == "up to date"


def test_a_branch_moved_by_someone_else_is_a_race(
    work: Path, bare: Path, tmp_path: Path, way: str
) -> None:
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(bare), str(other))
    theirs = commit_on(other, "main", "theirs")
    git(other, "push", "-q", "origin", f"{theirs}:refs/heads/main")
    mine = commit_on(work, "main", "mine")
    assert push_to(work, mine, way) == RefPush("refs/heads/main", "race", "fetch first")
    git(work, "fetch", "-q", "origin")  # now we know their commit: git says non-fast-forward
    assert push_to(work, mine, way) == RefPush("refs/heads/main", "race", "non-fast-forward")
    assert git(bare, "rev-parse", "main") == theirs  # never forced


def test_a_ref_that_moved_on_the_server_during_the_push_is_a_race(
    work: Path, bare: Path, way: str
) -> None:
    """Another push lands between the server's advertisement and its ref update: the remote
    answers ``[remote rejected] (failed to update ref)`` (cannot lock ref: is at X but
    expected Y). The hook plays the other push, outside the quarantine."""
    theirs = commit_on(work, "main", "theirs")
    git(work, "push", "-q", "origin", f"{theirs}:refs/heads/side")
    unquarantined = "env -u GIT_QUARANTINE_PATH -u GIT_OBJECT_DIRECTORY"
    server_hook(bare, "pre-receive", f"{unquarantined} git update-ref refs/heads/main {theirs}")
    result = push_to(work, commit_on(work, "main", "mine"), way)
    assert result == RefPush("refs/heads/main", "race", "failed to update ref")
    assert git(bare, "rev-parse", "main") == theirs


def test_a_declining_pre_receive_hook_is_a_refusal_with_gits_reason(
    work: Path, bare: Path, way: str
) -> None:
    runs = server_hook(
        bare, "pre-receive", "echo 'protected branch: main takes no pushes' >&2; exit 1"
    )
    before = git(bare, "rev-parse", "main")
    with pytest.raises(PushRefused) as caught:
        push_to(work, commit_on(work, "main", "x"), way)
    text = str(caught.value)
    assert text.startswith("git push to origin refused refs/heads/main (pre-receive hook declined)")
    assert "\nremote: protected branch: main takes no pushes\n" in text
    assert "hint: branch main is protected on the remote" in text
    assert "Protected branches" in text and "ruleset" in text
    assert caught.value.guarded and not caught.value.credentials
    assert runs.read_text() == "run\n"  # one push, no retry inside
    assert git(bare, "rev-parse", "main") == before


def test_a_declining_update_hook_is_a_refusal(work: Path, bare: Path, way: str) -> None:
    # the second line looks like a progress meter to GitPython ("<word>: <number>"): kept too
    server_hook(bare, "update", 'echo "no pushes to $1" >&2; echo "rule: 2 violations" >&2; exit 1')
    with pytest.raises(PushRefused, match=r"refs/heads/main \(hook declined\)") as caught:
        push_to(work, commit_on(work, "main", "x"), way)
    assert "remote: no pushes to refs/heads/main\nremote: rule: 2 violations" in str(caught.value)


def test_a_checked_out_branch_of_a_non_bare_remote_is_refused_without_a_protection_hint(
    tmp_path: Path, way: str
) -> None:
    target = tmp_path / "target"
    git(tmp_path, "init", "-q", "-b", "main", str(target))
    git(target, "commit", "-q", "--allow-empty", "-m", "one", env=WHO)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(target), str(clone))
    with pytest.raises(PushRefused) as caught:
        push_to(clone, commit_on(clone, "main", "x"), way)
    text = str(caught.value)
    assert "refs/heads/main (branch is currently checked out)" in text
    assert "remote: error: refusing to update checked out branch" in text
    assert "hint:" not in text and not caught.value.guarded


def _tag(repo: Path, name: str, message: str, force: bool = False) -> None:
    git(repo, "tag", *(["-f"] if force else []), "-a", "-m", message, name, env=WHO)


def test_a_tag_name_taken_by_other_content_is_a_refusal_not_a_race(
    work: Path, bare: Path, way: str
) -> None:
    _tag(work, "churn@v1.0.0", "ours")
    pair = [("refs/tags/churn@v1.0.0", "refs/tags/churn@v1.0.0")]
    assert push_refs(work, pair, way)[0].status == "pushed"
    assert push_refs(work, pair, way)[0].status == "up to date"  # same tag: fine
    _tag(work, "churn@v1.0.0", "another writer's", force=True)
    with pytest.raises(PushRefused) as caught:
        push_refs(work, pair, way)
    text = str(caught.value)
    assert "refs/tags/churn@v1.0.0 (already exists)" in text
    assert "tags are never overwritten" in text
    assert git(bare, "cat-file", "-p", "churn@v1.0.0").endswith("ours")


def test_a_tag_refused_by_a_hook_says_so_and_names_the_tags_that_landed(
    work: Path, bare: Path, way: str
) -> None:
    server_hook(
        bare, "update", 'case "$1" in *prod*) echo "tag $1 is protected" >&2; exit 1;; esac'
    )
    _tag(work, "churn@v1.0.0", "register")
    _tag(work, "churn#prod#1", "assign")
    refs = [(f"refs/tags/{t}", f"refs/tags/{t}") for t in ("churn@v1.0.0", "churn#prod#1")]
    with pytest.raises(PushRefused) as caught:
        push_refs(work, refs, way)
    text = str(caught.value)
    assert "refused refs/tags/churn#prod#1 (hook declined)" in text
    assert "remote: tag refs/tags/churn#prod#1 is protected" in text
    assert "(pushed: churn@v1.0.0)" in text
    assert "hint: tags like churn#prod#1 are protected" in text
    assert git(bare, "tag", "-l").split() == ["churn@v1.0.0"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_closed_port_is_unreachable_and_the_token_never_shows(work: Path, way: str) -> None:
    url = f"http://oauth2:{TOKEN}@127.0.0.1:{closed_port()}/acme/models.git"
    with pytest.raises(PushUnreachable) as caught:
        push_to(
            work, commit_on(work, "main", "x"), way, remote=url, env=http_auth_env(url, "u", TOKEN)
        )
    text = str(caught.value)
    assert text.startswith("cannot reach http://***@127.0.0.1:")
    assert "Failed to connect" in text or "Couldn't connect" in text
    assert TOKEN not in text


class Refusing(http.server.BaseHTTPRequestHandler):
    """A git host that refuses every request with ``status`` and a reason in the body."""

    status = 403
    seen: list[str]

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.headers.get("Authorization", ""))
        self.send_response(self.status)
        if self.status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"The token lacks the write_repository scope.\n")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[403, 401])
def refusing_host(request: pytest.FixtureRequest) -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (Refusing,), {"status": request.param, "seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/acme/models.git", seen
    server.shutdown()
    server.server_close()


def test_refused_credentials_fail_at_once_with_the_token_scope_hint(
    work: Path, refusing_host: tuple[str, list[str]], way: str
) -> None:
    url, seen = refusing_host
    env = http_auth_env(url, "oauth2", TOKEN)
    with pytest.raises(PushRefused) as caught:
        push_to(work, commit_on(work, "main", "x"), way, remote=url, env=env)
    text = str(caught.value)
    assert text.startswith(f"git push to {url} was refused:")
    assert "403" in text or "could not read Username" in text  # git's own reason
    assert "contents: write" in text and "write_repository" in text
    assert caught.value.credentials
    encoded = base64.b64encode(f"oauth2:{TOKEN}".encode()).decode()
    assert seen and seen[0] == f"Basic {encoded}"  # the header reached the server ...
    assert TOKEN not in text and encoded not in text  # ... and never the message


def test_a_remote_that_never_answers_is_unreachable_within_the_timeout(
    work: Path, way: str
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)  # accepted by the kernel, never answered
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/acme/models.git"
        with pytest.raises(PushUnreachable, match=r"no answer within 1 s"):
            push_to(work, commit_on(work, "main", "x"), way, remote=url, timeout=1)


def test_git_output_reaches_no_log_on_its_own(
    work: Path, bare: Path, caplog: pytest.LogCaptureFixture, way: str
) -> None:
    """GitPython logs git's stderr (with the remote URL) as a warning on a rejection; the
    message we raise carries what matters, redacted."""
    server_hook(bare, "pre-receive", "exit 1")
    with caplog.at_level(logging.DEBUG, logger="git"), pytest.raises(PushRefused):
        push_to(work, commit_on(work, "main", "x"), way)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_nothing_is_forced_even_for_a_local_source_that_is_behind(
    work: Path, bare: Path, way: str
) -> None:
    ahead = commit_on(work, "main", "ahead")
    push_to(work, ahead, way)
    behind = git(work, "rev-parse", "main")  # the first commit, an ancestor of the remote's
    assert push_to(work, behind, way).status == "race"  # git will not rewind it
    assert git(bare, "rev-parse", "main") == ahead


def test_userinfo_is_hidden_anywhere_in_a_text() -> None:
    text = "fatal: https://x-access-token:ghs_abc@github.com/o/r.git and ssh://git@host/r"
    assert hide_userinfo(text) == "fatal: https://***@github.com/o/r.git and ssh://***@host/r"


def test_a_local_failure_is_a_plain_push_error(work: Path, way: str) -> None:
    """A source ref that does not exist is git's local complaint, not a remote's refusal."""
    with pytest.raises(PushError) as caught:
        push_refs(work, [("refs/heads/nope", "refs/heads/nope")], way)
    assert type(caught.value) is PushError
    assert "src refspec refs/heads/nope does not match any" in str(caught.value)


def test_subprocess_env_of_git_is_untouched_by_a_push(work: Path, way: str) -> None:
    """Credentials go to git through the push's own environment, not ours."""
    before = dict(os.environ)
    url = f"http://127.0.0.1:{closed_port()}/r.git"
    with pytest.raises(PushUnreachable):
        push_to(
            work, commit_on(work, "main", "x"), way, remote=url, env=http_auth_env(url, "u", TOKEN)
        )
    assert dict(os.environ) == before
