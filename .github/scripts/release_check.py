#!/usr/bin/env python3
"""Checks a release must pass, run by .github/workflows/release.yml and by .ci/run alike.

    release_check.py versions [--tag vX.Y.Z] [--repository OWNER/NAME]
        The tag is v + gitops.__version__, and every file that pins a released artifact names
        this version: image/action.yml (the prebuilt image the action runs), dvc/action.yml
        and dvc/Dockerfile (the image with DVC and its base), the GitLab
        component's default image, the README's "Use it" lines and any release pinned in the
        ready-to-copy workflows/.
    release_check.py dist DIR [--tag vX.Y.Z]
        DIR holds exactly the wheel and sdist of this version, with the right metadata and
        files; the wheel installed into a fresh virtualenv answers `gitops --version` with this
        version and runs `gitops demo`.

Standard library only: the release job runs it on a bare runner Python before anything is
installed. Each problem is one line on stderr; the exit code is 1 when there was any.
"""

from __future__ import annotations

import argparse
import ast
import email.parser
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST_NAME = "gitops-ml"  # on PyPI; the import package and the command are `gitops`
PLACEHOLDER_REPOSITORY = "gitops-ml/gitops"
ENTRY_POINT = "gitops = gitops.cli:run"
SDIST_TOP_LEVEL = {
    "PKG-INFO",
    "README.md",
    "LICENSE",
    "MANIFEST.in",
    "pyproject.toml",
    "setup.cfg",
    "gitops",
    "gitops_ml.egg-info",
}
VERSION_TAG = re.compile(r"v(\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?)")


