"""Benchmark the git write side: a commit made in memory and pushed with GitPython (what the state
store, the manifest driver and ``--push`` use) against the subprocess plumbing it replaced.

Per write, in one process (medians of N, the two alternating so load hits both alike):

- state store: one changed ``<env>.json`` among five, commit on the last revision, push to a
  local bare remote, set our copy of the branch. Plumbing: ls-tree, hash-object, mktree,
  commit-tree, push, update-ref (6 processes); GitPython: push only (1 process).
- manifest: one file deep in a tree of ``--files`` files, commit + push + remote-tracking ref.
  Plumbing: ls-tree, hash-object, read-tree, update-index, write-tree, commit-tree (private
  index), push, update-ref (8 processes); GitPython: push only.

Then whole processes, for what a one-shot command pays: ``import git`` alone, and a fresh
interpreter pushing one new tag the way ``--push`` did (``run_git``), does (``push_tags``: one
``git push --porcelain`` read by gitops.gitpush's rules) and would with GitPython.

    .venv/bin/python benchmarks/gitwrite.py [--repeat 30] [--files 3000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gitops.gitcommit import commit_files, open_repo, set_ref  # noqa: E402
from gitops.gitpush import push_commit  # noqa: E402

ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}
WHO = {"GIT_AUTHOR_NAME": "g", "GIT_AUTHOR_EMAIL": "g@x", "GIT_COMMITTER_NAME": "g"}
WHO["GIT_COMMITTER_EMAIL"] = "g@x"


def sh(cwd: Path, *args: str, stdin: bytes | None = None, env: dict | None = None) -> str:
    proc = subprocess.run(
        ["git", "-C", str(cwd), *args],
        input=stdin,
        capture_output=True,
        env={**ENV, **(env or {})},
        check=True,
    )
    return proc.stdout.decode().strip()


def setup(base: Path, files: int) -> tuple[Path, Path]:
    bare, work = base / "origin.git", base / "work"
    sh(base, "init", "-q", "--bare", "-b", "main", str(bare))
    sh(base, "init", "-q", "-b", "main", str(work))
    for i in range(files):
        path = work / f"d{i % 50}" / f"f{i}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"{i}\n")
    (work / "k8s" / "prod").mkdir(parents=True)
    (work / "k8s" / "prod" / "values.yaml").write_text("image: v0\n")
    for env in ("dev", "qa", "staging", "prod", "canary"):
        (work / f"{env}.json").write_text('{"deployed": {}}\n')
    sh(work, "add", ".")
    sh(work, "commit", "-q", "-m", "start", env=WHO)
    sh(work, "remote", "add", "origin", str(bare))
    sh(work, "push", "-q", "origin", "main", "main:refs/heads/gitops/state")
    sh(work, "gc", "-q")
    return bare, work


def plumbing_state(work: Path, parent: str, n: int) -> str:
    """BranchStore._write before: ls-tree, hash-object, mktree, commit-tree, push, update-ref."""
    entries = {}
    for line in sh(work, "ls-tree", parent).splitlines():
        meta, _, path = line.partition("\t")
        entries[path] = meta
    blob = sh(work, "hash-object", "-w", "--stdin", stdin=f'{{"n": {n}}}\n'.encode())
    entries["prod.json"] = f"100644 blob {blob}"
    text = "".join(f"{meta}\t{path}\n" for path, meta in sorted(entries.items()))
    tree = sh(work, "mktree", stdin=text.encode())
    commit = sh(work, "commit-tree", tree, "-p", parent, "-m", f"state {n}", env=WHO)
    sh(work, "push", "--quiet", "origin", f"{commit}:refs/heads/gitops/state")
    sh(work, "update-ref", "refs/gitops/state/gitops/state", commit)
    return commit


def gitpython_state(repo: object, parent: str, n: int) -> str:
    """BranchStore._write now."""
    files = {"prod.json": f'{{"n": {n}}}\n'.encode()}
    commit = commit_files(repo, parent, files, f"state {n}", ("g", "g@x"))  # type: ignore[arg-type]
    assert push_commit(repo, "origin", commit, "refs/heads/gitops/state").status == "pushed"  # type: ignore[arg-type]
    set_ref(repo, "refs/gitops/state/gitops/state", commit)  # type: ignore[arg-type]
    return commit


def plumbing_manifest(work: Path, parent: str, n: int) -> str:
    """GitWriter.commit + push before: a private index file and seven git processes."""
    file = "k8s/prod/values.yaml"
    mode = sh(work, "ls-tree", parent, "--", file).split(" ", 1)[0]
    blob = sh(work, "hash-object", "-w", "--stdin", stdin=f"image: v{n}\n".encode())
    with tempfile.TemporaryDirectory(prefix="gitops-index-") as tmp:
        index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        sh(work, "read-tree", parent, env=index)
        sh(work, "update-index", "--cacheinfo", f"{mode},{blob},{file}", env=index)
        tree = sh(work, "write-tree", env=index)
    commit = sh(work, "commit-tree", tree, "-p", parent, "-F", "-", stdin=b"deploy\n", env=WHO)
    sh(work, "push", "--porcelain", "origin", f"{commit}:refs/heads/main")
    sh(work, "update-ref", "refs/remotes/origin/main", commit)
    return commit


def gitpython_manifest(repo: object, parent: str, n: int) -> str:
    """GitWriter.commit + push now."""
    files = {"k8s/prod/values.yaml": f"image: v{n}\n".encode()}
    commit = commit_files(repo, parent, files, "deploy\n", ("g", "g@x"))  # type: ignore[arg-type]
    assert push_commit(repo, "origin", commit, "refs/heads/main").status == "pushed"  # type: ignore[arg-type]
    set_ref(repo, "refs/remotes/origin/main", commit)  # type: ignore[arg-type]
    return commit


def alternate(
    work: Path, ref: str, repeat: int, ways: dict[str, Callable[[str, int], str]]
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in ways}
    parent = sh(work, "rev-parse", ref)
    n = 0
    for _ in range(repeat):
        for name, way in ways.items():
            n += 1
            start = time.perf_counter()
            parent = way(parent, n)
            times[name].append(time.perf_counter() - start)
    return times


def whole_process(code: str, repeat: int, cwd: Path) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=cwd, env=ENV, check=True)
        out.append(time.perf_counter() - start)
    return out


def show(title: str, times: dict[str, list[float]]) -> None:
    print(title)
    medians = {k: statistics.median(v) * 1000 for k, v in times.items()}
    for name, values in times.items():
        low = min(values) * 1000
        print(f"  {name:28s} median {medians[name]:7.1f} ms   best {low:7.1f} ms")
    first, *others = list(medians)
    for name in others:
        print(f"  ratio {name} / {first}: {medians[name] / medians[first]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--files", type=int, default=3000)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="gitops-bench-write-"))
    try:
        bare, work = setup(base, args.files)
        repo = open_repo(work)
        state = alternate(
            work,
            "main",  # where gitops/state starts
            args.repeat,
            {
                "plumbing (6 processes)": lambda p, n: plumbing_state(work, p, n),
                "GitPython (1 process)": lambda p, n: gitpython_state(repo, p, n),
            },
        )
        show(f"state store write: commit + push ({args.repeat} each)", state)
        manifest = alternate(
            work,
            "main",
            args.repeat,
            {
                "plumbing (8 processes)": lambda p, n: plumbing_manifest(work, p, n),
                "GitPython (1 process)": lambda p, n: gitpython_manifest(repo, p, n),
            },
        )
        show(f"manifest commit + push, {args.files + 6} files in the tree", manifest)
        repeat = max(5, args.repeat // 3)
        show(
            f"whole process ({repeat} each): python -c ...",
            {
                "pass": whole_process("pass", repeat, work),
                "import git": whole_process("import git", repeat, work),
            },
        )
        tags = iter(range(10**6))

        def tag_push(code: str) -> str:
            name = f"churn@v0.0.{next(tags)}"
            sh(work, "tag", "-a", "-m", "bench", name, "main", env=WHO)
            return code.replace("TAG", name)

        # each imports the registry's write module first: the difference is the push alone
        ways = {
            "run_git push (before)": "from pathlib import Path; from gitops.registry import "
            "write, git; git.run_git(Path('.'), 'push', '--no-verify', 'origin', 'refs/tags/TAG')",
            "push_plain (now)": "from gitops.registry import write; write.push_tags('.', ['TAG'])",
            "GitPython push": "from gitops.registry import write; from gitops import gitpush, "
            "gitcommit; gitpush.push(gitcommit.open_repo(gitcommit.Path('.')), 'origin', "
            "[('refs/tags/TAG', 'refs/tags/TAG')], no_verify=True)",
        }
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(repeat):
            for name, code in ways.items():
                times[name] += whole_process(tag_push(code), 1, work)
        show("whole process: import the write module, push one new tag", times)
        print(f"remote now has {len(sh(bare, 'tag', '-l').splitlines())} tags")
    finally:
        shutil.rmtree(base)


if __name__ == "__main__":
    main()