def package_version(root: Path = ROOT) -> str:
    """``__version__`` from gitops/__init__.py, read without importing the package."""
    tree = ast.parse((root / "gitops" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["__version__"]
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise SystemExit("gitops/__init__.py has no literal __version__ = '...'")


def check_tag(tag: str, version: str) -> list[str]:
    m = VERSION_TAG.fullmatch(tag)
    if not m:
        return [f"tag {tag!r} is not a release tag vX.Y.Z (or vX.Y.ZrcN)"]
    if m[1] != version:
        return [f"tag {tag} does not match gitops.__version__ {version!r} (gitops/__init__.py)"]
    return []


def check_pins(root: Path, version: str, repository: str) -> list[str]:
    """Every file that names a released artifact names this version."""
    problems = []
    image = f"ghcr.io/{repository.lower()}"
    want = f"docker://{image}:v{version}"
    action = root / "image" / "action.yml"
    found = re.findall(r"^\s+image:\s*[\"']?([^\"'\s]+)", action.read_text(encoding="utf-8"), re.M)
    if found != [want]:
        problems.append(f"image/action.yml runs {found or 'no image'}, expected {want}")
    dvc_action = root / "dvc" / "action.yml"
    found = re.findall(
        r"^\s+image:\s*[\"']?([^\"'\s]+)", dvc_action.read_text(encoding="utf-8"), re.M
    )
    if found != [f"{want}-dvc"]:
        problems.append(f"dvc/action.yml runs {found or 'no image'}, expected {want}-dvc")
    base = re.findall(r"^ARG BASE=(\S+)$", (root / "dvc" / "Dockerfile").read_text(), re.M)
    if base != [f"{image}:v{version}"]:
        problems.append(
            f"dvc/Dockerfile builds on {base or 'no BASE'}, expected {image}:v{version}"
        )

    component = root / "templates" / "gitops.yml"
    for line_no, line in enumerate(component.read_text(encoding="utf-8").splitlines(), 1):
        for ref in re.findall(r"ghcr\.io/[\w./-]+(?::[\w.-]+)?", line):
            if ref != f"{image}:v{version}":
                problems.append(
                    f"templates/gitops.yml:{line_no}: {ref}, expected {image}:v{version}"
                )

    # The README and the ready-to-copy workflows: `gitops-ml==X.Y.Z`, `.../gitops@vX.Y.Z`,
    # `.../gitops/image@vX.Y.Z`, `ghcr.io/...:vX.Y.Z` (a bare `@v1` placeholder is no pin).
    for path in [root / "README.md", *sorted((root / "workflows").glob("*.yml"))]:
        text = path.read_text(encoding="utf-8")
        pins = re.findall(rf"{re.escape(DIST_NAME)}==([\w.]+)", text)
        pins += re.findall(r"[\w-]+/gitops(?:/[\w-]+)?@v(\d+\.\d+\.\d+[\w.]*)", text)
        pins += re.findall(r"ghcr\.io/[\w./-]+:v(\d+\.\d+\.\d+[\w.]*)", text)
        rel = path.relative_to(root)
        if path.name == "README.md" and not pins:
            problems.append(f"{rel} pins no release (pip install gitops-ml==..., ...@vX.Y.Z)")
        for pin in pins:
            if pin != version:
                problems.append(f"{rel} pins version {pin}, expected {version}")
    return problems


def _wheel_problems(wheel: Path, version: str) -> list[str]:
    problems = []
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        info = f"gitops_ml-{version}.dist-info"
        meta = email.parser.Parser().parsestr(zf.read(f"{info}/METADATA").decode())
        entry_points = zf.read(f"{info}/entry_points.txt").decode()
    if meta["Name"] != DIST_NAME or meta["Version"] != version:
        problems.append(f"{wheel.name}: METADATA says {meta['Name']} {meta['Version']}")
    if not meta["Requires-Python"] or meta["License-Expression"] != "Apache-2.0":
        problems.append(f"{wheel.name}: no Requires-Python or License-Expression Apache-2.0")
    readme = str(meta.get_payload())
    if not str(meta["Description-Content-Type"]).startswith("text/markdown") or (
        "## Use it" not in readme
    ):
        problems.append(f"{wheel.name}: the README is not the long description")
    if ENTRY_POINT not in [line.strip() for line in entry_points.splitlines()]:
        problems.append(f"{wheel.name}: no console script `{ENTRY_POINT}`")
    tops = {n.split("/", 1)[0] for n in names}
    if tops != {"gitops", info}:
        problems.append(f"{wheel.name}: unexpected top-level entries {sorted(tops)}")
    for needed in ("gitops/__init__.py", "gitops/py.typed", "gitops/cli.py"):
        if needed not in names:
            problems.append(f"{wheel.name}: missing {needed}")
    if not any(n.startswith(f"{info}/licenses/LICENSE") for n in names):
        problems.append(f"{wheel.name}: the LICENSE file is not in the wheel")
    return problems


def _sdist_problems(sdist: Path, version: str) -> list[str]:
    base = f"gitops_ml-{version}"
    with tarfile.open(sdist) as tf:
        names = set(tf.getnames())
        pkg_info = tf.extractfile(f"{base}/PKG-INFO")
        meta = email.parser.Parser().parsestr(pkg_info.read().decode()) if pkg_info else None
    problems = []
    if meta is None or meta["Name"] != DIST_NAME or meta["Version"] != version:
        problems.append(f"{sdist.name}: PKG-INFO does not say {DIST_NAME} {version}")
    for needed in ("pyproject.toml", "README.md", "LICENSE", "gitops/__init__.py"):
        if f"{base}/{needed}" not in names:
            problems.append(f"{sdist.name}: missing {needed}")
    tops = {n.split("/")[1] for n in names if n.count("/") >= 1 and n.split("/")[1]}
    extra = tops - SDIST_TOP_LEVEL
    if extra:
        problems.append(f"{sdist.name}: unexpected entries {sorted(extra)} (MANIFEST.in)")
    return problems


def _installed_problems(wheel: Path, version: str) -> list[str]:
    """Install the wheel into a fresh virtualenv and run it where no source tree is near."""
    with tempfile.TemporaryDirectory(prefix="gitops-wheel-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        install = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
        if install.returncode != 0:
            return [f"pip install {wheel.name} failed:\n{install.stdout}{install.stderr}"]
        gitops = str(venv / "bin" / "gitops")
        problems = []
        out = subprocess.run(
            [gitops, "--version"], capture_output=True, text=True, cwd=tmp, timeout=60, env=env
        )
        if out.returncode != 0 or out.stdout.strip() != f"gitops {version}":
            problems.append(f"`gitops --version` said {out.stdout.strip()!r}{out.stderr}")
        else:
            print(f"installed wheel: {out.stdout.strip()}")
        demo = subprocess.run(
            [gitops, "demo"], capture_output=True, text=True, cwd=tmp, timeout=300, env=env
        )
        if demo.returncode != 0 or "churn" not in demo.stdout:
            problems.append(f"`gitops demo` failed ({demo.returncode}):\n{demo.stderr[-2000:]}")
        else:
            print("installed wheel: `gitops demo` ran")
        return problems


def check_dist(dist: Path, version: str) -> list[str]:
    wheels = sorted(dist.glob("*.whl"))
    sdists = sorted(dist.glob("*.tar.gz"))
    expected = [f"gitops_ml-{version}-py3-none-any.whl"], [f"gitops_ml-{version}.tar.gz"]
    if ([w.name for w in wheels], [s.name for s in sdists]) != expected:
        return [f"{dist} holds {[p.name for p in wheels + sdists]}, expected {expected}"]
    problems = _wheel_problems(wheels[0], version) + _sdist_problems(sdists[0], version)
    return problems or _installed_problems(wheels[0], version)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    sub = parser.add_subparsers(dest="check", required=True)
    p = sub.add_parser("versions", help="the tag and every pinned version agree")
    p.add_argument("--tag", help="the release tag, e.g. v0.1.0")
    p.add_argument("--repository", default=PLACEHOLDER_REPOSITORY, help="OWNER/NAME on GitHub")
    p.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    p = sub.add_parser("dist", help="the built wheel and sdist, and the wheel installed")
    p.add_argument("dir", type=Path)
    p.add_argument("--tag", help="the release tag, e.g. v0.1.0")
    args = parser.parse_args(argv)

    root: Path = getattr(args, "root", ROOT)
    version = package_version(root)
    problems = check_tag(args.tag, version) if args.tag else []
    if args.check == "versions":
        problems += check_pins(root, version, args.repository)
    else:
        problems += check_dist(args.dir, version)
    for problem in problems:
        print(f"release check: {problem}", file=sys.stderr)
    if not problems:
        print(f"release check {args.check}: {DIST_NAME} {version} ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
